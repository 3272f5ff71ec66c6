//! The ground under every family: the schema migrating itself, and the test host behaving as
//! Spin does where the components can tell.

use std::path::Path;

use crate::client::send;
use crate::paths::{fresh_path, workspace};
use crate::stores::{fresh_db, AppDatabase, AppKeyValue};
use crate::support::{skipped_under_spin, Server};
use serde_json::json;

#[test]
fn first_requests_racing_on_a_new_database_all_succeed() {
    let s = Server::start();
    let addr = s.addr;
    let paths = [
        "/1.0/users/",
        "/1.0/voicemails/",
        "/1.0/CallCenter/agents/",
        "/1.0/CallCenter/queues/",
        "/1.0/recording_campaigns/",
    ];
    let handles: Vec<_> = (0..20)
        .map(|i| {
            std::thread::spawn(move || send(addr, "GET", paths[i % paths.len()], &[], None).status)
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 200);
    }
    let version: i64 = s
        .sql()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let migrations = std::fs::read_dir(workspace().join("migrations"))
        .unwrap()
        .count() as i64;
    assert_eq!(version, migrations, "every migration applied, once");
}

#[test]
fn an_existing_database_keeps_its_data_across_restarts() {
    let s = Server::start();
    s.post("/1.0/users/", &json!({"firstname": "Kept"}))
        .expect(201);
    let again = Server::start_with(|config| config.with_database(&s.db));
    assert_eq!(
        again.get("/1.0/users/").json()["items"][0]["firstname"],
        "Kept"
    );
}

/// `spin.toml` in `dir`, its components where they were built, changed by `change`.
fn manifest_copy(dir: &Path, change: impl FnOnce(String) -> String) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let text = change(std::fs::read_to_string(workspace().join("spin.toml")).unwrap()).replace(
        "source = \"target/",
        &format!("source = \"{}/target/", workspace().display()),
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A copy of `spin.toml` where the users component may not open the database.
fn manifest_without_database_permission(dir: &Path) -> std::path::PathBuf {
    manifest_copy(dir, |text| {
        let text = text.replace(
            "source = \"target/wasm32-wasip1/release/users.wasm\"\nsqlite_databases = [\"default\"]",
            "source = \"target/wasm32-wasip1/release/users.wasm\"\nsqlite_databases = []",
        );
        assert!(text.contains("sqlite_databases = []"));
        text
    })
}

/// Loopback is trusted only when the manifest says so: a component not given
/// `auth_trust_loopback` asks loopback clients for credentials (issue 28: it trusted them).
#[test]
fn loopback_is_not_trusted_without_the_variable() {
    let dir = fresh_path("no-trust");
    let manifest = manifest_copy(&dir, |text| {
        let line = "auth_trust_loopback = \"{{ auth_trust_loopback }}\"\n";
        assert!(text.contains(line));
        text.replace(line, "")
    });
    let s = Server::start_with(|c| c.with_manifest(&manifest));
    let r = s.get("/1.0/users/");
    r.expect(401);
    assert!(r
        .header("www-authenticate")
        .is_some_and(|c| c.starts_with("Digest ")));
    s.get("/1.0/CallCenter/queues/").expect(401);
    // The same app with the variable: loopback is let in.
    Server::start().get("/1.0/users/").expect(200);
}

/// Nothing but `spin.toml` is needed to start (Fermyon Cloud takes no runtime config): with
/// none, the database and the audio are Spin's defaults beside the manifest.
#[test]
fn the_app_needs_no_runtime_config() {
    let dir = fresh_path("bare");
    let manifest = manifest_copy(&dir, |text| text);
    let state = dir.join(".spin");
    let db = AppDatabase::file(&state.join("sqlite_db.db"));
    let key_value = AppKeyValue::file(&state.join("sqlite_key_value.db"));
    let s = Server::start_with(|c| {
        c.with_manifest(&manifest)
            .with_database(&db)
            .with_key_value(&key_value)
            .with_runtime_config("")
    });
    s.post(
        "/1.0/CallCenter/agents/",
        &json!({"number": "1", "firstname": "A"}),
    )
    .expect(201);
    let campaign = s
        .post(
            "/1.0/recording_campaigns/",
            &json!({"campaign_name": "c", "activated": true, "base_filename": "f"}),
        )
        .json();
    s.post(
        &format!("/1.0/recording_campaigns/{campaign}/"),
        &json!({"cid": "r", "agent_no": "1"}),
    )
    .expect(201);
    let audio = format!("/1.0/recording_campaigns/{campaign}/r/audio");
    s.send(
        "PUT",
        &audio,
        &[("Content-Type", "audio/wav")],
        Some(b"RIFF"),
    )
    .expect(201);
    assert_eq!(s.get(&audio).body, b"RIFF");
    let agents: i64 = s
        .sql()
        .query_row("SELECT COUNT(*) FROM agents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(agents, 1, "the database is .spin/sqlite_db.db");
    assert_eq!(
        key_value.keys("audio/").len(),
        1,
        "the audio is in .spin/sqlite_key_value.db"
    );
}

/// Spin checks `allowed_outbound_hosts` with the variables' defaults when it loads the app:
/// a template whose default is no entry stops it, and the test host likewise.
#[test]
fn an_outbound_host_default_that_is_no_entry_stops_the_app() {
    crate::support::Server::start(); // the components are built
    let dir = fresh_path("manifest");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(workspace().join("spin.toml"))
        .unwrap()
        .replace(
            "webhook_allowed_hosts = { default = \"https://webhooks.invalid\" }",
            "webhook_allowed_hosts = { default = \"\" }",
        )
        .replace(
            "source = \"target/",
            &format!("source = \"{}/target/", workspace().display()),
        );
    assert!(text.contains("webhook_allowed_hosts = { default = \"\" }"));
    let manifest = dir.join("spin.toml");
    std::fs::write(&manifest, text).unwrap();
    let error = crate::support::load_error(&manifest);
    assert!(
        error.contains("`allowed_outbound_hosts` is malformed"),
        "{error}"
    );
}

#[test]
fn the_runtime_honours_sqlite_databases() {
    crate::support::Server::start(); // the components are built
    let db = fresh_db();
    let dir = fresh_path("manifest");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = manifest_without_database_permission(&dir);
    let s = Server::start_with(|config| config.with_manifest(&manifest).with_database(&db));
    // `access-denied` for users: its requests fail on our side (500, a generic message)...
    s.get("/1.0/users/")
        .expect_error(500, &["Internal server error"]);
    // ...while the others, which may, work.
    s.get("/1.0/voicemails/").expect(200);
}

#[test]
fn spin_headers_reach_the_component() {
    let s = Server::start();
    // `Location` is built from `spin-full-url`, whose host is the request's Host header.
    let r = s.send(
        "POST",
        "/1.0/users/",
        &[
            ("Content-Type", "application/json"),
            ("Host", "xivo.example.com:50051"),
        ],
        Some(b"{}"),
    );
    r.expect(201);
    let id = r.json()["id"].clone();
    assert_eq!(
        r.header("location").unwrap(),
        format!("http://xivo.example.com:50051/1.0/users/{id}")
    );
}

#[test]
fn reused_connections_behave_as_new_ones() {
    if skipped_under_spin("a test host option (`--sqlite-connections reuse`); Spin opens a new connection for every `open`") {
        return;
    }
    use testhost::sqlite::Connections;
    let s = Server::start_with(|config| config.with_connections(Connections::Reuse));
    let addr = s.addr;
    // Failed writes roll back before their connection serves another request.
    for i in 0..20 {
        s.post(
            "/1.0/users/",
            &json!({"firstname": format!("u{i}"), "voicemailid": 999}),
        )
        .expect_error(400, &["Incorrect parameters sent: voicemailid"]);
        s.post("/1.0/users/", &json!({"firstname": format!("u{i}")}))
            .expect(201);
    }
    let handles: Vec<_> = (0..32)
        .map(|i| {
            std::thread::spawn(move || {
                let body = serde_json::to_vec(&json!({"mailbox": format!("{i}")})).unwrap();
                send(
                    addr,
                    "POST",
                    "/1.0/voicemails/",
                    &[("Content-Type", "application/json")],
                    Some(&body),
                )
                .status
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 201);
    }
    assert_eq!(s.get("/1.0/users/").json()["total"], 20);
    assert_eq!(s.get("/1.0/voicemails/").json()["total"], 32);
}

/// Spin leaves Nagle's algorithm on (no `TCP_NODELAY`): a response that reaches the socket in
/// several writes can wait ~40 ms for the client's delayed ACK between them. So every response
/// must be written at once, its length known: read from a keep-alive connection, each one
/// arrives whole in a single read (one write of a few hundred bytes is one segment on
/// loopback), with a `Content-Length` and no chunked framing.
#[test]
fn responses_reach_the_socket_in_one_write() {
    use std::io::{Read, Write};
    let s = Server::start();
    s.post("/1.0/users/", &json!({"firstname": "Whole"}))
        .expect(201);
    let mut stream = crate::client::connect(s.addr);
    let mut buffer = vec![0u8; 1 << 16];
    let (mut in_pieces, mut unframed) = (Vec::new(), Vec::new());
    for i in 0..300 {
        let path = ["/1.0/users/1", "/1.0/users/", "/1.0/users/999"][i % 3];
        // One write, as an HTTP client sends a request (a request in pieces waits on Nagle too).
        let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr);
        stream.write_all(request.as_bytes()).unwrap();
        let mut n = stream.read(&mut buffer).unwrap();
        let first = n;
        // Read the rest of a response that came in pieces, so that the next one starts clean.
        while !whole(&buffer[..n]) {
            n += stream.read(&mut buffer[n..]).unwrap();
        }
        let text = String::from_utf8_lossy(&buffer[..n]).to_ascii_lowercase();
        let head = text.split("\r\n\r\n").next().unwrap().to_string();
        if first < n {
            in_pieces.push(format!("{path}: {first} of {n} bytes first"));
        }
        if !head.contains("\r\ncontent-length:") || head.contains("transfer-encoding") {
            unframed.push(head);
        }
    }
    assert!(
        in_pieces.is_empty(),
        "{} of 300 responses in pieces: {in_pieces:?}",
        in_pieces.len()
    );
    assert!(
        unframed.is_empty(),
        "responses without a content-length: {unframed:?}"
    );
}

/// Whether `bytes` hold a whole response (by its `Content-Length`, or the end of a chunked body).
fn whole(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    match head.lines().find_map(|l| l.strip_prefix("content-length:")) {
        Some(length) => body.len() >= length.trim().parse::<usize>().unwrap(),
        None => body.ends_with("0\r\n\r\n"),
    }
}

/// Spin's own routes, which a cluster's probes use (deploy/spinkube): answered before any
/// component, whatever the method and whoever asks, as Spin 4.0.2 answers them.
#[test]
fn spins_own_routes_answer_before_the_components() {
    let s = Server::start_with(|c| c.with_remote_client());
    for method in ["GET", "POST", "HEAD"] {
        let r = s.send(method, "/.well-known/spin/health", &[], None);
        r.expect(200);
        assert_eq!(r.header("content-type"), None);
        assert_eq!(r.header("content-length"), Some("2"));
        if method != "HEAD" {
            assert_eq!(r.text(), "OK");
        }
    }
    let r = s.get("/.well-known/spin/info");
    r.expect(200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.text(),
        "{\n  \"name\": \"xivo-rest-api\",\n  \"version\": \"1.0.0\"\n}"
    );
    for other in ["/.well-known/spin/other", "/.well-known/spin/health/"] {
        s.get(other).expect_empty(404);
    }
}
