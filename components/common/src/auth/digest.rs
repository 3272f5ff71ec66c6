//! HTTP Digest (RFC 7616): the challenges, the client's answer parsed and checked, and the
//! nonces, signed with HMAC-SHA256 so that any instance can check any other's.

use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::hex::encode as hex;

use super::policy::Policy;
use super::scopes::Scope;

pub const REALM: &str = "XivoRealm";

/// How long a nonce may be used.
pub const NONCE_LIFETIME_SECS: u64 = 300;

/// What a request brings to the check.
pub struct Credentials<'a> {
    /// The client's address as Spin reports it (`spin-client-addr`, `ip:port`).
    pub client_addr: Option<&'a str>,
    pub method: &'a str,
    /// The request target as sent (`/1.0/users/?_page=1`), which a Digest `uri` must equal.
    pub uri: &'a str,
    pub authorization: Option<&'a str>,
    /// What an API token needs to be let through ([`super::scopes::needed`]).
    pub scopes: Vec<Scope<'static>>,
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

/// The login a Digest `Authorization` header names, if it is one.
pub fn login_of(authorization: &str) -> Option<String> {
    DigestResponse::parse(authorization)?
        .get("username")
        .map(str::to_string)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::tests::policy;

    const SECRET: &[u8] = b"test secret";
    const NOW: u64 = 1_700_000_000;
    const RANDOM: &str = "00112233445566778899aabbccddeeff";

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
            scopes: vec![Scope {
                family: "users",
                right: "read",
            }],
            client_addr: Some("203.0.113.9:4000"),
            method,
            uri,
            authorization: Some(header),
        };
        check_digest(&policy(), &request, SECRET, now)
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
