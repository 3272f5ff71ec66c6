//! `cargo bench -p testhost -- round-trips`: what each request shape sends a libSQL server.
//! Every statement the components run there is an HTTP round trip (Spin's libSQL client: one
//! `POST /v3/cursor` each), except the ones the client itself refuses before sending (`PRAGMA
//! busy_timeout = ...`, which `components/common/src/db/connection.rs` sends to tell a server from a
//! file). Counted through the test host's statement log, on a fresh sqld, each request alone.
//! The round trips that hold the server's write lock: a transaction's (`BEGIN IMMEDIATE` to
//! `COMMIT`), between which an instance that dies holds every other instance's writes until
//! sqld takes the lock back (5 s; README, "Scaling out"), or a write sent alone (1: held only
//! while the server runs it).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use testhost::sqld::Sqld;
use testhost::App;

/// A request shape: its name, method, path and JSON body.
type Shape = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

const SHAPES: &[Shape] = &[
    (
        "create a user",
        "POST",
        "/1.0/users/",
        Some(r#"{"firstname": "Ada", "line": {"number": "1001"}}"#),
    ),
    ("read a user", "GET", "/1.0/users/1", None),
    ("list users", "GET", "/1.0/users/", None),
    (
        "edit a user",
        "PUT",
        "/1.0/users/1",
        Some(r#"{"lastname": "Lovelace"}"#),
    ),
    (
        "create a queue",
        "POST",
        "/1.0/CallCenter/queues/",
        Some(r#"{"name": "q", "number": "3000"}"#),
    ),
    (
        "create a campaign",
        "POST",
        "/1.0/recording_campaigns/",
        Some(
            r#"{"campaign_name": "c", "activated": true, "base_filename": "f", "queue_id": 1, "start_date": "2013-01-01", "end_date": "2099-01-01"}"#,
        ),
    ),
    (
        "the hook: running campaigns of a queue",
        "GET",
        "/1.0/recording_campaigns/?queue_id=1&running=true",
        None,
    ),
    (
        "the hook: post a recording",
        "POST",
        "/1.0/recording_campaigns/1/",
        Some(
            r#"{"cid": "r1", "agent_no": "2123", "start_time": "2013-01-22 14:53:33", "end_time": "2013-01-22 14:55:00"}"#,
        ),
    ),
    ("delete a user", "DELETE", "/1.0/users/1", None),
];

pub fn round_trips(root: &Path, dir: &Path, report: &mut String) -> Result<()> {
    let binary =
        testhost::sqld::find(root).context("no sqld: set SQLD, or put sqld on the PATH")?;
    let sqld_dir = dir.join("round-trips-sqld");
    let _ = std::fs::remove_dir_all(&sqld_dir);
    let sqld = Sqld::start(&binary, &sqld_dir)?;
    let log: testhost::sqlite::StatementLog = Arc::new(Mutex::new(Vec::new()));
    let app = App::load(&root.join("spin.toml"))?
        .with_database_config(&sqld.database())
        .with_statement_log(log.clone());
    let runtime = tokio::runtime::Runtime::new()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    runtime.spawn(testhost::serve(app, listener));

    // A fresh server: the first request migrates it, and an agent for the recording.
    crate::http(addr, "GET", "/1.0/users/", None)?;
    crate::http(
        addr,
        "POST",
        "/1.0/CallCenter/agents/",
        Some(r#"{"firstname": "Chuck", "number": "2123"}"#),
    )?;

    writeln!(
        report,
        "\nRound trips to a libSQL server, per request (a fresh sqld 0.24, the test host's \
         statement log; the libSQL client refuses `PRAGMA busy_timeout` before sending it):\n\n\
         | request | statements | round trips | of which holding the write lock | the statements sent |\n\
         |---|---:|---:|---:|---|"
    )?;
    for (name, method, path, body) in SHAPES {
        log.lock().unwrap().clear();
        let (status, answer) = crate::http(addr, method, path, *body)?;
        if status >= 300 {
            bail!(
                "{method} {path}: {status} {}",
                String::from_utf8_lossy(&answer)
            );
        }
        let statements: Vec<String> = log
            .lock()
            .unwrap()
            .iter()
            .map(|(sql, _)| sql.clone())
            .collect();
        let sent: Vec<&String> = statements
            .iter()
            .filter(|sql| !sql.starts_with("PRAGMA busy_timeout"))
            .collect();
        let locked = holding_the_lock(&sent);
        let shown: Vec<String> = sent.iter().map(|sql| first_words(sql)).collect();
        writeln!(
            report,
            "| {name} (`{method} {path}`) | {} | {} | {locked} | {} |",
            statements.len(),
            sent.len(),
            shown.join("; ")
        )?;
    }
    Ok(())
}

/// The round trips that hold the server's write lock: each of a transaction's, from `BEGIN
/// IMMEDIATE` to its `COMMIT` or `ROLLBACK` (the lock is held between them, and a dead client
/// keeps it until the server takes it back), and each write sent alone (held only while the
/// server runs it).
fn holding_the_lock(sent: &[&String]) -> usize {
    let mut inside = false;
    let mut count = 0;
    for sql in sent {
        if sql.starts_with("BEGIN IMMEDIATE") {
            inside = true;
        }
        let writes = ["INSERT", "UPDATE", "DELETE", "REPLACE"]
            .iter()
            .any(|w| sql.starts_with(w));
        if inside || writes {
            count += 1;
        }
        if sql.starts_with("COMMIT") || sql.starts_with("ROLLBACK") {
            inside = false;
        }
    }
    count
}

/// A statement's first words, enough to tell it (`SELECT ... FROM users`).
fn first_words(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().collect();
    match words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("FROM") || w.eq_ignore_ascii_case("INTO"))
    {
        Some(i) if i + 1 < words.len() => format!(
            "{} … {} {}",
            words[0],
            words[i],
            words[i + 1].trim_matches('"')
        ),
        _ => words.iter().take(3).copied().collect::<Vec<_>>().join(" "),
    }
}
