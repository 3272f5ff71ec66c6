//! API.md, "Authentication": loopback trusted, allowed hosts, HTTP Digest for the rest.

use std::net::IpAddr;

use crate::support::{remote_client_ip, workspace, Config, Response, Server};
use hmac::{Hmac, Mac};
use md5::Md5;
use serde_json::json;
use sha2::{Digest, Sha256};
use testhost::Manifest;

const ACCOUNTS: &str = "admin:s3cr:t,other:pw";

fn remote(config: Config) -> Config {
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
fn nonce(r: &Response, algorithm: &str) -> String {
    let challenge = r
        .header_all("www-authenticate")
        .into_iter()
        .find(|c| c.contains(&format!("algorithm={algorithm}")))
        .unwrap_or_else(|| panic!("no {algorithm} challenge in {:?}", r.headers))
        .to_string();
    let start = challenge.find("nonce=\"").unwrap() + 7;
    challenge[start..start + challenge[start..].find('"').unwrap()].to_string()
}

/// An `Authorization` header as an RFC 7616 client computes it.
fn authorization(
    algorithm: &str,
    login: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
) -> String {
    let ha1 = h(algorithm, &format!("{login}:XivoRealm:{password}"));
    let ha2 = h(algorithm, &format!("{method}:{uri}"));
    let response = h(
        algorithm,
        &format!("{ha1}:{nonce}:00000001:0a4f113b:auth:{ha2}"),
    );
    format!(
        "Digest username=\"{login}\", realm=\"XivoRealm\", nonce=\"{nonce}\", uri=\"{uri}\", \
         algorithm={algorithm}, qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"{response}\""
    )
}

fn get_with(s: &Server, path: &str, authorization: &str) -> Response {
    s.send("GET", path, &[("Authorization", authorization)], None)
}

#[test]
fn loopback_passes_without_credentials() {
    let s = Server::start();
    s.get("/1.0/users/").expect(200);
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

/// A nonce as the server signs them, with the secret given in `auth_nonce_secret`.
fn signed_nonce(secret: &str, time: u64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(time.to_string().as_bytes());
    format!("{time}.{}", hex(&mac.finalize().into_bytes()))
}

#[test]
fn an_expired_nonce_is_stale() {
    let s = Server::start_with(|config| {
        remote(config).with_variable("auth_nonce_secret", "a known secret")
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
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
