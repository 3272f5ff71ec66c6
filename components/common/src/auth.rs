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

use std::cell::OnceCell;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::{db::Db, error::ApiError, params};

pub const REALM: &str = "XivoRealm";
/// How long a nonce may be used.
pub const NONCE_LIFETIME_SECS: u64 = 300;
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

/// What a request brings to the check.
pub struct Credentials<'a> {
    /// The client's address as Spin reports it (`spin-client-addr`, `ip:port`).
    pub client_addr: Option<&'a str>,
    pub method: &'a str,
    /// The request target as sent (`/1.0/users/?_page=1`), which a Digest `uri` must equal.
    pub uri: &'a str,
    pub authorization: Option<&'a str>,
}

/// The configuration, from Spin variables.
pub struct Policy {
    pub trust_loopback: bool,
    pub allowed_hosts: Vec<Cidr>,
    pub accounts: Vec<(String, String)>,
}

impl Policy {
    /// Does this client pass without credentials?
    pub fn trusts(&self, client: Option<IpAddr>) -> bool {
        let Some(ip) = client else { return false };
        (self.trust_loopback && ip.is_loopback())
            || self.allowed_hosts.iter().any(|c| c.contains(ip))
    }

    fn password(&self, login: &str) -> Option<&str> {
        self.accounts
            .iter()
            .find(|(l, _)| l == login)
            .map(|(_, p)| p.as_str())
    }
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
        let opened = Db::open()?;
        Ok(cell.get_or_init(|| opened))
    };
    let secret = nonce_secret(db)?;
    let now = unix_now();
    let refuse = |stale| {
        let nonce = make_nonce(&secret, now, &hex(&random_bytes()));
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

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The answer is right, for a nonce that is still good: it passes if its count grew
    /// ([`record_use`]).
    Pass(NonceUse),
    Fail,
    /// The answer was right for a nonce that has expired.
    Stale,
}

/// A right answer's nonce, its count, and when the nonce expires (Unix seconds).
#[derive(Debug, PartialEq, Eq)]
pub struct NonceUse {
    pub nonce: String,
    pub nc: i64,
    pub expires: i64,
}

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

/// Check a Digest `Authorization` header against the accounts.
pub fn check_digest(policy: &Policy, request: &Credentials, secret: &[u8], now: u64) -> Verdict {
    let Some(d) = request.authorization.and_then(DigestResponse::parse) else {
        return Verdict::Fail;
    };
    let Some(algorithm) = Algorithm::named(d.get("algorithm").unwrap_or("MD5")) else {
        return Verdict::Fail;
    };
    let (Some(login), Some(nonce), Some(uri), Some(response)) = (
        d.get("username"),
        d.get("nonce"),
        d.get("uri"),
        d.get("response"),
    ) else {
        return Verdict::Fail;
    };
    let (nc, cnonce) = (d.get("nc").unwrap_or(""), d.get("cnonce").unwrap_or(""));
    let Some(count) = nonce_count(nc) else {
        return Verdict::Fail;
    };
    if d.get("realm") != Some(REALM) || d.get("qop") != Some("auth") || cnonce.is_empty() {
        return Verdict::Fail;
    }
    if uri != request.uri {
        return Verdict::Fail;
    }
    let Some(issued) = nonce_time(nonce, secret) else {
        return Verdict::Fail;
    };
    // An unknown login is checked against a password nobody has, so it takes as long.
    let known = policy.password(login);
    let password = known.unwrap_or("\u{0}no such account\u{0}");
    let ha1 = algorithm.hex(&format!("{login}:{REALM}:{password}"));
    let ha2 = algorithm.hex(&format!("{}:{uri}", request.method));
    let expected = algorithm.hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
    if !constant_time_eq(
        expected.as_bytes(),
        response.to_ascii_lowercase().as_bytes(),
    ) || known.is_none()
    {
        return Verdict::Fail;
    }
    if issued > now + 60 {
        return Verdict::Fail;
    }
    if now.saturating_sub(issued) > NONCE_LIFETIME_SECS {
        return Verdict::Stale;
    }
    Verdict::Pass(NonceUse {
        nonce: nonce.to_string(),
        nc: count,
        expires: i64::try_from(issued + NONCE_LIFETIME_SECS).unwrap_or(i64::MAX),
    })
}

/// An `nc`: up to 8 hex digits (RFC 7616 sends exactly 8), not zero; counts start at 1.
fn nonce_count(nc: &str) -> Option<i64> {
    if nc.is_empty() || nc.len() > 8 || !nc.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let count = i64::from_str_radix(nc, 16).ok()?;
    (count > 0).then_some(count)
}

/// The two challenges for `nonce`, SHA-256 first so that clients that know it use it, MD5
/// second for the old ones (`curl --digest`).
pub fn challenges(nonce: &str, stale: bool) -> Vec<String> {
    let stale = if stale { ", stale=true" } else { "" };
    [Algorithm::Sha256, Algorithm::Md5]
        .iter()
        .map(|a| {
            format!(
                "Digest realm=\"{REALM}\", qop=\"auth\", algorithm={}, nonce=\"{nonce}\"{stale}",
                a.name()
            )
        })
        .collect()
}

#[derive(Clone, Copy, Debug)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    fn named(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "MD5" => Some(Self::Md5),
            "SHA-256" => Some(Self::Sha256),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
        }
    }

    /// The lower-case hex digest of `data`.
    pub fn hex(self, data: &str) -> String {
        match self {
            Self::Md5 => hex(&Md5::digest(data.as_bytes())),
            Self::Sha256 => hex(&Sha256::digest(data.as_bytes())),
        }
    }
}

/// `<seconds>.<random>.<hex HMAC-SHA256 of "<seconds>.<random>">`, `random` being hex.
pub fn make_nonce(secret: &[u8], now: u64, random: &str) -> String {
    let signed = format!("{now}.{random}");
    let signature = hex(&sign(secret, &signed));
    format!("{signed}.{signature}")
}

/// When a nonce was issued, if this server signed it.
fn nonce_time(nonce: &str, secret: &[u8]) -> Option<u64> {
    let (signed, signature) = nonce.rsplit_once('.')?;
    let (time, random) = signed.split_once('.')?;
    if random.is_empty() || !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let time: u64 = time.parse().ok()?;
    constant_time_eq(hex(&sign(secret, signed)).as_bytes(), signature.as_bytes()).then_some(time)
}

fn sign(secret: &[u8], message: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn random_bytes() -> Vec<u8> {
    wasi::random::random::get_random_bytes(NONCE_RANDOM_BYTES as u64)
}

/// The server's nonce secret: the `auth_nonce_secret` variable, or one generated once and kept
/// in the database (two components generating at once: the first insert wins, both read it).
fn nonce_secret<'a>(db: impl Fn() -> Result<&'a Db, ApiError>) -> Result<Vec<u8>, ApiError> {
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
    let fresh = hex(&wasi::random::random::get_random_bytes(32));
    db.write(
        "INSERT OR IGNORE INTO settings (name, value) VALUES ('auth_nonce_secret', ?)",
        &params![fresh],
    )?;
    stored()?.ok_or_else(|| ApiError::internal("no nonce secret"))
}

/// A Spin variable; one that is not set counts as absent.
fn variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name).ok()
}

/// `true`, `1`, `yes`, `on` (any case) and nothing else: a setting that is mistyped leaves
/// loopback clients to authenticate, rather than letting everyone on the machine in.
pub fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `127.0.0.1:5000` or `[::1]:5000` → the IP (an IPv4-mapped IPv6 address as IPv4).
pub fn parse_client_addr(addr: &str) -> Option<IpAddr> {
    let ip: IpAddr = match addr.parse::<std::net::SocketAddr>() {
        Ok(sa) => sa.ip(),
        Err(_) => addr.parse().ok()?,
    };
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// An IP or a CIDR range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Self> {
        let (ip, prefix) = match text.trim().split_once('/') {
            Some((ip, p)) => (
                ip.trim().parse::<IpAddr>().ok()?,
                Some(p.trim().parse::<u8>().ok()?),
            ),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self {
            network: ip,
            prefix,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => same_prefix(&n.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => same_prefix(&n.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// `"10.0.0.0/8, 192.168.1.7"`; entries that do not parse are ignored.
pub fn parse_hosts(text: &str) -> Vec<Cidr> {
    text.split(',').filter_map(Cidr::parse).collect()
}

/// `"login:password,other:secret"`: split at the first `:` of each pair.
pub fn parse_accounts(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| pair.trim().split_once(':'))
        .filter(|(login, _)| !login.is_empty())
        .map(|(l, p)| (l.to_string(), p.to_string()))
        .collect()
}

/// The parameters of a `Digest ...` Authorization header.
pub struct DigestResponse {
    params: Vec<(String, String)>,
}

impl DigestResponse {
    pub fn parse(header: &str) -> Option<Self> {
        let (scheme, rest) = header.trim().split_once(char::is_whitespace)?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let mut params = Vec::new();
        let mut chars = rest.chars().peekable();
        loop {
            while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
            let key: String =
                std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
            if key.trim().is_empty() {
                break;
            }
            chars.next_if_eq(&'=')?;
            let value = if chars.next_if_eq(&'"').is_some() {
                let mut v = String::new();
                loop {
                    match chars.next()? {
                        '\\' => v.push(chars.next()?),
                        '"' => break,
                        c => v.push(c),
                    }
                }
                v
            } else {
                std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                    .collect::<String>()
                    .trim()
                    .to_string()
            };
            params.push((key.trim().to_ascii_lowercase(), value));
        }
        Some(Self { params })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Equal bytes, in a time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test secret";
    const NOW: u64 = 1_700_000_000;
    const RANDOM: &str = "00112233445566778899aabbccddeeff";

    fn policy() -> Policy {
        Policy {
            trust_loopback: true,
            allowed_hosts: parse_hosts("10.1.0.0/16, 192.0.2.7, 2001:db8::/32, bogus"),
            accounts: parse_accounts("admin:s3cr:t, other:pw"),
        }
    }

    /// What a client computes.
    fn answer(
        a: Algorithm,
        login: &str,
        password: &str,
        method: &str,
        uri: &str,
        nonce: &str,
    ) -> String {
        answer_nc(a, (login, password), method, uri, nonce, "00000001")
    }

    /// What a client computes, with this nonce count.
    fn answer_nc(
        a: Algorithm,
        (login, password): (&str, &str),
        method: &str,
        uri: &str,
        nonce: &str,
        nc: &str,
    ) -> String {
        let ha1 = a.hex(&format!("{login}:{REALM}:{password}"));
        let ha2 = a.hex(&format!("{method}:{uri}"));
        let response = a.hex(&format!("{ha1}:{nonce}:{nc}:abc:auth:{ha2}"));
        format!(
            "Digest username=\"{login}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             algorithm={}, qop=auth, nc={nc}, cnonce=\"abc\", response=\"{response}\"",
            a.name()
        )
    }

    fn verdict(header: &str, method: &str, uri: &str, now: u64) -> Verdict {
        let request = Credentials {
            client_addr: Some("203.0.113.9:4000"),
            method,
            uri,
            authorization: Some(header),
        };
        check_digest(&policy(), &request, SECRET, now)
    }

    #[test]
    fn who_is_trusted() {
        let p = policy();
        let ip = |s: &str| parse_client_addr(s);
        assert!(p.trusts(ip("127.0.0.1:1")));
        assert!(p.trusts(ip("127.8.9.10:1")));
        assert!(p.trusts(ip("[::1]:1")));
        assert!(p.trusts(ip("[::ffff:127.0.0.1]:1")));
        assert!(p.trusts(ip("10.1.200.3:1")));
        assert!(p.trusts(ip("192.0.2.7:1")));
        assert!(p.trusts(ip("[2001:db8::5]:1")));
        assert!(!p.trusts(ip("10.2.0.1:1")));
        assert!(!p.trusts(ip("192.0.2.8:1")));
        assert!(!p.trusts(ip("[2001:db9::5]:1")));
        assert!(!p.trusts(None));
        let behind_proxy = Policy {
            trust_loopback: false,
            ..policy()
        };
        assert!(!behind_proxy.trusts(ip("127.0.0.1:1")));
    }

    #[test]
    fn trust_settings_fail_closed() {
        for yes in ["true", "TRUE", " True ", "1", "yes", "on"] {
            assert!(truthy(yes), "{yes}");
        }
        for no in ["false", "False", "FALSE", "0", "no", "off", "", "ture"] {
            assert!(!truthy(no), "{no}");
        }
    }

    #[test]
    fn cidr_edges() {
        let c = Cidr::parse("192.168.1.128/25").unwrap();
        assert!(c.contains("192.168.1.128".parse().unwrap()));
        assert!(c.contains("192.168.1.255".parse().unwrap()));
        assert!(!c.contains("192.168.1.127".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("1.2.3.4/33").is_none());
        assert!(Cidr::parse("nonsense").is_none());
    }

    #[test]
    fn accounts() {
        assert_eq!(
            parse_accounts(" admin:s3cr:t ,x:,:nologin, bad"),
            vec![
                ("admin".to_string(), "s3cr:t".to_string()),
                ("x".to_string(), String::new())
            ]
        );
    }

    #[test]
    fn digest_both_algorithms_pass() {
        let nonce = make_nonce(SECRET, NOW, RANDOM);
        for a in [Algorithm::Md5, Algorithm::Sha256] {
            let h = answer(a, "admin", "s3cr:t", "GET", "/1.0/users/?_page=1", &nonce);
            assert_eq!(
                verdict(&h, "GET", "/1.0/users/?_page=1", NOW + 10),
                Verdict::Pass(NonceUse {
                    nonce: nonce.clone(),
                    nc: 1,
                    expires: (NOW + NONCE_LIFETIME_SECS) as i64,
                }),
                "{a:?}"
            );
        }
    }

    #[test]
    fn digest_failures() {
        let nonce = make_nonce(SECRET, NOW, RANDOM);
        let good = |a| answer(a, "admin", "s3cr:t", "GET", "/1.0/users/", &nonce);
        let a = Algorithm::Sha256;
        for (header, method, uri, now) in [
            (
                answer(a, "admin", "wrong", "GET", "/1.0/users/", &nonce),
                "GET",
                "/1.0/users/",
                NOW,
            ),
            (
                answer(a, "nobody", "s3cr:t", "GET", "/1.0/users/", &nonce),
                "GET",
                "/1.0/users/",
                NOW,
            ),
            (good(a), "DELETE", "/1.0/users/", NOW),
            (good(a), "GET", "/1.0/voicemails/", NOW),
            (
                answer(
                    a,
                    "admin",
                    "s3cr:t",
                    "GET",
                    "/1.0/users/",
                    &nonce.replace('.', ".0"),
                ),
                "GET",
                "/1.0/users/",
                NOW,
            ),
            (
                answer(
                    a,
                    "admin",
                    "s3cr:t",
                    "GET",
                    "/1.0/users/",
                    &make_nonce(b"other", NOW, RANDOM),
                ),
                "GET",
                "/1.0/users/",
                NOW,
            ),
            (
                answer(
                    a,
                    "admin",
                    "s3cr:t",
                    "GET",
                    "/1.0/users/",
                    &format!("{}.{}", NOW + 1, &nonce[11..]),
                ),
                "GET",
                "/1.0/users/",
                NOW,
            ),
            (
                good(a).replace("qop=auth", "qop=auth-int"),
                "GET",
                "/1.0/users/",
                NOW,
            ),
            (
                good(a).replace("XivoRealm", "Other"),
                "GET",
                "/1.0/users/",
                NOW,
            ),
            (
                good(a).replace("SHA-256", "SHA-512"),
                "GET",
                "/1.0/users/",
                NOW,
            ),
            (
                "Basic YWRtaW46czNjcjp0".to_string(),
                "GET",
                "/1.0/users/",
                NOW,
            ),
            ("Digest garbage".to_string(), "GET", "/1.0/users/", NOW),
            (
                answer(
                    a,
                    "admin",
                    "s3cr:t",
                    "GET",
                    "/1.0/users/",
                    &make_nonce(SECRET, NOW + 3600, RANDOM),
                ),
                "GET",
                "/1.0/users/",
                NOW,
            ),
        ] {
            assert_eq!(
                verdict(&header, method, uri, now),
                Verdict::Fail,
                "{header} {method} {uri}"
            );
        }
    }

    #[test]
    fn an_expired_nonce_is_stale_only_when_the_answer_is_right() {
        let nonce = make_nonce(SECRET, NOW, RANDOM);
        let later = NOW + NONCE_LIFETIME_SECS + 1;
        let right = answer(
            Algorithm::Md5,
            "admin",
            "s3cr:t",
            "GET",
            "/1.0/users/",
            &nonce,
        );
        assert!(matches!(
            verdict(&right, "GET", "/1.0/users/", NOW + NONCE_LIFETIME_SECS),
            Verdict::Pass(_)
        ));
        assert_eq!(verdict(&right, "GET", "/1.0/users/", later), Verdict::Stale);
        let wrong = answer(
            Algorithm::Md5,
            "admin",
            "nope",
            "GET",
            "/1.0/users/",
            &nonce,
        );
        assert_eq!(verdict(&wrong, "GET", "/1.0/users/", later), Verdict::Fail);
    }

    #[test]
    fn nonce_counts() {
        let nonce = make_nonce(SECRET, NOW, RANDOM);
        let with = |nc: &str| {
            let h = answer_nc(
                Algorithm::Sha256,
                ("admin", "s3cr:t"),
                "GET",
                "/1.0/users/",
                &nonce,
                nc,
            );
            match verdict(&h, "GET", "/1.0/users/", NOW) {
                Verdict::Pass(used) => Some(used.nc),
                _ => None,
            }
        };
        assert_eq!(with("00000001"), Some(1));
        assert_eq!(with("0000000a"), Some(10));
        assert_eq!(with("FFFFFFFF"), Some(0xffff_ffff));
        assert_eq!(with("2"), Some(2));
        for bad in ["00000000", "", "0000000g", "000000001", "-1", "+1", " 1"] {
            assert_eq!(with(bad), None, "{bad:?}");
        }
        let no_nc = answer(
            Algorithm::Md5,
            "admin",
            "s3cr:t",
            "GET",
            "/1.0/users/",
            &nonce,
        )
        .replace("nc=00000001, ", "");
        assert_eq!(verdict(&no_nc, "GET", "/1.0/users/", NOW), Verdict::Fail);
    }

    #[test]
    fn nonces_are_signed_with_their_random_part() {
        let a = make_nonce(SECRET, NOW, RANDOM);
        let b = make_nonce(SECRET, NOW, "ffeeddccbbaa99887766554433221100");
        assert_ne!(a, b);
        assert_eq!(nonce_time(&a, SECRET), Some(NOW));
        assert_eq!(nonce_time(&b, SECRET), Some(NOW));
        let (signed, signature) = a.rsplit_once('.').unwrap();
        // Another random part under the same signature; the old form, without one.
        let swapped = format!("{NOW}.ffeeddccbbaa99887766554433221100.{signature}");
        assert_eq!(nonce_time(&swapped, SECRET), None);
        assert_eq!(nonce_time(&format!("{NOW}.{signature}"), SECRET), None);
        assert_eq!(nonce_time(&format!("{NOW}..{signature}"), SECRET), None);
        assert_eq!(nonce_time(&format!("+{signed}.{signature}"), SECRET), None);
        assert_eq!(nonce_time(&a, b"another secret"), None);
    }

    #[test]
    fn challenges_sha256_first() {
        let nonce = make_nonce(SECRET, NOW, RANDOM);
        let c = challenges(&nonce, false);
        assert_eq!(c.len(), 2);
        assert!(c[0]
            .starts_with("Digest realm=\"XivoRealm\", qop=\"auth\", algorithm=SHA-256, nonce=\""));
        assert!(c[1].contains("algorithm=MD5"));
        assert!(!c[0].contains("stale"));
        assert!(c[0].contains(&format!("nonce=\"{nonce}\"")));
        assert!(challenges(&nonce, true)
            .iter()
            .all(|c| c.ends_with(", stale=true")));
    }

    #[test]
    fn header_parsing() {
        let d = DigestResponse::parse(
            r#"Digest username="a\"b", realm="XivoRealm",nc=00000001 , uri="/x?a=1,2""#,
        )
        .unwrap();
        assert_eq!(d.get("username"), Some("a\"b"));
        assert_eq!(d.get("nc"), Some("00000001"));
        assert_eq!(d.get("uri"), Some("/x?a=1,2"));
        assert!(DigestResponse::parse("Basic abc").is_none());
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
