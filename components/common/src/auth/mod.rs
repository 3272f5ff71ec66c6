//! Who may call the API (API.md, "Authentication"): loopback clients freely (the seed's port
//! 50050), clients from allowed hosts freely, everyone else with HTTP Digest (RFC 7616; realm
//! `XivoRealm`, `qop="auth"`, SHA-256 and MD5).
//!
//! Configuration is Spin variables, not code: `auth_trust_loopback` (`false` behind a proxy,
//! where every client looks local), `auth_allowed_hosts` (IPs or CIDR ranges, comma-separated),
//! `auth_accounts` (`login:password` pairs, comma-separated; secret) and `auth_nonce_secret`
//! (optional; without it the app generates a secret once and keeps it in the database).
//!
//! A nonce is a timestamp and random bytes, signed with HMAC-SHA256, valid for five minutes,
//! after which a correct answer gets a new challenge with `stale=true`. Each nonce's count
//! (`nc`) must grow: the highest count accepted for a nonce is kept in `digest_nonces`, one
//! statement per authenticated request ([`record_use`]), and a request that repeats a count,
//! or sends one not above the last accepted, is a replay: 401, `stale=true` (the credentials
//! were right, only the nonce's use was not). Rows go some time after their nonce expires, a
//! batch at a time. Digest protects the password, not the request: use HTTPS (the seed's port
//! 50051) for remote clients. Nothing here logs a password or a digest response.
//!
//! The configuration ([`policy`]), the Digest exchange ([`digest`]) and the nonces' uses
//! ([`nonces`]) are a file each; [`admit`] is what a component's `Service` takes.

use std::cell::OnceCell;

use crate::{
    clock,
    db::{self, Db},
    error::ApiError,
    http::Request,
};

mod digest;
mod nonces;
mod policy;

pub use digest::Credentials;

use digest::{challenges, check_digest, Verdict};
use nonces::{new_nonce, nonce_secret, record_use};
use policy::{parse_accounts, parse_client_addr, parse_hosts, truthy, variable, Policy};

/// A request of the API let through, or refused (401): [`authorize`] with what the request
/// brings; `uri` is the request target as sent.
pub fn admit(request: &Request, uri: &str) -> Result<(), ApiError> {
    authorize(&Credentials {
        client_addr: request.header("spin-client-addr"),
        method: &request.method.to_string(),
        uri,
        authorization: request.header("authorization"),
    })
}

/// Let the request through, or answer 401 with fresh challenges. A trusted loopback client
/// costs one variable lookup; the accounts and the nonce secret are read only when needed.
pub fn authorize(request: &Credentials) -> Result<(), ApiError> {
    let client = request.client_addr.and_then(parse_client_addr);
    let trust_loopback = variable("auth_trust_loopback").is_none_or(|v| truthy(&v));
    if trust_loopback && client.is_some_and(|ip| ip.is_loopback()) {
        return Ok(());
    }
    let policy = Policy {
        trust_loopback,
        allowed_hosts: variable("auth_allowed_hosts")
            .map(|v| parse_hosts(&v))
            .unwrap_or_default(),
        accounts: variable("auth_accounts")
            .map(|v| parse_accounts(&v))
            .unwrap_or_default(),
    };
    if policy.trusts(client) {
        return Ok(());
    }
    // Opened when first needed: a wrong answer, with the secret configured, never opens it.
    let cell = OnceCell::new();
    let db = || -> Result<&Db, ApiError> {
        if let Some(db) = cell.get() {
            return Ok(db);
        }
        let opened = db::open()?;
        Ok(cell.get_or_init(|| opened))
    };
    let secret = nonce_secret(db)?;
    let now = clock::unix_seconds();
    let refuse = |stale| {
        let nonce = new_nonce(&secret, now);
        Err(ApiError::Unauthorized(challenges(&nonce, stale)))
    };
    match check_digest(&policy, request, &secret, now) {
        Verdict::Pass(used) => {
            if record_use(db()?, &used, now)? {
                Ok(())
            } else {
                refuse(true)
            }
        }
        Verdict::Fail => refuse(false),
        Verdict::Stale => refuse(true),
    }
}
