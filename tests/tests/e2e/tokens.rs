//! `/1.0/tokens/`: API tokens with scopes (README, "Authentication"), under both runtimes,
//! for a client that loopback trust does not cover.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::auth::{authorization, nonce, remote};
use crate::client::Response;
use crate::contract::document;
use crate::support::{unix_now, Server};

const TOKENS: &str = "/1.0/tokens/";

/// A request with a Digest account's credentials (a fresh challenge first).
fn as_admin(s: &Server, method: &str, path: &str, body: Option<&Value>) -> Response {
    let n = nonce(&s.get(path), "SHA-256");
    let a = authorization("SHA-256", "admin", "s3cr:t", method, path, &n);
    send(s, method, path, &a, body)
}

/// A request with a token.
fn with_token(
    s: &Server,
    method: &str,
    path: &str,
    secret: &str,
    body: Option<&Value>,
) -> Response {
    send(s, method, path, &format!("Bearer {secret}"), body)
}

fn send(
    s: &Server,
    method: &str,
    path: &str,
    authorization: &str,
    body: Option<&Value>,
) -> Response {
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
    let mut headers = vec![("Authorization", authorization)];
    if bytes.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    s.send(method, path, &headers, bytes.as_deref())
}

/// A token with `scopes`, made by the Digest account: its secret.
fn make(s: &Server, scopes: &[&str]) -> String {
    let r = as_admin(
        s,
        "POST",
        TOKENS,
        Some(&json!({"name": "test", "scopes": scopes})),
    );
    r.expect(201);
    r.json()["secret"].as_str().unwrap().to_string()
}

fn expect_forbidden(r: &Response, scope: &str) {
    r.expect_error(403, &[&format!("This token's scopes do not allow {scope}")]);
}

fn expect_refused_token(r: &Response) {
    r.expect_empty(401);
    let challenges = r.header_all("www-authenticate");
    assert_eq!(challenges.len(), 3, "{challenges:?}");
    assert!(challenges.contains(&"Bearer realm=\"XivoRealm\", error=\"invalid_token\""));
}

#[test]
fn a_token_is_shown_once_and_stored_as_its_hash() {
    let s = Server::start_with(remote);
    let r = as_admin(
        &s,
        "POST",
        TOKENS,
        Some(
            &json!({"name": "CRM", "scopes": ["users:read", "tokens:read", "users:read"],
                     "expires_at": "2100-01-01T00:00:00Z"}),
        ),
    );
    r.expect(201);
    let made = r.json();
    let secret = made["secret"].as_str().unwrap();
    let id = made["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location").unwrap(),
        s.url(&format!("/1.0/tokens/{id}"))
    );
    assert_eq!(made["scopes"], json!(["users:read", "tokens:read"]));
    assert_eq!(made["expires_at"], "2100-01-01 00:00:00");
    assert_eq!(made["last_used_at"], Value::Null);
    // Stored: its SHA-256, never the secret.
    let hash: String = s
        .sql()
        .query_row(
            "SELECT secret_hash FROM api_tokens WHERE id = ?",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    let expected: String = Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hash, expected);
    // Listed and read without it; used, it says when.
    let listed = with_token(&s, "GET", TOKENS, secret, None);
    listed.expect(200);
    assert_eq!(listed.json()["total"], 1);
    assert!(!listed.text().contains(secret));
    let one = with_token(&s, "GET", &format!("/1.0/tokens/{id}"), secret, None);
    assert!(one.json()["last_used_at"].is_string(), "{}", one.text());
    assert!(one.json().get("secret").is_none());
}

#[test]
fn a_users_read_token_reads_users_and_nothing_else() {
    let s = Server::start_with(remote);
    let secret = make(&s, &["users:read"]);
    with_token(&s, "GET", "/1.0/users/", &secret, None).expect(200);
    let body = json!({"firstname": "A"});
    expect_forbidden(
        &with_token(&s, "POST", "/1.0/users/", &secret, Some(&body)),
        "users:write",
    );
    expect_forbidden(
        &with_token(&s, "DELETE", "/1.0/users/1", &secret, None),
        "users:write",
    );
    for (path, family) in [
        ("/1.0/voicemails/", "voicemails"),
        ("/1.0/CallCenter/agents/", "agents"),
        ("/1.0/CallCenter/queues/", "queues"),
        ("/1.0/recording_campaigns/", "campaigns"),
        ("/1.0/recording_campaigns/1/", "recordings"),
        ("/1.0/webhooks/", "webhooks"),
        (TOKENS, "tokens"),
    ] {
        let read = with_token(&s, "GET", path, &secret, None);
        expect_forbidden(&read, &format!("{family}:read"));
        let write = with_token(&s, "POST", path, &secret, Some(&body));
        expect_forbidden(&write, &format!("{family}:write"));
    }
    // What is no family's (the console's page) needs a scope of every family.
    expect_forbidden(&with_token(&s, "GET", "/console/", &secret, None), "*:read");
}

/// The contract: every operation names, in its `security`, the one scope a token needs for
/// it; a token with exactly that scope is let through (whatever the answer then is), and a
/// token with every other scope gets 403.
#[test]
fn every_operation_needs_the_scope_the_document_names() {
    let s = Server::start_with(remote);
    let doc = document();
    let mut tokens = std::collections::HashMap::new();
    let mut checked = 0;
    for path in doc.paths() {
        for method in doc.methods(path) {
            let operation = &doc.root["paths"][path][method.to_ascii_lowercase()];
            let security = operation["security"].as_array();
            let Some(wanted) = security.and_then(|list| {
                list.iter().find_map(|req| {
                    let roles = req.get("bearer")?.as_array()?;
                    Some(roles.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                })
            }) else {
                assert_eq!(path, "/1.0/api/api.yml", "{method} {path} names no scope");
                continue;
            };
            // The family's scope first; then what else it needs (`*:read` to write webhooks).
            let scope = wanted[0];
            let (family, right) = scope.split_once(':').unwrap();
            let other_family = if family == "users" { "tokens" } else { "users" };
            let other_right = if right == "read" { "write" } else { "read" };
            let allowed = tokens
                .entry(wanted.join(" "))
                .or_insert_with(|| make(&s, &wanted))
                .clone();
            let others = [format!("{other_family}:*"), format!("*:{other_right}")];
            let refused = tokens
                .entry(others.join(" "))
                .or_insert_with(|| make(&s, &[&others[0], &others[1]]))
                .clone();
            let concrete = path
                .replace("{id}", "999999")
                .replace("{campaign_id}", "999999")
                .replace("{cid}", "nocid")
                .replace("{delivery_id}", "nodelivery");
            let body = matches!(method.as_str(), "POST" | "PUT" | "PATCH").then(|| json!({}));
            let r = with_token(&s, &method, &concrete, &allowed, body.as_ref());
            assert!(
                r.status != 401 && r.status != 403,
                "{method} {path} with {scope}: {} {}",
                r.status,
                r.text()
            );
            let r = with_token(&s, &method, &concrete, &refused, body.as_ref());
            if method == "HEAD" {
                r.expect_empty(403);
            } else {
                expect_forbidden(&r, scope);
            }
            checked += 1;
        }
    }
    assert!(checked >= 50, "{checked}");
}

#[test]
fn a_token_cannot_make_a_token_with_more_than_its_own_scopes() {
    let s = Server::start_with(remote);
    let maker = make(&s, &["tokens:write", "users:*"]);
    let ask = |scopes: &[&str]| {
        let body = json!({"name": "made by a token", "scopes": scopes});
        with_token(&s, "POST", TOKENS, &maker, Some(&body))
    };
    let made = ask(&["users:read"]);
    made.expect(201);
    let secret = made.json()["secret"].as_str().unwrap().to_string();
    with_token(&s, "GET", "/1.0/users/", &secret, None).expect(200);
    ask(&["users:read", "voicemails:read", "*:read"]).expect_error(
        403,
        &["A token cannot give scopes it does not have: voicemails:read, *:read"],
    );
    // Reading tokens is not making them.
    let reader = make(&s, &["tokens:read", "users:*"]);
    let body = json!({"name": "x", "scopes": ["users:read"]});
    expect_forbidden(
        &with_token(&s, "POST", TOKENS, &reader, Some(&body)),
        "tokens:write",
    );
}

#[test]
fn bad_bodies_are_refused_with_their_keys() {
    let s = Server::start_with(remote);
    let cases = [
        (json!({}), "Missing parameters: name, scopes"),
        (json!({"name": "x"}), "Missing parameters: scopes"),
        (
            json!({"name": "x", "scopes": ["users:delete"]}),
            "Incorrect parameters sent: scopes",
        ),
        (
            json!({"name": "x", "scopes": []}),
            "Incorrect parameters sent: scopes",
        ),
        // More items than the document's maxItems (32), though only one scope: the list is
        // held to the document as sent, before its repeats are dropped.
        (
            json!({"name": "x", "scopes": vec!["users:read"; 33]}),
            "Incorrect parameters sent: scopes",
        ),
        (
            json!({"name": " ", "scopes": ["users:read"], "secret": "mine"}),
            "Incorrect parameters sent: name, secret",
        ),
        (
            json!({"name": "x", "scopes": ["users:read"], "expires_at": "2001-01-01"}),
            "Incorrect parameters sent: expires_at",
        ),
    ];
    for (body, message) in cases {
        as_admin(&s, "POST", TOKENS, Some(&body)).expect_error(400, &[message]);
    }
    assert_eq!(
        s.sql()
            .query_row("SELECT COUNT(*) FROM api_tokens", [], |r| r
                .get::<_, i64>(0))
            .unwrap(),
        0
    );
}

#[test]
fn an_expired_or_unknown_token_is_refused_with_the_challenges() {
    let s = Server::start_with(remote);
    let secret = make(&s, &["users:read"]);
    with_token(&s, "GET", "/1.0/users/", &secret, None).expect(200);
    s.sql()
        .execute(
            "UPDATE api_tokens SET expires_at = ?",
            [i64::try_from(unix_now()).unwrap()],
        )
        .unwrap();
    expect_refused_token(&with_token(&s, "GET", "/1.0/users/", &secret, None));
    expect_refused_token(&with_token(&s, "GET", "/1.0/users/", "xivo_00", None));
}

/// Revoked at one instance, refused at once by the other (one database).
#[test]
fn revocation_is_seen_at_once_by_the_other_instance() {
    let a = Server::start_with(remote);
    let b = Server::start_with(|c| remote(c).with_database(&a.db));
    let r = as_admin(
        &a,
        "POST",
        TOKENS,
        Some(&json!({"name": "hook", "scopes": ["*:read"]})),
    );
    let (id, secret) = (r.json()["id"].clone(), r.json()["secret"].clone());
    let secret = secret.as_str().unwrap();
    with_token(&b, "GET", "/1.0/voicemails/", secret, None).expect(200);
    as_admin(&a, "DELETE", &format!("/1.0/tokens/{id}"), None).expect(200);
    expect_refused_token(&with_token(&b, "GET", "/1.0/voicemails/", secret, None));
    expect_refused_token(&with_token(&a, "GET", "/1.0/voicemails/", secret, None));
    as_admin(&b, "DELETE", &format!("/1.0/tokens/{id}"), None).expect_empty(404);
}

/// Guessing tokens is guessing passwords: the same throttle.
#[test]
fn failed_bearer_attempts_count_toward_the_throttle() {
    let s = Server::start_with(remote);
    let statuses: Vec<u16> = (0..12)
        .map(|i| with_token(&s, "GET", "/1.0/users/", &format!("xivo_{i:064x}"), None).status)
        .collect();
    assert_eq!(statuses, [[401; 10].as_slice(), &[429, 429]].concat());
}

/// The family is the one of what the component does, whatever the path's spelling: `//` lists
/// campaigns, `PUT .../3/` updates campaign 3, `POST .../3` adds a recording.
#[test]
fn aliases_need_the_scope_of_what_they_do() {
    let s = Server::start_with(remote);
    let recordings = make(&s, &["recordings:*"]);
    let campaigns = make(&s, &["campaigns:*"]);
    for path in ["/1.0/recording_campaigns//", "/1.0/recording_campaigns"] {
        let r = with_token(&s, "GET", path, &recordings, None);
        expect_forbidden(&r, "campaigns:read");
        with_token(&s, "GET", path, &campaigns, None).expect(200);
    }
    let body = json!({"campaign_name": "x"});
    let r = with_token(
        &s,
        "PUT",
        "/1.0/recording_campaigns/3/",
        &recordings,
        Some(&body),
    );
    expect_forbidden(&r, "campaigns:write");
    let r = with_token(
        &s,
        "DELETE",
        "/1.0/recording_campaigns/3/",
        &recordings,
        None,
    );
    expect_forbidden(&r, "campaigns:write");
    let recording = json!({"cid": "c1"});
    let r = with_token(
        &s,
        "POST",
        "/1.0/recording_campaigns/3",
        &campaigns,
        Some(&recording),
    );
    expect_forbidden(&r, "recordings:write");
}

/// A token that expires makes only tokens that expire no later; writing webhooks needs
/// `*:read` too (a subscription receives every family's changes).
#[test]
fn a_token_cannot_outlive_its_maker_nor_subscribe_beyond_its_reads() {
    let s = Server::start_with(remote);
    let r = as_admin(
        &s,
        "POST",
        TOKENS,
        Some(&json!({"name": "m", "scopes": ["*:*"], "expires_at": "2099-01-01 00:00:00"})),
    );
    let maker = r.json()["secret"].as_str().unwrap().to_string();
    let ask = |expires_at: Value| {
        let body = json!({"name": "x", "scopes": ["users:read"], "expires_at": expires_at});
        with_token(&s, "POST", TOKENS, &maker, Some(&body))
    };
    let outlives = [
        "A token cannot make a token that outlives it: expires_at at most \
                     2099-01-01 00:00:00",
    ];
    ask(Value::Null).expect_error(403, &outlives);
    ask(json!("2100-01-01 00:00:00")).expect_error(403, &outlives);
    ask(json!("2098-01-01 00:00:00")).expect(201);
    let hook = make(&s, &["webhooks:*"]);
    let body = json!({"url": "https://webhooks.invalid/x", "secret": "s"});
    let r = with_token(&s, "POST", "/1.0/webhooks/", &hook, Some(&body));
    expect_forbidden(&r, "*:read");
    with_token(&s, "GET", "/1.0/webhooks/", &hook, None).expect(200);
}

/// A good token passes while its address is locked out for others' failures.
#[test]
fn a_good_token_passes_while_its_address_is_locked_out() {
    let s = Server::start_with(remote);
    let secret = make(&s, &["users:read"]);
    for i in 0..11 {
        with_token(&s, "GET", "/1.0/users/", &format!("xivo_{i:064x}"), None);
    }
    with_token(&s, "GET", "/1.0/users/", "xivo_00", None).expect(429);
    with_token(&s, "GET", "/1.0/users/", &secret, None).expect(200);
}
