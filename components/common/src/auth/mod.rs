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
//! API tokens (`Authorization: Bearer <secret>`, made by the tokens component) are the other
//! credentials: a token found by its secret's hash ([`bearer`]) lets through what its scopes
//! cover ([`scopes`]), else 403. Failed authentications, of either kind, are counted per client
//! address, and per account for Digest ([`throttle`]): past ten a minute from an address, or a
//! hundred an hour at an account, 429 for a while.
//!
//! The configuration ([`policy`]), the Digest exchange ([`digest`]), the nonces' uses
//! ([`nonces`]), tokens ([`bearer`]), scopes ([`scopes`]) and the throttle ([`throttle`]) are a
//! file each; [`admit`] is what a component's `Service` takes.

use std::cell::OnceCell;

use crate::{
    clock,
    db::{self, Db},
    error::{ApiError, Throttled},
    http::Request,
};

pub mod bearer;
mod digest;
mod nonces;
mod policy;
pub mod scopes;
mod throttle;

pub use digest::Credentials;

use digest::{challenges, check_digest, login_of, Verdict, REALM};
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

/// Let the request through, or answer 401 with fresh challenges (403 for a token whose
/// scopes do not allow it, 429 for an address that failed too often). A trusted loopback
/// client costs one variable lookup; the accounts and the nonce secret are read only when
/// needed. A client that sends a token is held to it, trusted or not: what it sends is what
/// it gets (so a tool can try its token from the PBX itself).
pub fn authorize(request: &Credentials) -> Result<(), ApiError> {
    let client = request.client_addr.and_then(parse_client_addr);
    let trust_loopback = variable("auth_trust_loopback").is_none_or(|v| truthy(&v));
    let token = request.authorization.and_then(bearer::secret_of);
    if token.is_none() && trust_loopback && client.is_some_and(|ip| ip.is_loopback()) {
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
    let trusted = policy.trusts(client);
    if token.is_none() && trusted {
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
    let now = clock::unix_seconds();
    let seconds = i64::try_from(now).unwrap_or(i64::MAX);
    // Only a request with credentials counts, or is refused for its address's failures: the
    // first request of a Digest exchange carries none. Trusted clients never count.
    // As Spin wrote it, without the port: not `IpAddr`'s `Display` (IPv6's is 5 KB of code).
    let address = request
        .client_addr
        .map(|a| a.rsplit_once(':').map_or(a, |(host, _)| host))
        .unwrap_or_default();
    let counted = request.authorization.is_some() && !trusted;
    // The account a Digest answer is for, when there is one by that login: its failures
    // count too, and it may be locked for addresses it never authenticated from.
    let login = request
        .authorization
        .filter(|_| token.is_none())
        .and_then(login_of)
        .filter(|login| policy.password(login).is_some());
    let login_subject = login.as_deref().map(throttle::login_subject);
    if counted {
        let (address_wait, login_wait) =
            throttle::locked_out(db()?, address, login_subject.as_deref(), seconds)?;
        if let Some(wait) = address_wait {
            return Err(throttle::too_many(wait, Throttled::Address));
        }
        if let (Some(wait), Some(login)) = (login_wait, &login) {
            if !throttle::is_known(db()?, login, address)? {
                return Err(throttle::too_many(wait, Throttled::Login));
            }
        }
    }
    let fail = |stale: bool| -> Result<(), ApiError> {
        if counted && !stale {
            let limits = &throttle::PER_ADDRESS;
            if let Some(wait) = throttle::record_failure(db()?, address, limits, seconds)? {
                return Err(throttle::too_many(wait, Throttled::Address));
            }
            if let (Some(subject), Some(login)) = (&login_subject, &login) {
                let limits = &throttle::PER_LOGIN;
                if let Some(wait) = throttle::record_failure(db()?, subject, limits, seconds)? {
                    if !throttle::is_known(db()?, login, address)? {
                        return Err(throttle::too_many(wait, Throttled::Login));
                    }
                }
            }
        }
        let mut offered = challenges(&new_nonce(&nonce_secret(db)?, now), stale);
        if token.is_some() {
            offered.push(format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""));
        }
        Err(ApiError::Unauthorized(offered))
    };
    if let Some(secret) = token {
        return match bearer::find(db()?, secret, seconds)? {
            Some(granted) => granted.allow(scopes::needed(request.method, request.uri)),
            None => fail(false),
        };
    }
    let secret = nonce_secret(db)?;
    match check_digest(&policy, request, &secret, now) {
        Verdict::Pass(used) => {
            if !record_use(db()?, &used, now)? {
                return fail(true);
            }
            // A nonce's first use: the account's clients are known by their addresses.
            if let (true, 1, Some(login)) = (counted, used.nc, &login) {
                throttle::remember(db()?, login, address, seconds);
            }
            Ok(())
        }
        Verdict::Fail => fail(false),
        Verdict::Stale => fail(true),
    }
}

/// The scopes of the token a request was admitted with, as stored (space-separated); `None`
/// when it came without one (a trusted client or a Digest account: every right). What a
/// token may give a token it makes (the tokens component).
pub fn token_scopes(request: &Request) -> Result<Option<String>, ApiError> {
    let Some(secret) = request.header("authorization").and_then(bearer::secret_of) else {
        return Ok(None);
    };
    let now = i64::try_from(clock::unix_seconds()).unwrap_or(i64::MAX);
    match bearer::find(&db::open()?, secret, now)? {
        Some(granted) => Ok(Some(granted.scopes)),
        // Admitted a moment ago, revoked since: nothing more.
        None => Err(ApiError::Forbidden(vec![
            "This token was revoked or expired".to_string(),
        ])),
    }
}
