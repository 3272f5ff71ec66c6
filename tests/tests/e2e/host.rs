//! The ground under every family: the schema migrating itself, and the test host behaving as
//! Spin does where the components can tell.

use std::path::Path;

use crate::support::{fresh_db, send, workspace, Server};
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
    let again = Server::start_with(|app| app.with_database(&s.db).unwrap());
    assert_eq!(
        again.get("/1.0/users/").json()["items"][0]["firstname"],
        "Kept"
    );
}

/// A copy of `spin.toml` where the users component may not open the database.
fn manifest_without_database_permission(dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(workspace().join("spin.toml")).unwrap();
    let users = workspace().join("target/wasm32-wasip1/release/users.wasm");
    let text = text
        .replace("source = \"target/wasm32-wasip1/release/users.wasm\"\nsqlite_databases = [\"default\"]",
                 &format!("source = \"{}\"\nsqlite_databases = []", users.display()))
        .replace("source = \"target/", &format!("source = \"{}/target/", workspace().display()));
    assert!(text.contains("sqlite_databases = []"));
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_host_honours_sqlite_databases() {
    crate::support::Server::start(); // the components are built
    let db = fresh_db();
    let dir = db.with_extension("manifest");
    std::fs::create_dir_all(&dir).unwrap();
    let app = testhost::App::load(&manifest_without_database_permission(&dir))
        .unwrap()
        .with_database(&db)
        .unwrap();
    let s = Server::start_with(|_| app);
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
    use testhost::spin::Connections;
    let s = Server::start_with(|app| app.with_connections(Connections::Reuse));
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
