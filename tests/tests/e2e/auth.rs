//! API.md, "Authentication": loopback trusted, allowed hosts, HTTP Digest for the rest.

use std::net::IpAddr;

use crate::client::{send, send_from, Response};
use crate::paths::workspace;
use crate::support::{remote_client_ip, unix_now, Config, Server};
use hmac::{Hmac, Mac};
use md5::Md5;
use serde_json::json;
use sha2::{Digest, Sha256};
use testhost::Manifest;

pub(crate) const ACCOUNTS: &str = "admin:s3cr:t,other:pw";

pub(crate) fn remote(config: Config) -> Config {
    config
        .with_remote_client()
        .with_variable("auth_accounts", ACCOUNTS)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn h(algorithm: &str, data: &str) -> String {
    match algorithm {
        "MD5" => hex(&Md5::digest(data.as_bytes())),
        _ => hex(&Sha256::digest(data.as_bytes())),
    }
}

/// The nonce of the challenge for `algorithm`.
pub(crate) fn nonce(r: &Response, algorithm: &str) -> String {
    let challenge = r
        .header_all("www-authenticate")
        .into_iter()
        .find(|c| c.contains(&format!("algorithm={algorithm}")))
        .unwrap_or_else(|| panic!("no {algorithm} challenge in {:?}", r.headers))
        .to_string();
    let start = challenge.find("nonce=\"").unwrap() + 7;
    challenge[start..start + challenge[start..].find('"').unwrap()].to_string()
}

/// An `Authorization` header as an RFC 7616 client computes it, for the first request with
/// `nonce`.
pub(crate) fn authorization(
    algorithm: &str,
    login: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
) -> String {
    authorization_nc(algorithm, (login, password), method, uri, nonce, 1)
}

/// The same for the `nc`-th request with `nonce`.
pub(crate) fn authorization_nc(
    algorithm: &str,
    (login, password): (&str, &str),
    method: &str,
    uri: &str,
    nonce: &str,
    nc: u32,
) -> String {
    let nc = format!("{nc:08x}");
    let ha1 = h(algorithm, &format!("{login}:XivoRealm:{password}"));
    let ha2 = h(algorithm, &format!("{method}:{uri}"));
    let response = h(
        algorithm,
        &format!("{ha1}:{nonce}:{nc}:0a4f113b:auth:{ha2}"),
    );
    format!(
        "Digest username=\"{login}\", realm=\"XivoRealm\", nonce=\"{nonce}\", uri=\"{uri}\", \
         algorithm={algorithm}, qop=auth, nc={nc}, cnonce=\"0a4f113b\", response=\"{response}\""
    )
}

fn get_with(s: &Server, path: &str, authorization: &str) -> Response {
    s.send("GET", path, &[("Authorization", authorization)], None)
}

#[test]
fn loopback_passes_without_credentials() {
    let s = Server::start();
    s.get("/1.0/users/").expect(200);
    // Whatever it sends, as often as it likes, and nothing is kept.
    let any = authorization("MD5", "admin", "s3cr:t", "GET", "/1.0/users/", "1.2.3");
    for _ in 0..2 {
        get_with(&s, "/1.0/users/", &any).expect(200);
    }
    assert_eq!(used_nonces(&s), 0);
}

/// How many nonces the server keeps counts for.
fn used_nonces(s: &Server) -> i64 {
    s.sql()
        .query_row("SELECT COUNT(*) FROM digest_nonces", [], |r| r.get(0))
        .unwrap()
}

/// Whether a 401's challenges say `stale=true` (both, or neither).
fn stale(r: &Response) -> bool {
    let challenges = r.header_all("www-authenticate");
    assert_eq!(challenges.len(), 2, "{challenges:?}");
    let stale = challenges[0].ends_with(", stale=true");
    assert_eq!(
        challenges[1].ends_with(", stale=true"),
        stale,
        "{challenges:?}"
    );
    stale
}

#[test]
fn a_remote_client_without_credentials_gets_401_and_both_challenges() {
    let s = Server::start_with(remote);
    let r = s.get("/1.0/users/");
    r.expect_empty(401);
    let challenges = r.header_all("www-authenticate");
    assert_eq!(challenges.len(), 2, "{challenges:?}");
    assert!(
        challenges[0]
            .starts_with("Digest realm=\"XivoRealm\", qop=\"auth\", algorithm=SHA-256, nonce=\""),
        "{}",
        challenges[0]
    );
    assert!(
        challenges[1]
            .starts_with("Digest realm=\"XivoRealm\", qop=\"auth\", algorithm=MD5, nonce=\""),
        "{}",
        challenges[1]
    );
}

#[test]
fn correct_credentials_pass_with_md5_and_sha256() {
    let s = Server::start_with(remote);
    for algorithm in ["MD5", "SHA-256"] {
        for (method, path) in [
            ("GET", "/1.0/users/?_page=1&_pagesize=2"),
            ("GET", "/1.0/CallCenter/agents/"),
        ] {
            let n = nonce(&s.get(path), algorithm);
            let a = authorization(algorithm, "admin", "s3cr:t", method, path, &n);
            get_with(&s, path, &a).expect(200);
        }
        // A write, authenticated.
        let path = "/1.0/voicemails/";
        let n = nonce(&s.get(path), algorithm);
        let a = authorization(algorithm, "other", "pw", "POST", path, &n);
        s.send(
            "POST",
            path,
            &[("Authorization", &a), ("Content-Type", "application/json")],
            Some(format!("{{\"mailbox\": \"{algorithm}\"}}").as_bytes()),
        )
        .expect(201);
    }
}

/// Password guessing is slowed down (`auth/throttle.rs`): 300 wrong passwords, one after the
/// other, are 10 judged and 290 refused: past 10 failures in a minute, the
/// client's address gets 429 with `Retry-After`, the right password included, until the
/// lockout is over. The counts are in the database, which every instance shares.
#[test]
fn guessing_passwords_is_throttled() {
    let s = Server::start_with(remote);
    let path = "/1.0/users/";
    let n = nonce(&s.get(path), "SHA-256");
    let (mut judged, mut refused) = (0, 0);
    for nc in 1..=300 {
        let a = authorization_nc("SHA-256", ("admin", "guess"), "GET", path, &n, nc);
        let r = get_with(&s, path, &a);
        match r.status {
            401 => judged += 1,
            429 => {
                refused += 1;
                let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
                assert!((1..=60).contains(&wait), "{wait}");
                r.expect_error(
                    429,
                    &["Too many failed authentications from this address, try again later"],
                );
            }
            other => panic!("{other}: {}", r.text()),
        }
    }
    assert_eq!((judged, refused), (10, 290));
    // Asking for a challenge is no failure, and still answered.
    let fresh = nonce(&s.get(path), "SHA-256");
    let right = authorization("SHA-256", "admin", "s3cr:t", "GET", path, &fresh);
    get_with(&s, path, &right).expect(429);
    // The lockout is the database's: over there, the right password passes again.
    s.sql()
        .execute("UPDATE auth_failures SET blocked_until = 0", [])
        .unwrap();
    let fresh = nonce(&s.get(path), "SHA-256");
    let right = authorization("SHA-256", "admin", "s3cr:t", "GET", path, &fresh);
    get_with(&s, path, &right).expect(200);
}

/// Guesses sent all at once, from an address that failed lately, are counted before they are
/// judged: no more are judged than the limit allows.
#[test]
fn guesses_sent_at_once_are_judged_no_more_than_the_limit() {
    let s = Server::start_with(remote);
    let path = "/1.0/users/";
    let n = nonce(&s.get(path), "SHA-256");
    let guess = authorization("SHA-256", "admin", "guess", "GET", path, &n);
    get_with(&s, path, &guess).expect_empty(401);
    let addr = s.addr;
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let guesses: Vec<_> = (0..40)
            .map(|_| scope.spawn(|| send(addr, "GET", path, &[("Authorization", &guess)], None)))
            .collect();
        guesses
            .into_iter()
            .map(|g| g.join().unwrap().status)
            .collect()
    });
    let judged = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(judged + refused, 40, "{statuses:?}");
    assert!(judged <= 9, "{judged} judged at once: {statuses:?}");
    // A right answer from that address passes once the lockout is over, and is forgiven
    // the count taken before it was judged.
    s.sql()
        .execute(
            "UPDATE auth_failures SET blocked_until = 0, failures = 0",
            [],
        )
        .unwrap();
    let fresh = nonce(&s.get(path), "SHA-256");
    let right = authorization("SHA-256", "admin", "s3cr:t", "GET", path, &fresh);
    get_with(&s, path, &right).expect(200);
    let failures: i64 = s
        .sql()
        .query_row(
            "SELECT failures FROM auth_failures WHERE subject NOT LIKE 'login:%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(failures, 0);
}

#[test]
fn wrong_answers_get_401() {
    let s = Server::start_with(remote);
    let path = "/1.0/users/";
    let n = nonce(&s.get(path), "SHA-256");
    let cases = [
        (
            "wrong password",
            authorization("SHA-256", "admin", "nope", "GET", path, &n),
        ),
        (
            "unknown login",
            authorization("SHA-256", "mallory", "s3cr:t", "GET", path, &n),
        ),
        (
            "tampered nonce",
            authorization(
                "SHA-256",
                "admin",
                "s3cr:t",
                "GET",
                path,
                &format!("{}0", &n),
            ),
        ),
        (
            "forged nonce time",
            authorization("SHA-256", "admin", "s3cr:t", "GET", path, &format!("9{n}")),
        ),
        (
            "another uri",
            authorization("SHA-256", "admin", "s3cr:t", "GET", "/1.0/voicemails/", &n),
        ),
        (
            "another method",
            authorization("SHA-256", "admin", "s3cr:t", "DELETE", path, &n),
        ),
        ("basic", "Basic YWRtaW46czNjcjp0".to_string()),
    ];
    for (what, a) in cases {
        let r = get_with(&s, path, &a);
        r.expect_empty(401);
        assert_eq!(r.header_all("www-authenticate").len(), 2, "{what}");
        assert!(
            !r.header("www-authenticate").unwrap().contains("stale"),
            "{what}"
        );
    }
    // The answer for another URI, sent to that URI, is fine: the check was the URI.
    let other = authorization("SHA-256", "admin", "s3cr:t", "GET", "/1.0/voicemails/", &n);
    get_with(&s, "/1.0/voicemails/", &other).expect(200);
}

/// A nonce as the server signs them (`<time>.<random>.<HMAC of "<time>.<random>">`), with the
/// secret given in `auth_nonce_secret`.
fn signed_nonce(secret: &str, time: u64) -> String {
    let signed = format!("{time}.{}", hex(&rand_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(signed.as_bytes());
    format!("{signed}.{}", hex(&mac.finalize().into_bytes()))
}

/// Sixteen bytes that differ from call to call (tests need no better).
fn rand_bytes() -> [u8; 16] {
    use std::hash::{BuildHasher, RandomState};
    let a = RandomState::new().hash_one(std::time::SystemTime::now());
    let b = RandomState::new().hash_one(a);
    let mut out = [0; 16];
    out[..8].copy_from_slice(&a.to_le_bytes());
    out[8..].copy_from_slice(&b.to_le_bytes());
    out
}

#[test]
fn an_expired_nonce_is_stale() {
    let s = Server::start_with(|config| {
        remote(config).with_variable("auth_nonce_secret", "a known secret")
    });
    let now = unix_now();
    let path = "/1.0/users/";
    // Fresh, signed with the configured secret: passes (so the secret is the variable's).
    let fresh = signed_nonce("a known secret", now - 5);
    get_with(
        &s,
        path,
        &authorization("MD5", "admin", "s3cr:t", "GET", path, &fresh),
    )
    .expect(200);
    // Six minutes old: 401 with stale=true on both challenges.
    let old = signed_nonce("a known secret", now - 360);
    let r = get_with(
        &s,
        path,
        &authorization("MD5", "admin", "s3cr:t", "GET", path, &old),
    );
    r.expect_empty(401);
    let challenges = r.header_all("www-authenticate");
    assert_eq!(challenges.len(), 2);
    assert!(
        challenges.iter().all(|c| c.ends_with("stale=true")),
        "{challenges:?}"
    );
    // A fresh nonce signed with another secret is not ours.
    let forged = signed_nonce("another secret", now);
    get_with(
        &s,
        path,
        &authorization("MD5", "admin", "s3cr:t", "GET", path, &forged),
    )
    .expect_empty(401);
}

#[test]
fn a_replayed_digest_request_is_refused_and_a_growing_nc_accepted() {
    let s = Server::start_with(remote);
    let path = "/1.0/users/";
    let n = nonce(&s.get(path), "SHA-256");
    let with = |nc| authorization_nc("SHA-256", ("admin", "s3cr:t"), "GET", path, &n, nc);
    get_with(&s, path, &with(1)).expect(200);
    // The same request again: 401 with a new challenge, stale=true (the credentials were
    // right, so a client that sent two requests out of order retries without asking anyone).
    let replayed = get_with(&s, path, &with(1));
    replayed.expect_empty(401);
    assert!(stale(&replayed));
    let fresh = nonce(&replayed, "MD5");
    assert_ne!(fresh, n);
    // A count must be above the last accepted one, by any step.
    for (nc, status) in [
        (2, 200),
        (2, 401),
        (5, 200),
        (5, 401),
        (3, 401),
        (1, 401),
        (6, 200),
    ] {
        let r = get_with(&s, path, &with(nc));
        assert_eq!(r.status, status, "nc={nc}");
        assert!(status == 200 || stale(&r), "nc={nc}");
    }
    // A wrong answer takes no count: it is refused as before (no stale), and the right
    // answer with that count still passes.
    let wrong = authorization_nc("SHA-256", ("admin", "nope"), "GET", path, &n, 7);
    let r = get_with(&s, path, &wrong);
    r.expect_empty(401);
    assert!(!stale(&r));
    get_with(&s, path, &with(7)).expect(200);
    // The new nonce from the replay's challenge counts from 1 on its own.
    let a = authorization("MD5", "admin", "s3cr:t", "GET", path, &fresh);
    get_with(&s, path, &a).expect(200);
    get_with(&s, path, &a).expect_empty(401);
    let kept: i64 = s
        .sql()
        .query_row("SELECT nc FROM digest_nonces WHERE nonce = ?", [&n], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kept, 7);
    assert_eq!(used_nonces(&s), 2);
}

#[test]
fn a_replayed_write_changes_nothing() {
    let s = Server::start_with(remote);
    let path = "/1.0/voicemails/";
    let n = nonce(&s.get(path), "SHA-256");
    let a = authorization("SHA-256", "other", "pw", "POST", path, &n);
    let post = || {
        s.send(
            "POST",
            path,
            &[("Authorization", &a), ("Content-Type", "application/json")],
            Some(b"{\"mailbox\": \"1001\"}"),
        )
    };
    post().expect(201);
    post().expect_empty(401);
    let mailboxes: i64 = s
        .sql()
        .query_row("SELECT COUNT(*) FROM voicemails", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mailboxes, 1);
}

#[test]
fn of_simultaneous_replays_one_passes() {
    let s = Server::start_with(remote);
    let path = "/1.0/users/";
    let n = nonce(&s.get(path), "SHA-256");
    let a = authorization("SHA-256", "admin", "s3cr:t", "GET", path, &n);
    let start = std::sync::Barrier::new(8);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let sent: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    send(s.addr, "GET", path, &[("Authorization", &a)], None).status
                })
            })
            .collect();
        sent.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|&&code| code == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&code| code == 200 || code == 401),
        "{statuses:?}"
    );
}

#[test]
fn clients_challenged_at_once_do_not_share_a_nonce() {
    let s = Server::start_with(remote);
    let path = "/1.0/users/";
    let (first, second) = (s.get(path), s.get(path));
    // One nonce per 401, in both its challenges; another in the next 401, the same second.
    assert_eq!(nonce(&first, "SHA-256"), nonce(&first, "MD5"));
    let (a, b) = (nonce(&first, "MD5"), nonce(&second, "MD5"));
    assert_ne!(a, b);
    for n in [a, b] {
        let header = authorization("MD5", "admin", "s3cr:t", "GET", path, &n);
        get_with(&s, path, &header).expect(200);
    }
}

#[test]
fn used_nonces_are_forgotten_a_batch_at_a_time_after_they_expire() {
    let s = Server::start_with(remote);
    let path = "/1.0/users/";
    let answer = |s: &Server| {
        let n = nonce(&s.get(path), "MD5");
        let a = authorization("MD5", "admin", "s3cr:t", "GET", path, &n);
        get_with(s, path, &a).expect(200);
    };
    answer(&s); // The table exists from here on.
    let now = i64::try_from(unix_now()).unwrap();
    let sql = s.sql();
    let add = |count: usize, expires: i64| {
        for _ in 0..count {
            sql.execute(
                "INSERT INTO digest_nonces (nonce, nc, expires) \
                 VALUES ('test.' || hex(randomblob(16)), 1, ?)",
                [expires],
            )
            .unwrap();
        }
    };
    let long_expired = || -> i64 {
        sql.query_row(
            "SELECT COUNT(*) FROM digest_nonces WHERE expires < ?",
            [now - 60],
            |r| r.get(0),
        )
        .unwrap()
    };
    // Expired an hour ago, and just expired (kept a minute more, in case the clock goes back).
    add(63, now - 3600);
    add(1, now - 5);
    answer(&s);
    // Fewer than a batch: left for later.
    assert_eq!(long_expired(), 63);
    assert_eq!(used_nonces(&s), 63 + 1 + 2);
    add(1, now - 3600);
    answer(&s);
    assert_eq!(long_expired(), 0);
    assert_eq!(used_nonces(&s), 1 + 3);
}

/// A flood of addresses leaves the failures' table small: once 64 rows have been quiet for a
/// day, a failure deletes them (up to 256 at a time); a row locked out, or failing today,
/// stays.
#[test]
fn quiet_failure_rows_are_forgotten_a_batch_at_a_time() {
    let s = Server::start_with(remote);
    let path = "/1.0/users/";
    let fail = || {
        let n = nonce(&s.get(path), "SHA-256");
        let a = authorization("SHA-256", "admin", "guess", "GET", path, &n);
        get_with(&s, path, &a).expect_empty(401);
    };
    fail(); // The table exists from here on.
    let now = i64::try_from(unix_now()).unwrap();
    let sql = s.sql();
    let add = |count: usize, since: i64, blocked_until: i64| {
        for _ in 0..count {
            sql.execute(
                "INSERT INTO auth_failures (subject, since, failures, blocked_until) \
                 VALUES ('198.51.100.' || hex(randomblob(8)), ?, 3, ?)",
                [since, blocked_until],
            )
            .unwrap();
        }
    };
    let rows = || -> i64 {
        sql.query_row("SELECT COUNT(*) FROM auth_failures", [], |r| r.get(0))
            .unwrap()
    };
    let before = rows();
    add(63, now - 2 * 86_400, 0);
    add(1, now - 2 * 86_400, now + 3600); // locked out: kept
    add(1, now - 60, 0); // failing today: kept
    fail();
    assert_eq!(rows(), before + 65, "fewer than a batch: left for later");
    add(1, now - 2 * 86_400, 0);
    fail();
    assert_eq!(rows(), before + 2);
}

#[test]
fn the_generated_secret_is_kept_and_shared_by_all_components() {
    let s = Server::start_with(remote);
    let n = nonce(&s.get("/1.0/users/"), "SHA-256");
    // A nonce one component issued is good at another.
    let path = "/1.0/recording_campaigns/";
    get_with(
        &s,
        path,
        &authorization("SHA-256", "admin", "s3cr:t", "GET", path, &n),
    )
    .expect(200);
    let kept: i64 = s
        .sql()
        .query_row(
            "SELECT COUNT(*) FROM settings WHERE name = 'auth_nonce_secret'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 1);
}

/// Two instances over one database (two `spin up` on one libSQL server, say): the secret
/// is the one kept there, so a nonce one instance issued is good at the other, and the
/// counts are shared too: a request replayed at the other instance is refused.
#[test]
fn instances_on_one_database_share_the_secret_and_the_counts() {
    let a = Server::start_with(remote);
    let b = Server::start_with(|c| remote(c).with_database(&a.db));
    let path = "/1.0/users/";
    let n = nonce(&a.get(path), "SHA-256");
    let with = |nc| authorization_nc("SHA-256", ("admin", "s3cr:t"), "GET", path, &n, nc);
    get_with(&b, path, &with(1)).expect(200);
    let replayed = get_with(&a, path, &with(1));
    replayed.expect_empty(401);
    assert!(stale(&replayed));
    get_with(&a, path, &with(2)).expect(200);
    get_with(&b, path, &with(2)).expect_empty(401);
}

/// A guesser spread over two instances on one database gets no more tries: the counts are
/// the database's.
#[test]
fn instances_on_one_database_share_the_failure_counts() {
    let a = Server::start_with(remote);
    let b = Server::start_with(|c| remote(c).with_database(&a.db));
    let path = "/1.0/users/";
    let n = nonce(&a.get(path), "SHA-256");
    let statuses: Vec<u16> = (1..=12)
        .map(|nc| {
            let guess = authorization_nc("SHA-256", ("admin", "guess"), "GET", path, &n, nc);
            let instance = if nc % 2 == 0 { &a } else { &b };
            get_with(instance, path, &guess).status
        })
        .collect();
    assert_eq!(statuses[..10], [401; 10]);
    assert_eq!(statuses[10..], [429; 2]);
    let fresh = nonce(&b.get(path), "SHA-256");
    let right = authorization("SHA-256", "admin", "s3cr:t", "GET", path, &fresh);
    get_with(&a, path, &right).expect(429);
}

/// A locked-out address is that address only: a client at another address (127.0.0.2, a
/// second loopback address, under both runtimes, loopback not trusted) is judged as ever.
#[test]
fn another_address_is_not_locked_out() {
    let s = Server::start_with(|config| {
        config
            .with_variable("auth_trust_loopback", "false")
            .with_variable("auth_accounts", ACCOUNTS)
    });
    let path = "/1.0/users/";
    let n = nonce(&s.get(path), "SHA-256");
    let statuses: Vec<u16> = (1..=11)
        .map(|nc| {
            let guess = authorization_nc("SHA-256", ("admin", "guess"), "GET", path, &n, nc);
            get_with(&s, path, &guess).status
        })
        .collect();
    assert_eq!(statuses, [[401; 10].as_slice(), &[429]].concat());
    let other: IpAddr = "127.0.0.2".parse().unwrap();
    let from_other = |a: &str| send_from(other, s.addr, "GET", path, &[("Authorization", a)]);
    let fresh = nonce(&s.get(path), "SHA-256");
    let wrong = authorization("SHA-256", "admin", "guess", "GET", path, &fresh);
    from_other(&wrong).expect_empty(401);
    let right = authorization("SHA-256", "admin", "s3cr:t", "GET", path, &fresh);
    from_other(&right).expect(200);
    // And the first address is still locked out, the right password included.
    let fresh = nonce(&s.get(path), "SHA-256");
    let right = authorization("SHA-256", "admin", "s3cr:t", "GET", path, &fresh);
    get_with(&s, path, &right).expect(429);
}

/// One account guessed from many addresses, each under its own limit: past 100 failures in an
/// hour the account is refused to addresses it never authenticated from, but its own clients
/// still get in, and other accounts are not touched.
#[test]
fn a_login_guessed_from_many_addresses_is_locked_for_strangers_only() {
    let s = Server::start_with(|config| {
        config
            .with_variable("auth_trust_loopback", "false")
            .with_variable("auth_accounts", ACCOUNTS)
    });
    let path = "/1.0/users/";
    let from = |last: u8, login: &str, password: &str| {
        let ip = IpAddr::from([127, 0, 0, last]);
        let n = nonce(&s.get(path), "SHA-256");
        let a = authorization("SHA-256", login, password, "GET", path, &n);
        send_from(ip, s.addr, "GET", path, &[("Authorization", &a)])
    };
    // The account's own client, before the guessing.
    from(1, "admin", "s3cr:t").expect(200);
    let mut statuses = Vec::new();
    for last in 2..=12 {
        for _ in 0..10 {
            statuses.push(from(last, "admin", "guess"));
        }
    }
    let judged = statuses.iter().filter(|r| r.status == 401).count();
    assert_eq!(judged, 100, "each address under its own limit");
    for r in &statuses[100..] {
        r.expect_error(
            429,
            &["Too many failed authentications for this account, try again later"],
        );
        let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&wait), "{wait}");
    }
    // A stranger with the right password waits; the account's own client does not.
    from(50, "admin", "s3cr:t").expect(429);
    from(1, "admin", "s3cr:t").expect(200);
    // Another account is another count.
    from(50, "other", "pw").expect(200);
    // An account nobody has counts for its addresses only.
    for _ in 0..10 {
        from(51, "mallory", "guess").expect_empty(401);
    }
    let subjects: Vec<String> = s
        .sql()
        .prepare("SELECT subject FROM auth_failures WHERE subject LIKE 'login:%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(subjects, ["login:admin"]);
}

#[test]
fn allowed_hosts_pass() {
    // The client's network, and a neighbour of the client in it.
    let IpAddr::V4(ip) = remote_client_ip() else {
        unreachable!()
    };
    let [a, b, c, d] = ip.octets();
    let network = format!("{a}.{b}.{c}.0/24");
    let neighbour = format!("{a}.{b}.{c}.{}", d.wrapping_add(1));
    let s = Server::start_with(|config| {
        remote(config).with_variable("auth_allowed_hosts", &format!("10.0.0.0/8, {network}"))
    });
    s.get("/1.0/users/").expect(200);
    // A Digest header changes nothing for them, replayed or not, and nothing is kept.
    let any = authorization("MD5", "admin", "s3cr:t", "GET", "/1.0/users/", "1.2.3");
    for _ in 0..2 {
        get_with(&s, "/1.0/users/", &any).expect(200);
    }
    assert_eq!(used_nonces(&s), 0);
    let s = Server::start_with(|config| {
        remote(config).with_variable("auth_allowed_hosts", &format!("{neighbour}, 10.0.0.0/8"))
    });
    s.get("/1.0/users/").expect_empty(401);
}

#[test]
fn loopback_authenticates_when_not_trusted() {
    // Any spelling but true/1/yes/on: a mistyped setting fails closed.
    for setting in ["false", "False", "FALSE", "0", "no", "ture"] {
        let s = Server::start_with(|config| {
            config
                .with_variable("auth_trust_loopback", setting)
                .with_variable("auth_accounts", ACCOUNTS)
        });
        let r = s.get("/1.0/users/");
        r.expect_empty(401);
        let n = nonce(&r, "MD5");
        let a = authorization("MD5", "admin", "s3cr:t", "GET", "/1.0/users/", &n);
        get_with(&s, "/1.0/users/", &a).expect(200);
    }
    let s = Server::start_with(|config| config.with_variable("auth_trust_loopback", "TRUE"));
    s.get("/1.0/users/").expect(200);
}

#[test]
fn a_client_cannot_claim_another_address() {
    let s = Server::start_with(|config| {
        remote(config).with_variable("auth_allowed_hosts", "198.51.100.7")
    });
    // Neither loopback nor an allowed host by saying so: the runtime's own header comes last.
    for claimed in ["127.0.0.1:1", "198.51.100.7:1"] {
        s.send("GET", "/1.0/users/", &[("spin-client-addr", claimed)], None)
            .expect_empty(401);
    }
}

#[test]
fn order_is_415_then_406_then_401() {
    let s = Server::start_with(remote);
    s.send(
        "POST",
        "/1.0/users/",
        &[("Content-Type", "text/plain"), ("Accept", "text/html")],
        Some(b"{}"),
    )
    .expect_empty(415);
    s.send(
        "POST",
        "/1.0/users/",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "text/html"),
        ],
        Some(b"{}"),
    )
    .expect_empty(406);
    s.send(
        "POST",
        "/1.0/users/",
        &[("Content-Type", "application/json")],
        Some(b"not even json"),
    )
    .expect_empty(401);
    assert_eq!(count_users(&s), 0);
}

fn count_users(s: &Server) -> i64 {
    s.sql()
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn no_route_answers_a_remote_unauthenticated_client_with_anything_but_401() {
    let s = Server::start_with(remote);
    let manifest = Manifest::load(&workspace().join("spin.toml")).unwrap();
    let mut paths = Vec::new();
    for trigger in &manifest.trigger.http {
        if trigger.component == "api" {
            continue; // The OpenAPI document is public (document.rs).
        }
        match trigger.route.strip_suffix("/...") {
            Some(prefix) => {
                for tail in ["", "/", "/1", "/1/", "/1/search", "/1/x", "/abc"] {
                    paths.push(format!("{prefix}{tail}"));
                }
            }
            None => paths.push(trigger.route.clone()),
        }
    }
    assert!(paths.len() > 20);
    for path in &paths {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            let r = s.send(
                method,
                path,
                &[("Content-Type", "application/json")],
                Some(b"{\"firstname\": \"x\"}"),
            );
            assert_eq!(r.status, 401, "{method} {path}: {}", r.text());
            assert!(r.body.is_empty());
        }
    }
    assert_eq!(count_users(&s), 0);
}

#[test]
fn curl_digest_is_a_real_client_that_gets_in() {
    let s = Server::start_with(remote);
    let run = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args(["-s", "-o", "-", "-w", "\n%{http_code}"])
            .args(args)
            .output()
            .expect("curl is installed (.ci/run installs it)");
        let text = String::from_utf8(out.stdout).unwrap();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.to_string(), body.to_string())
    };
    let (code, _) = run(&[&s.url("/1.0/users/")]);
    assert_eq!(code, "401");
    let (code, body) = run(&[
        "--digest",
        "-u",
        "admin:s3cr:t",
        &s.url("/1.0/users/?_page=1&_pagesize=10"),
    ]);
    assert_eq!(code, "200", "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        json!({"total": 0, "items": []})
    );
    let (code, _) = run(&["--digest", "-u", "admin:wrong", &s.url("/1.0/users/")]);
    assert_eq!(code, "401");
    let (code, body) = run(&[
        "--digest",
        "-u",
        "other:pw",
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        "{\"firstname\": \"Irène\"}",
        &s.url("/1.0/users/"),
    ]);
    assert_eq!(code, "201", "{body}");
}
