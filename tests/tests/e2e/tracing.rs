//! Request ids (`x-request-id`) and overload: a write that cannot get the database's write
//! lock in time is `503` with `Retry-After`, and changes nothing.

use std::time::{Duration, Instant};

use crate::client::Response;
use crate::stores::skipped_on_sqld;
use crate::support::Server;
use serde_json::json;

/// A new request id: 128 random bits in hex.
fn assert_generated(r: &Response) -> String {
    let id = r.header("x-request-id").expect("an x-request-id");
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    id.to_string()
}

#[test]
fn request_ids_are_echoed() {
    let s = Server::start();
    let id = "client-42:abc/DEF_~";
    let with_id = |method: &str, path: &str, body: Option<&[u8]>| {
        s.send(
            method,
            path,
            &[("X-Request-Id", id), ("Content-Type", "application/json")],
            body,
        )
    };
    // Success, client errors and the public document alike.
    for r in [
        with_id("GET", "/1.0/users/", None),
        with_id("POST", "/1.0/users/", Some(b"{}")),
        with_id("POST", "/1.0/users/", Some(b"[1]")),
        with_id("GET", "/1.0/users/99", None),
        with_id("PATCH", "/1.0/users/", None),
        with_id("GET", "/1.0/voicemails/", None),
        with_id("GET", "/1.0/CallCenter/agents/", None),
        with_id("GET", "/1.0/recording_campaigns/", None),
        with_id("GET", "/1.0/api/api.yml", None),
    ] {
        assert_eq!(r.header("x-request-id"), Some(id), "status {}", r.status);
        assert_eq!(r.header_all("x-request-id").len(), 1);
    }
    let longest = "x".repeat(128);
    let r = s.send("GET", "/1.0/users/", &[("X-Request-Id", &longest)], None);
    assert_eq!(r.header("x-request-id"), Some(longest.as_str()));
}

#[test]
fn request_ids_are_generated_when_missing_or_not_sane() {
    let s = Server::start();
    let a = assert_generated(s.get("/1.0/users/").expect(200));
    let b = assert_generated(s.get("/1.0/users/").expect(200));
    assert_ne!(a, b);
    assert_generated(&s.get("/1.0/users/99"));
    let too_long = "x".repeat(129);
    for insane in ["", "two words", "caf\u{e9}", too_long.as_str()] {
        let r = s.send("GET", "/1.0/users/", &[("X-Request-Id", insane)], None);
        r.expect(200);
        assert_ne!(assert_generated(&r), insane);
    }
}

/// The lines of a component's log that carry this request id, as JSON, once there is one
/// (a few seconds at most).
fn log_lines(s: &Server, component: &str, id: &str) -> Vec<serde_json::Value> {
    s.log_with(component, id)
        .lines()
        .filter(|l| l.contains(id))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// One JSON line per request in the component's log (the test host writes it where Spin's
/// `--log-dir` does): what a request was and how it ended, never a secret it carried.
#[test]
fn each_request_is_one_log_line() {
    let s = Server::start();
    let body = br#"{"firstname": "Ann", "password": "s3cret-pw"}"#;
    let headers = [
        ("X-Request-Id", "trace-1"),
        ("Content-Type", "application/json"),
        (
            "Authorization",
            "Digest username=\"admin\", response=\"d1g3st\"",
        ),
    ];
    let created = s.send(
        "POST",
        "/1.0/users/?note=hidden-value",
        &headers,
        Some(body),
    );
    created.expect(201);
    s.send(
        "GET",
        "/1.0/users/?_page=1&_pagesize=9",
        &[("X-Request-Id", "trace-2")],
        None,
    )
    .expect(200);
    s.send(
        "GET",
        "/1.0/voicemails/77",
        &[("X-Request-Id", "trace-3")],
        None,
    )
    .expect_empty(404);

    let lines = log_lines(&s, "users", "trace-1");
    assert_eq!(lines.len(), 1, "{}", s.log("users"));
    let line = &lines[0];
    for key in [
        "time",
        "request_id",
        "component",
        "method",
        "path",
        "status",
        "duration_ms",
        "client",
    ] {
        assert!(line.get(key).is_some(), "no {key} in {line}");
    }
    assert_eq!(line["request_id"], "trace-1");
    assert_eq!(line["component"], "users");
    assert_eq!(line["method"], "POST");
    assert_eq!(line["status"], 201);
    assert!(line["time"].as_str().unwrap().ends_with('Z'), "{line}");
    assert!(line["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(line["client"].as_str().unwrap().contains(':'), "{line}");
    // The query's keys, not its values; no body, no header's value.
    assert_eq!(line["path"], "/1.0/users/?note");
    let listed = &log_lines(&s, "users", "trace-2")[0];
    assert_eq!(listed["path"], "/1.0/users/?_page&_pagesize");
    let missing = &log_lines(&s, "voicemails", "trace-3")[0];
    assert_eq!(
        (missing["component"].as_str(), missing["status"].as_u64()),
        (Some("voicemails"), Some(404))
    );
    let log = s.log("users");
    for secret in ["hidden-value", "s3cret-pw", "d1g3st", "Ann"] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
}

/// Why the tests of the wait for a local file's lock do not run on sqld: the lock they hold
/// is a direct connection's to the server's file, which the server does not queue behind (it
/// answers "database is locked" at once, 503); the server's own queue of writers is tested
/// across two instances in `scale_out`.
const LOCAL_LOCK: &str = "the write lock of a local file, held by a direct connection";

/// Another writer (a direct connection) holds the write lock past the bound: the POST waits,
/// then answers 503 with `Retry-After` and creates nothing; once the lock is free, it passes.
#[test]
fn a_write_that_cannot_get_the_lock_is_503_and_changes_nothing() {
    if skipped_on_sqld(LOCAL_LOCK) {
        return;
    }
    let s = Server::start_with(|c| c.with_variable("db_lock_timeout_ms", "300"));
    s.get("/1.0/users/").expect(200); // the first request creates the schema
    let holder = s.sql();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let r = s.post("/1.0/users/", &json!({"firstname": "Busy"}));
    let waited = started.elapsed();
    r.expect_error(503, &["Service busy, try again"]);
    assert_eq!(r.header("retry-after"), Some("1"));
    let id = assert_generated(&r);
    // The log keeps the detail, with the request id; the client got none of it.
    let line = &log_lines(&s, "users", &id)[0];
    assert_eq!(line["status"], 503);
    assert!(line["error"].as_str().unwrap().contains("locked"), "{line}");
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // Reads go on while a writer holds the lock (rollback journal: it has not committed).
    s.get("/1.0/users/").expect(200);
    holder.execute_batch("ROLLBACK").unwrap();
    let users: i64 = holder
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 0);
    s.post("/1.0/users/", &json!({"firstname": "Free"}))
        .expect(201);
}

/// A lock held for a while, then released within the bound: the waiting write gets it.
#[test]
fn a_write_waits_for_a_lock_released_in_time() {
    if skipped_on_sqld(LOCAL_LOCK) {
        return;
    }
    let s = Server::start();
    s.get("/1.0/users/").expect(200);
    let holder = s.sql();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let addr = s.addr;
    let writer = std::thread::spawn(move || {
        let body = br#"{"firstname": "Patient"}"#;
        let r = crate::client::send(
            addr,
            "POST",
            "/1.0/users/",
            &[("Content-Type", "application/json")],
            Some(body),
        );
        (r.status, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(400));
    holder.execute_batch("COMMIT").unwrap();
    let (status, waited) = writer.join().unwrap();
    assert_eq!(status, 201);
    assert!(waited >= Duration::from_millis(400), "{waited:?}");
    assert_eq!(s.get("/1.0/users/").json()["total"], 1);
}

/// A read that cannot get the database in time (another connection writes its commit, holding
/// the exclusive lock, past the busy timeout, 5 s) is 503 as well.
#[test]
fn a_read_locked_out_is_503() {
    if skipped_on_sqld("sqld keeps its file in WAL mode, where a writer never locks readers out") {
        return;
    }
    let s = Server::start();
    s.get("/1.0/users/").expect(200);
    let holder = s.sql();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let r = s.get("/1.0/users/");
    r.expect_error(503, &["Service busy, try again"]);
    assert_eq!(r.header("retry-after"), Some("1"));
    holder.execute_batch("ROLLBACK").unwrap();
    s.get("/1.0/users/").expect(200);
}
