//! Password guessing slowed down: failed authentications counted in the database, so that
//! every instance sees the same counts, per client address and per account.
//!
//! - **Per address** ([`PER_ADDRESS`]): past 10 failures within a minute, the address is
//!   locked out: every request it makes with credentials is answered 429 with `Retry-After`,
//!   the right password included, until the lockout is over. So 300 guesses at once from one
//!   address are 10 judged and 290 refused.
//! - **Per login** ([`PER_LOGIN`]), for a guesser with many addresses: past 100 failures of
//!   one account within an hour, the account is locked out for addresses it has never
//!   authenticated from ([`is_known`]); its own clients are judged as ever, so a guesser
//!   cannot lock an account's owner out. Only accounts that exist count (a made-up login
//!   cannot fill the table).
//!
//! Each lockout lasts twice the one before, up to a bound; a day without failure forgets them.
//! Trusted clients (loopback when trusted, allowed hosts) never reach this file.

use crate::{
    db::Db,
    error::{ApiError, Throttled},
    params,
};

/// How many failures a subject may make, and how long it is locked out for more.
pub struct Limits {
    /// Failures within a window before the subject is locked out...
    pub failures: i64,
    /// ... the window they are counted in, from the first of them.
    pub window_secs: i64,
    /// The first lockout; each next one lasts twice as long...
    pub first_lockout_secs: i64,
    /// ... up to this.
    pub max_lockout_secs: i64,
}

/// A client address: ten tries a minute, then a minute's lockout, up to an hour's.
pub const PER_ADDRESS: Limits = Limits {
    failures: 10,
    window_secs: 60,
    first_lockout_secs: 60,
    max_lockout_secs: 3600,
};

/// One account, from addresses it has not authenticated from: a hundred tries an hour, then
/// a quarter of an hour's lockout, up to a day's.
pub const PER_LOGIN: Limits = Limits {
    failures: 100,
    window_secs: 3600,
    first_lockout_secs: 900,
    max_lockout_secs: 86_400,
};

/// A row untouched this long goes (its strikes forgotten), a batch at a time.
const FORGET_AFTER_SECS: i64 = 86_400;
/// The quiet rows a failure lets pile up before it deletes some...
const CLEANUP_WHEN: i64 = 64;
/// ... and how many it deletes at most, in one statement.
const CLEANUP_BATCH: i64 = 256;

/// The subject that counts an account's failures (an address never starts so).
pub fn login_subject(login: &str) -> String {
    format!("login:{login}")
}

/// How long `address`, and the account's subject when given, are still locked out, in
/// seconds, if they are: one statement.
pub fn locked_out(
    db: &Db,
    address: &str,
    login: Option<&str>,
    now: i64,
) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let rows = db.query(
        "SELECT subject, blocked_until FROM auth_failures WHERE subject IN (?, ?) \
         AND blocked_until > ?",
        &params![address, login, now],
    )?;
    let mut waits = (None, None);
    for row in rows.iter() {
        let wait = Some(row.int("blocked_until")? - now);
        if row.text("subject")? == address {
            waits.0 = wait;
        } else {
            waits.1 = wait;
        }
    }
    Ok(waits)
}

/// Count a failure of `subject`, in one statement (an upsert: two instances counting at once
/// both count); past its limit in the window, lock it out. How long it is now locked out, if
/// it is. The same statement counts (up to [`CLEANUP_WHEN`]) the rows quiet for a day; when
/// there are that many, one more deletes a batch of them, so that a flood of addresses leaves
/// the table small.
pub fn record_failure(
    db: &Db,
    subject: &str,
    limits: &Limits,
    now: i64,
) -> Result<Option<i64>, ApiError> {
    let rows = db.write(
        "INSERT INTO auth_failures (subject, since, failures) VALUES (?1, ?2, 1) \
         ON CONFLICT (subject) DO UPDATE SET \
           failures = CASE WHEN since <= ?2 - ?3 THEN 1 ELSE failures + 1 END, \
           since = CASE WHEN since <= ?2 - ?3 THEN ?2 ELSE since END \
         RETURNING failures, strikes, blocked_until, (SELECT COUNT(*) FROM \
           (SELECT 1 FROM auth_failures WHERE since < ?4 AND blocked_until < ?2 LIMIT ?5)) \
           AS quiet",
        &params![
            subject,
            now,
            limits.window_secs,
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
    if failures <= limits.failures {
        return Ok(None);
    }
    let lockout = lockout_secs(limits, strikes);
    db.write(
        "UPDATE auth_failures SET strikes = strikes + 1, blocked_until = ?, failures = 0, \
         since = ? WHERE subject = ?",
        &params![now + lockout, now, subject],
    )?;
    Ok(Some(lockout))
}

/// The lockout after `strikes` earlier ones.
pub fn lockout_secs(limits: &Limits, strikes: i64) -> i64 {
    let doubled = limits
        .first_lockout_secs
        .saturating_mul(1i64 << strikes.clamp(0, 20));
    doubled.min(limits.max_lockout_secs)
}

/// Delete a batch of rows quiet for a day. A failure here is left for the next failure.
fn forget_quiet(db: &Db, now: i64) {
    let _ = db.write(
        "DELETE FROM auth_failures WHERE subject IN (SELECT subject FROM auth_failures \
         WHERE since < ? AND blocked_until < ? LIMIT ?)",
        &params![now - FORGET_AFTER_SECS, now, CLEANUP_BATCH],
    );
}

/// Has `login` authenticated from `address` before?
pub fn is_known(db: &Db, login: &str, address: &str) -> Result<bool, ApiError> {
    db.exists(
        "SELECT COUNT(*) FROM auth_known WHERE login = ? AND address = ?",
        &params![login, address],
    )
}

/// Remember that `login` authenticated from `address` (a read, and a write only the first
/// time). A failure here refuses nothing: the request was right.
pub fn remember(db: &Db, login: &str, address: &str, now: i64) {
    if let Ok(false) = is_known(db, login, address) {
        let _ = db.write(
            "INSERT OR IGNORE INTO auth_known (login, address, since) VALUES (?, ?, ?)",
            &params![login, address, now],
        );
    }
}

/// 429 with `Retry-After`, naming who is refused.
pub fn too_many(retry_after: i64, who: Throttled) -> ApiError {
    ApiError::TooManyRequests(u64::try_from(retry_after.max(1)).unwrap_or(1), who)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_up_to_their_bound() {
        assert_eq!(lockout_secs(&PER_ADDRESS, 0), 60);
        assert_eq!(lockout_secs(&PER_ADDRESS, 1), 120);
        assert_eq!(lockout_secs(&PER_ADDRESS, 5), 1920);
        assert_eq!(lockout_secs(&PER_ADDRESS, 6), 3600);
        assert_eq!(lockout_secs(&PER_ADDRESS, 1000), 3600);
        assert_eq!(lockout_secs(&PER_ADDRESS, -3), 60);
        assert_eq!(lockout_secs(&PER_LOGIN, 0), 900);
        assert_eq!(lockout_secs(&PER_LOGIN, 7), 86_400);
    }
}
