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

/// Where a subject stands: locked out (for how long), or failing lately (failures in its
/// window, or lockouts not yet forgotten: then its attempts are counted before they are
/// judged).
#[derive(Clone, Copy, Debug, Default)]
struct Standing {
    wait: Option<i64>,
    failing: bool,
}

/// Where `address`, and the account's subject when given, stand: one statement.
fn standing(
    db: &Db,
    address: &str,
    login: Option<&str>,
    limits: (&Limits, &Limits),
    now: i64,
) -> Result<(Standing, Standing), ApiError> {
    let rows = db.query(
        "SELECT subject, since, strikes, blocked_until FROM auth_failures \
         WHERE subject IN (?, ?)",
        &params![address, login],
    )?;
    let mut found = (Standing::default(), Standing::default());
    for row in rows.iter() {
        let blocked_until = row.int("blocked_until")?;
        let (standing, window) = if row.text("subject")? == address {
            (&mut found.0, limits.0.window_secs)
        } else {
            (&mut found.1, limits.1.window_secs)
        };
        standing.wait = (blocked_until > now).then(|| blocked_until - now);
        // In a window of failures, or locked out before (until a quiet day forgets it).
        standing.failing = row.int("since")? > now - window || row.int("strikes")? > 0;
    }
    Ok(found)
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
           strikes = CASE WHEN since < ?4 AND blocked_until < ?2 THEN 0 ELSE strikes END, \
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

/// One request's dealings with the throttle: [`Guard::check`] before its credentials are
/// judged, then [`Guard::failed`] or [`Guard::passed`].
///
/// A subject that failed lately has each attempt counted before it is judged, and forgiven
/// if it passes: so guesses sent all at once are judged no more than the limit allows. A
/// subject with no recent failure is judged first and counted after (nothing to write for a
/// client that gets its password right); only an address's first burst can outrun its
/// count, once a day at most.
pub struct Guard<'a> {
    db: &'a Db,
    address: &'a str,
    /// The account's subject ([`login_subject`]), and its login if it exists.
    login: Option<(String, Option<&'a str>)>,
    counted: (bool, bool),
    now: i64,
}

impl<'a> Guard<'a> {
    /// 429 if the address is locked out, or the account is, to an address it never
    /// authenticated from; else the guard, with the attempt counted if its subject is failing.
    /// `login`: the login a Digest answer names, and whether such an account exists.
    pub fn check(
        db: &'a Db,
        address: &'a str,
        login: Option<(&'a str, bool)>,
        now: i64,
    ) -> Result<Self, ApiError> {
        let login = login.map(|(name, exists)| {
            let subject = if exists {
                login_subject(name)
            } else {
                UNKNOWN_LOGINS.to_string()
            };
            (subject, exists.then_some(name))
        });
        let subject = login.as_ref().map(|(s, _)| s.as_str());
        let limits = (&PER_ADDRESS, &PER_LOGIN);
        let (by_address, by_login) = standing(db, address, subject, limits, now)?;
        let mut guard = Self {
            db,
            address,
            login,
            counted: (false, false),
            now,
        };
        if let Some(wait) = by_address.wait {
            return Err(too_many(wait, Throttled::Address));
        }
        if let Some(wait) = by_login.wait {
            guard.refuse_login(wait)?;
        }
        guard.count(by_address.failing, by_login.failing)?;
        Ok(guard)
    }

    /// The credentials were wrong: count what was not counted yet; 429 if that locks out.
    pub fn failed(mut self) -> Result<(), ApiError> {
        let (address, login) = self.counted;
        self.count(!address, !login)
    }

    /// The credentials were right: forgive what was counted before judging.
    pub fn passed(self) {
        if self.counted.0 {
            forgive(self.db, self.address);
        }
        if let (true, Some((subject, _))) = (self.counted.1, &self.login) {
            forgive(self.db, subject);
        }
    }

    /// The account this request authenticates as, when it exists.
    pub fn account(&self) -> Option<&'a str> {
        self.login.as_ref().and_then(|(_, name)| *name)
    }

    fn count(&mut self, address: bool, login: bool) -> Result<(), ApiError> {
        if address {
            self.counted.0 = true;
            if let Some(wait) = record_failure(self.db, self.address, &PER_ADDRESS, self.now)? {
                return Err(too_many(wait, Throttled::Address));
            }
        }
        if let (true, Some((subject, _))) = (login, &self.login) {
            self.counted.1 = true;
            if let Some(wait) = record_failure(self.db, subject, &PER_LOGIN, self.now)? {
                self.refuse_login(wait)?;
            }
        }
        Ok(())
    }

    /// 429 for a locked account, unless this address authenticated as it before.
    fn refuse_login(&self, wait: i64) -> Result<(), ApiError> {
        match self.account() {
            Some(name) if is_known(self.db, name, self.address)? => Ok(()),
            _ => Err(too_many(wait, Throttled::Login)),
        }
    }
}

/// The one subject of every login no account has: they count, and lock out, together, as
/// a real account would (so that neither the answers nor their timing tell whether an account
/// exists), and made-up logins cannot fill the table. No address or `login:` subject is so.
const UNKNOWN_LOGINS: &str = "unknown logins";

/// Take back one failure counted before an attempt that passed. A failure here is left: the
/// count is a little high for a window.
fn forgive(db: &Db, subject: &str) {
    let _ = db.write(
        "UPDATE auth_failures SET failures = MAX(failures - 1, 0) WHERE subject = ?",
        &params![subject],
    );
}

/// The subject of a client address, as Spin writes it (`ip:port`, `[v6]:port`): an IPv4
/// address, or an IPv6 address's /64, which one client usually holds whole (so a guesser
/// cannot rotate through its addresses). The text as sent if it does not parse.
pub fn address_subject(client: Option<std::net::IpAddr>, as_sent: &str) -> String {
    match client {
        Some(std::net::IpAddr::V4(v4)) => {
            let [a, b, c, d] = v4.octets();
            format!("{a}.{b}.{c}.{d}")
        }
        Some(std::net::IpAddr::V6(v6)) => {
            let g = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", g[0], g[1], g[2], g[3])
        }
        None => as_sent.to_string(),
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
