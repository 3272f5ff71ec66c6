//! The nonces' uses, kept in the database so that a count is never accepted twice on any
//! instance, and the secret that signs them.

use crate::{db::Db, error::ApiError, params, random};

use super::digest::{make_nonce, NonceUse};
use super::policy::variable;

/// Random bytes in every nonce, so that two challenges in the same second differ and two
/// clients never share a nonce's count.
const NONCE_RANDOM_BYTES: usize = 16;

/// A used nonce's row is kept this long after the nonce expires, so that a clock set back a
/// little cannot bring a forgotten nonce back to life (the check also tolerates nonces up to
/// 60 s in the future).
const FORGET_AFTER_SECS: u64 = 60;

/// The expired rows [`record_use`] lets pile up before it deletes them...
const CLEANUP_WHEN: i64 = 64;

/// ... and how many it deletes at most, in one statement.
const CLEANUP_BATCH: i64 = 256;

/// Keep `used.nc` as the nonce's highest count if it is above the one kept (or the nonce is
/// new): `true`; a count not above it is a replay: `false`. One statement, an upsert whose
/// `WHERE` makes it change nothing, and return no row, for a replay, so that of two requests
/// racing with one count only one passes. It also counts (up to [`CLEANUP_WHEN`]) the rows
/// whose nonce expired a while ago, from an index; when there are that many, one more
/// statement deletes up to [`CLEANUP_BATCH`] of them: a new nonce per request (`curl
/// --digest`) pays for that once in [`CLEANUP_WHEN`] requests.
pub fn record_use(db: &Db, used: &NonceUse, now: u64) -> Result<bool, ApiError> {
    let forgotten_before = i64::try_from(now.saturating_sub(FORGET_AFTER_SECS)).unwrap_or(0);
    let rows = db.write(
        "INSERT INTO digest_nonces (nonce, nc, expires) VALUES (?, ?, ?) \
         ON CONFLICT (nonce) DO UPDATE SET nc = excluded.nc WHERE excluded.nc > digest_nonces.nc \
         RETURNING (SELECT COUNT(*) FROM (SELECT 1 FROM digest_nonces WHERE expires < ? LIMIT ?)) \
         AS expired",
        &params![
            used.nonce,
            used.nc,
            used.expires,
            forgotten_before,
            CLEANUP_WHEN
        ],
    )?;
    let Some(row) = rows.first() else {
        return Ok(false);
    };
    if row.int("expired")? >= CLEANUP_WHEN {
        // The request passes whatever happens here: the next one tries again.
        let _ = db.write(
            "DELETE FROM digest_nonces WHERE nonce IN \
             (SELECT nonce FROM digest_nonces WHERE expires < ? LIMIT ?)",
            &params![forgotten_before, CLEANUP_BATCH],
        );
    }
    Ok(true)
}

/// The server's nonce secret: the `auth_nonce_secret` variable, or one generated once and kept
/// in the database (two components generating at once: the first insert wins, both read it).
pub(super) fn nonce_secret<'a>(
    db: impl Fn() -> Result<&'a Db, ApiError>,
) -> Result<Vec<u8>, ApiError> {
    if let Some(secret) = variable("auth_nonce_secret").filter(|s| !s.is_empty()) {
        return Ok(secret.into_bytes());
    }
    let db = db()?;
    let stored = || -> Result<Option<Vec<u8>>, ApiError> {
        let rows = db.query(
            "SELECT value FROM settings WHERE name = 'auth_nonce_secret'",
            &[],
        )?;
        Ok(match rows.first() {
            Some(row) => Some(row.text("value")?.into_bytes()),
            None => None,
        })
    };
    if let Some(secret) = stored()? {
        return Ok(secret);
    }
    let fresh = random::hex(32);
    db.write(
        "INSERT OR IGNORE INTO settings (name, value) VALUES ('auth_nonce_secret', ?)",
        &params![fresh],
    )?;
    stored()?.ok_or_else(|| ApiError::internal("no nonce secret"))
}

/// A new nonce, issued `now`.
pub(super) fn new_nonce(secret: &[u8], now: u64) -> String {
    make_nonce(secret, now, &random::hex(NONCE_RANDOM_BYTES as u64))
}
