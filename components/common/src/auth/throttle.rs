//! Password guessing slowed down: failed authentications counted per client address, in the
//! database, so that every instance sees the same counts.
//!
//! Past [`LIMIT`] failures within [`WINDOW_SECS`], the address is locked out: every request
//! it makes with credentials is answered 429 with `Retry-After`, the right password included,
//! until the lockout is over. Each lockout lasts twice the one before ([`FIRST_LOCKOUT_SECS`],
//! at most [`MAX_LOCKOUT_SECS`]); a day without failure forgets them. Trusted clients (loopback
//! when trusted, allowed hosts) never reach this file. So 300 guesses at once from one address
//! are 10 judged and 290 refused, and a guesser gets ten tries a minute at first, then fewer.

use crate::{db::Db, error::ApiError, params};

/// Failures an address may make within a window before it is locked out.
pub const LIMIT: i64 = 10;
/// The window failures are counted in, from the first of them.
pub const WINDOW_SECS: i64 = 60;
/// The first lockout; each next one lasts twice as long...
pub const FIRST_LOCKOUT_SECS: i64 = 60;
/// ... up to this.
pub const MAX_LOCKOUT_SECS: i64 = 3600;
/// A row untouched this long goes (its strikes forgotten), a batch at a time.
const FORGET_AFTER_SECS: i64 = 86_400;
/// The quiet rows a failure lets pile up before it deletes some...
const CLEANUP_WHEN: i64 = 64;
/// ... and how many it deletes at most, in one statement.
const CLEANUP_BATCH: i64 = 256;

/// How long `address` is still locked out, in seconds, if it is.
pub fn locked_out(db: &Db, address: &str, now: i64) -> Result<Option<i64>, ApiError> {
    let rows = db.query(
        "SELECT blocked_until FROM auth_failures WHERE address = ?",
        &params![address],
    )?;
    let until = match rows.first() {
        Some(row) => row.int("blocked_until")?,
        None => 0,
    };
    Ok((until > now).then_some(until - now))
}

/// Count a failure of `address`, in one statement (an upsert: two instances counting at once
/// both count); past [`LIMIT`] in the window, lock it out. How long it is now locked out, if
/// it is. The same statement counts (up to [`CLEANUP_WHEN`]) the rows quiet for a day; when
/// there are that many, one more deletes a batch of them, so that a flood of addresses leaves
/// the table small.
pub fn record_failure(db: &Db, address: &str, now: i64) -> Result<Option<i64>, ApiError> {
    let rows = db.write(
        "INSERT INTO auth_failures (address, since, failures) VALUES (?1, ?2, 1) \
         ON CONFLICT (address) DO UPDATE SET \
           failures = CASE WHEN since <= ?2 - ?3 THEN 1 ELSE failures + 1 END, \
           since = CASE WHEN since <= ?2 - ?3 THEN ?2 ELSE since END \
         RETURNING failures, strikes, blocked_until, (SELECT COUNT(*) FROM \
           (SELECT 1 FROM auth_failures WHERE since < ?4 AND blocked_until < ?2 LIMIT ?5)) \
           AS quiet",
        &params![
            address,
            now,
            WINDOW_SECS,
            now - FORGET_AFTER_SECS,
            CLEANUP_WHEN
        ],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| ApiError::internal("a failure was not counted"))?;
    if row.int("quiet")? >= CLEANUP_WHEN {
        forget_quiet(db, now);
    }
    let (failures, strikes) = (row.int("failures")?, row.int("strikes")?);
    let blocked_until = row.int("blocked_until")?;
    if blocked_until > now {
        return Ok(Some(blocked_until - now));
    }
    if failures <= LIMIT {
        return Ok(None);
    }
    let lockout = lockout_secs(strikes);
    db.write(
        "UPDATE auth_failures SET strikes = strikes + 1, blocked_until = ?, failures = 0, \
         since = ? WHERE address = ?",
        &params![now + lockout, now, address],
    )?;
    Ok(Some(lockout))
}

/// The lockout after `strikes` earlier ones.
pub fn lockout_secs(strikes: i64) -> i64 {
    let doubled = FIRST_LOCKOUT_SECS.saturating_mul(1i64 << strikes.clamp(0, 20));
    doubled.min(MAX_LOCKOUT_SECS)
}

/// Delete a batch of rows quiet for a day. A failure here is left for the next failure.
fn forget_quiet(db: &Db, now: i64) {
    let _ = db.write(
        "DELETE FROM auth_failures WHERE address IN (SELECT address FROM auth_failures \
         WHERE since < ? AND blocked_until < ? LIMIT ?)",
        &params![now - FORGET_AFTER_SECS, now, CLEANUP_BATCH],
    );
}

/// 429 with `Retry-After`.
pub fn too_many(retry_after: i64) -> ApiError {
    ApiError::TooManyRequests(u64::try_from(retry_after.max(1)).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_up_to_an_hour() {
        assert_eq!(lockout_secs(0), 60);
        assert_eq!(lockout_secs(1), 120);
        assert_eq!(lockout_secs(5), 1920);
        assert_eq!(lockout_secs(6), 3600);
        assert_eq!(lockout_secs(1000), 3600);
        assert_eq!(lockout_secs(-3), 60);
    }
}
