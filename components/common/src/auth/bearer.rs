//! API tokens as credentials (`Authorization: Bearer <secret>`): the secret's row in
//! `api_tokens` (migration 0013), found by the secret's SHA-256, and what it lets through.
//! The tokens themselves are made, listed and revoked by the tokens component.

use sha2::{Digest, Sha256};

use crate::{db::Db, error::ApiError, hex, params, random};

use super::digest::constant_time_eq;
use super::scopes::{self, Scope};

/// The start of every secret, so that secret scanners and readers of a log can tell one.
pub const SECRET_PREFIX: &str = "xivo_";

/// `last_used_at` is written at most this often, so that a busy token does not write on
/// every read.
const LAST_USED_EVERY_SECS: i64 = 60;

/// A token found for a secret, still good.
pub struct Granted {
    pub id: i64,
    /// As stored: space-separated.
    pub scopes: String,
    /// Unix seconds; `None`: never.
    pub expires_at: Option<i64>,
}

impl Granted {
    /// The token's scopes; a stored scope that no longer parses grants nothing.
    pub fn scopes(&self) -> Vec<Scope<'_>> {
        scopes::parse_all(self.scopes.split(' ')).unwrap_or_default()
    }

    /// Let a request through if the token's scopes cover all it `needs`
    /// ([`scopes::needed`]), or 403 naming the first they do not.
    pub fn allow(&self, needs: &[Scope]) -> Result<(), ApiError> {
        match scopes::uncovered(&self.scopes(), needs).first() {
            None => Ok(()),
            Some(missing) => Err(ApiError::Forbidden(vec![format!(
                "This token's scopes do not allow {missing}"
            )])),
        }
    }
}

/// The secret of an `Authorization: Bearer <secret>` header (the scheme in any case).
pub fn secret_of(authorization: &str) -> Option<&str> {
    let (scheme, secret) = authorization.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| secret.trim())
}

/// A new secret: 256 random bits in hex, after [`SECRET_PREFIX`].
pub fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", random::hex(32))
}

/// What is stored of a secret: its SHA-256, in hex.
pub fn hash(secret: &str) -> String {
    hex::encode(&Sha256::digest(secret.as_bytes()))
}

/// The token of `secret`, unless there is none (never made, or revoked) or it expired.
/// Marks it used (at most once a minute; a failure to is no refusal).
pub fn find(db: &Db, secret: &str, now: i64) -> Result<Option<Granted>, ApiError> {
    let hashed = hash(secret);
    let rows = db.query(
        "SELECT id, scopes, secret_hash, expires_at, last_used_at FROM api_tokens \
         WHERE secret_hash = ?",
        &params![hashed],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    // The row was found by the hash; the comparison in constant time holds even if an index
    // compared otherwise.
    if !constant_time_eq(row.text("secret_hash")?.as_bytes(), hashed.as_bytes()) {
        return Ok(None);
    }
    let expires_at = row.opt_int("expires_at")?;
    if expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    let id = row.int("id")?;
    if row
        .opt_int("last_used_at")?
        .is_none_or(|at| at <= now - LAST_USED_EVERY_SECS)
    {
        let _ = db.write(
            "UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
            &params![now, id],
        );
    }
    Ok(Some(Granted {
        id,
        scopes: row.text("scopes")?,
        expires_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_of_a_bearer_header() {
        assert_eq!(secret_of("Bearer xivo_ab"), Some("xivo_ab"));
        assert_eq!(secret_of("bearer  xivo_ab "), Some("xivo_ab"));
        assert_eq!(secret_of("Digest username=\"a\""), None);
        assert_eq!(secret_of("Bearer"), None);
    }

    #[test]
    fn a_token_allows_what_its_scopes_cover() {
        let token = Granted {
            id: 1,
            scopes: "users:read campaigns:*".into(),
            expires_at: None,
        };
        let scope = |t| Scope::parse(t).unwrap();
        assert!(token.allow(&[scope("users:read")]).is_ok());
        assert!(token.allow(&[scope("campaigns:write")]).is_ok());
        let refused = token.allow(&[scope("users:write")]).unwrap_err();
        assert_eq!(refused.status(), 403);
        assert_eq!(
            refused.messages().unwrap(),
            ["This token's scopes do not allow users:write"]
        );
        let hook = Granted {
            id: 1,
            scopes: "webhooks:*".into(),
            expires_at: None,
        };
        assert!(hook.allow(&[scope("webhooks:read")]).is_ok());
        assert_eq!(
            hook.allow(&[scope("webhooks:write"), scope("*:read")])
                .unwrap_err()
                .messages()
                .unwrap(),
            ["This token's scopes do not allow *:read"]
        );
        let broken = Granted {
            id: 1,
            scopes: "users:read bogus".into(),
            expires_at: None,
        };
        assert!(broken.allow(&[scope("users:read")]).is_err());
    }

    #[test]
    fn secrets_are_stored_as_their_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
