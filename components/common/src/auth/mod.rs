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
    error::ApiError,
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
use throttle::Guard;

/// A request of the API let through, or refused (401): [`authorize`] with what the request
/// brings; `uri` is the request target as sent.
pub fn admit(request: &Request, uri: &str) -> Result<(), ApiError> {
    let method = request.method.to_string();
    let route = request.header("spin-component-route").unwrap_or_default();
    authorize(&Credentials {
        client_addr: request.header("spin-client-addr"),
        method: &method,
        uri,
        authorization: request.header("authorization"),
        scopes: scopes::needed(&method, route, &request.segments()),
    })
}

/// Let the request through, or answer 401 with fresh challenges (403 for a token whose
/// scopes do not allow it, 429 for an address that failed too often). A trusted loopback
/// client costs one variable lookup; the accounts and the nonce secret are read only when
/// needed. A client that sends a token is held to it, trusted or not: what it sends is what
/// it gets (so a tool can try its token from the PBX itself).
pub fn authorize(request: &Credentials) -> Result<(), ApiError> {
    let client = request.client_addr.and_then(parse_client_addr);
    // Fails closed: a component whose manifest does not give it the variable (or a host that
    // cannot read it) trusts no one for being local.
    let trust_loopback = variable("auth_trust_loopback").is_some_and(|v| truthy(&v));
    let token = request.authorization.and_then(bearer::secret_of);
    if token.is_none() && trust_loopback && client.is_some_and(|ip| ip.is_loopback()) {
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
    // A good token passes whatever its address did: no guesser can lock integrations out.
    // It needs nothing of the policy, so it is checked before the policy's variables are read
    // (each a lookup by the host, which under Spin may block a worker thread).
    if let Some(secret) = token {
        if let Some(granted) = bearer::find(db()?, secret, seconds)? {
            return granted.allow(&request.scopes);
        }
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
    // Only a request with credentials counts, or is refused for its address's failures: the
    // first request of a Digest exchange carries none. Trusted clients never count.
    let address = throttle::address_subject(client, request.client_addr.unwrap_or_default());
    // The login a Digest answer names: its account's failures count too.
    let login = request
        .authorization
        .filter(|_| token.is_none())
        .and_then(login_of);
    let account = login
        .as_deref()
        .map(|name| (name, policy.password(name).is_some()));
    let guard = match request.authorization {
        Some(_) if !trusted => Some(Guard::check(db()?, &address, account, seconds)?),
        _ => None,
    };
    // Read once: it checks a Digest answer, and signs the next challenge when refused.
    let secret = nonce_secret(db)?;
    let refuse = |stale: bool| -> Result<(), ApiError> {
        let mut offered = challenges(&new_nonce(&secret, now), stale);
        if token.is_some() {
            offered.push(format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""));
        }
        Err(ApiError::Unauthorized(offered))
    };
    let verdict = match token {
        Some(_) => Verdict::Fail,
        None => check_digest(&policy, request, &secret, now),
    };
    let Verdict::Pass(used) = verdict else {
        let stale = verdict == Verdict::Stale;
        match guard {
            Some(guard) if !stale => guard.failed()?,
            Some(guard) => guard.passed(),
            None => {}
        }
        return refuse(stale);
    };
    let first_use = used.nc == 1;
    let fresh = record_use(db()?, &used, now)?;
    if let Some(guard) = guard {
        // A nonce's first use: the account's clients are known by their addresses.
        if let (true, Some(name)) = (first_use && fresh, guard.account()) {
            throttle::remember(db()?, name, &address, seconds);
        }
        guard.passed();
    }
    if fresh {
        Ok(())
    } else {
        refuse(true)
    }
}

/// The token a request was admitted with (its scopes and expiry); `None` when it came
/// without one (a trusted client or a Digest account: every right, for ever). What a token
/// may give a token it makes (the tokens component).
pub fn token_of(request: &Request) -> Result<Option<bearer::Granted>, ApiError> {
    let Some(secret) = request.header("authorization").and_then(bearer::secret_of) else {
        return Ok(None);
    };
    let now = i64::try_from(clock::unix_seconds()).unwrap_or(i64::MAX);
    match bearer::find(&db::open()?, secret, now)? {
        Some(granted) => Ok(Some(granted)),
        // Admitted a moment ago, revoked since: nothing more.
        None => Err(ApiError::Forbidden(vec![
            "This token was revoked or expired".to_string(),
        ])),
    }
}
