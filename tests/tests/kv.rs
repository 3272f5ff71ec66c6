//! Spin's key-value store under the test host and under Spin: the probe component
//! (tests/kv-probe) answers the same requests, over stores configured the same way
//! (`[key_value_store.default]` and a store the probe may not open), on SQLite files (`type =
//! "spin"`) and on a Redis server (`type = "redis"`), and the answers, and what the files or
//! the server hold, must be the same. Without a Spin CLI (see `testhost::spin_up::find`) the
//! Spin half does not run, and is listed so (`testhost::skips`); the test host's answers are
//! still checked against what Spin 4.0.2 answers. The Redis tests need a `redis-server`
//! (`REDIS_SERVER`, or on the `PATH`), and are listed as not run when there is none.
//! `E2E_REQUIRE_ALL=1` makes either a failure.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use testhost::redis_server::RedisServer;
use testhost::runtime_config::{Database, KeyValueStore};
use testhost::spin_up::{AppSource, SpinUp};
use testhost::{App, Manifest};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The probe's manifest, its component built once per test binary by its build command.
fn probe() -> PathBuf {
    static MANIFEST: OnceLock<PathBuf> = OnceLock::new();
    MANIFEST
        .get_or_init(|| {
            let manifest = workspace().join("tests/kv-probe/spin.toml");
            Manifest::load(&manifest)
                .unwrap()
                .build()
                .expect("the probe's build command");
            manifest
        })
        .clone()
}

/// A fresh directory of this test process's own.
fn fresh_dir(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("kv-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tokio() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

/// The largest value `get` returns: Spin weighs a value as its bytes plus an
/// `Option<Vec<u8>>`, and refuses more than 128 MiB.
const LARGEST: usize = (128 << 20) - std::mem::size_of::<Option<Vec<u8>>>();

const TOO_LARGE: &str = "Err(Error::Other(\"query result exceeds limit of 134217728 bytes\"))";

struct Step {
    method: &'static str,
    path: String,
    body: Vec<u8>,
    /// What Spin 4.0.2 answers: status and body.
    status: u16,
    answer: Vec<u8>,
}

fn step(method: &'static str, path: &str, body: &[u8], status: u16, answer: &[u8]) -> Step {
    Step {
        method,
        path: path.to_string(),
        body: body.to_vec(),
        status,
        answer: answer.to_vec(),
    }
}

/// The requests, in order, each with Spin's answer.
fn scenario() -> Vec<Step> {
    let binary: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    // 1 MiB that no two runs of a pattern would mistake for one another.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mib: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    vec![
        step("GET", "/kv", b"", 200, b"[]"),
        // A missing key: no value, no tuple, and deleting it is no error.
        step("GET", "/kv/missing", b"", 404, b""),
        step("GET", "/kv-len/missing", b"", 200, b"Ok(None)"),
        step("GET", "/kv-exists/missing", b"", 200, b"Ok(false)"),
        step("DELETE", "/kv/missing", b"", 200, b""),
        // Set, get, overwrite.
        step("PUT", "/kv/text", b"hello", 200, b""),
        step("GET", "/kv/text", b"", 200, b"hello"),
        step("PUT", "/kv/text", b"again", 200, b""),
        step("GET", "/kv/text", b"", 200, b"again"),
        step("GET", "/kv-exists/text", b"", 200, b"Ok(true)"),
        // Any bytes, none at all, and 1 MiB.
        step("PUT", "/kv/binary", &binary, 200, b""),
        step("GET", "/kv/binary", b"", 200, &binary),
        step("PUT", "/kv/empty", b"", 200, b""),
        step("GET", "/kv/empty", b"", 200, b""),
        step("GET", "/kv-len/empty", b"", 200, b"Ok(Some(0))"),
        step("GET", "/kv-exists/empty", b"", 200, b"Ok(true)"),
        step("PUT", "/kv/mib", &mib, 200, b""),
        step("GET", "/kv/mib", b"", 200, &mib),
        // Keys come back in the table's order: bytewise.
        step("PUT", "/kv/%C3%A9t%C3%A9", b"summer", 200, b""),
        step("PUT", "/kv/B", b"b", 200, b""),
        step("PUT", "/kv/a%20b", b"a b", 200, b""),
        step("GET", "/kv/%C3%A9t%C3%A9", b"", 200, b"summer"),
        step(
            "GET",
            "/kv",
            b"",
            200,
            r#"["B", "a b", "binary", "empty", "mib", "text", "été"]"#.as_bytes(),
        ),
        // Delete.
        step("DELETE", "/kv/text", b"", 200, b""),
        step("GET", "/kv/text", b"", 404, b""),
        step("GET", "/kv-exists/text", b"", 200, b"Ok(false)"),
        // Opening: the component's own store; one nobody has; one the app has (`other`)
        // but the component does not list. Spin denies both alike. Stores are not limited
        // in number.
        step("GET", "/kv-open/default", b"", 200, b"Ok(())"),
        step(
            "GET",
            "/kv-open/unknown",
            b"",
            200,
            b"Err(Error::AccessDenied)",
        ),
        step(
            "GET",
            "/kv-open/other",
            b"",
            200,
            b"Err(Error::AccessDenied)",
        ),
        step("GET", "/kv-open-many/300", b"", 200, b"300 None"),
        // No limit on what `set` stores; `get` returns at most 128 MiB; `exists` reads no
        // value.
        step(
            "POST",
            &format!("/kv-fill/largest?{LARGEST}"),
            b"",
            200,
            b"",
        ),
        step(
            "GET",
            "/kv-len/largest",
            b"",
            200,
            format!("Ok(Some({LARGEST}))").as_bytes(),
        ),
        step(
            "POST",
            &format!("/kv-fill/over?{}", LARGEST + 1),
            b"",
            200,
            b"",
        ),
        step("GET", "/kv-len/over", b"", 200, TOO_LARGE.as_bytes()),
        step(
            "GET",
            "/kv/over",
            b"",
            500,
            &TOO_LARGE.as_bytes()[4..TOO_LARGE.len() - 1],
        ),
        step("GET", "/kv-exists/over", b"", 200, b"Ok(true)"),
        step("DELETE", "/kv/largest", b"", 200, b""),
        step("DELETE", "/kv/over", b"", 200, b""),
        step(
            "GET",
            "/kv",
            b"",
            200,
            r#"["B", "a b", "binary", "empty", "mib", "été"]"#.as_bytes(),
        ),
    ]
}

/// Status and body of each step's answer.
type Answers = Vec<(u16, Vec<u8>)>;

/// How long a step's answer may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(120);

fn run(addr: SocketAddr, steps: &[Step], timeout: Duration) -> Answers {
    steps
        .iter()
        .map(|s| send(addr, s.method, &s.path, &s.body, timeout))
        .collect()
}

/// Where the probe's stores are: the `default` store, and `other`, which the probe may not
/// open.
enum Stores {
    /// Files in the run's directory (relative paths, from the runtime config's directory,
    /// under Spin).
    Files,
    /// Both on this Redis server.
    Redis(String),
}

const FILES: [(&str, &str); 2] = [("default", "kv.db"), ("other", "other.db")];

impl Stores {
    fn in_test_host(&self, dir: &Path) -> Vec<(&'static str, KeyValueStore)> {
        match self {
            Self::Files => FILES
                .map(|(label, file)| (label, KeyValueStore::File(dir.join(file))))
                .into(),
            Self::Redis(url) => FILES
                .map(|(label, _)| (label, KeyValueStore::Redis { url: url.clone() }))
                .into(),
        }
    }

    fn spin_runtime_config(&self) -> String {
        match self {
            Self::Files => FILES
                .iter()
                .map(|(label, file)| {
                    format!("[key_value_store.{label}]\ntype = \"spin\"\npath = \"{file}\"\n")
                })
                .collect(),
            Self::Redis(_) => self
                .in_test_host(Path::new("/"))
                .iter()
                .map(|(label, store)| store.runtime_config(label).unwrap())
                .collect(),
        }
    }
}

fn in_test_host(dir: &Path, stores: &Stores, steps: &[Step], timeout: Duration) -> Answers {
    let mut app = App::load(&probe()).unwrap().without_environment();
    for (label, store) in stores.in_test_host(dir) {
        app = app.with_key_value_store(label, &store).unwrap();
    }
    let listener = tokio()
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio().spawn(testhost::serve(app, listener));
    let answers = run(addr, steps, timeout);
    server.abort();
    answers
}

/// `None` when there is no Spin CLI.
fn in_spin(dir: &Path, stores: &Stores, steps: &[Step], timeout: Duration) -> Option<Answers> {
    let Some(spin) = testhost::spin_up::find(&workspace()) else {
        testhost::skips::missing("no Spin CLI (set SPIN, or put spin on the PATH): the Spin half");
        return None;
    };
    let database = Database::File(dir.join("sqlite.db"));
    let running = SpinUp {
        spin,
        app: AppSource::Manifest(probe()),
        dir: dir.to_path_buf(),
        runtime_config: database.runtime_config().unwrap() + &stores.spin_runtime_config(),
        variables: Vec::new(),
        listen: "127.0.0.1:0".parse().unwrap(),
    }
    .start()
    .unwrap_or_else(|e| panic!("{e:#}"));
    let answers = run(running.addr, steps, timeout);
    // Stopped, so that its connection is closed before the file is read.
    drop(running);
    Some(answers)
}

/// Each step's answer held to Spin's.
fn check_against_spin(runtime: &str, steps: &[Step], answers: &Answers, keys_in_order: bool) {
    for (s, (status, body)) in steps.iter().zip(answers) {
        assert!(
            *status == s.status && same(body, &s.answer, keys_in_order),
            "{runtime}, {} {}: {status} {}, where Spin answers {} {}",
            s.method,
            s.path,
            show(body),
            s.status,
            show(&s.answer)
        );
    }
}

/// The test host's answers and Spin's alike, step by step.
fn check_alike(steps: &[Step], host: &Answers, spin: &Answers, keys_in_order: bool) {
    for (s, (h, sp)) in steps.iter().zip(host.iter().zip(spin)) {
        assert!(
            h.0 == sp.0 && same(&h.1, &sp.1, keys_in_order),
            "{} {}: the test host answers {} {}, Spin {} {}",
            s.method,
            s.path,
            h.0,
            show(&h.1),
            sp.0,
            show(&sp.1)
        );
    }
}

/// Two answers alike: the same bytes, or, where keys come in no set order, the same list of
/// keys in any order.
fn same(a: &[u8], b: &[u8], keys_in_order: bool) -> bool {
    let sorted = |list: &[u8]| {
        let text = String::from_utf8_lossy(list);
        let mut keys: Vec<String> = text
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(", ")
            .map(str::to_string)
            .collect();
        keys.sort();
        keys
    };
    a == b || (!keys_in_order && a.starts_with(b"[") && sorted(a) == sorted(b))
}

fn show(body: &[u8]) -> String {
    if body.len() > 200 {
        format!("{} bytes", body.len())
    } else {
        format!("{:?}", String::from_utf8_lossy(body))
    }
}

#[test]
fn the_key_value_store_answers_as_spin_does() {
    let steps = scenario();
    let host_dir = fresh_dir("testhost");
    let host = in_test_host(&host_dir, &Stores::Files, &steps, STEP_TIMEOUT);
    check_against_spin("test host", &steps, &host, true);
    let host_rows = rows(&host_dir.join("kv.db"));
    assert_eq!(host_rows.0, SCHEMA, "the test host's table is not Spin's");
    assert_eq!(
        host_rows.1.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        ["B", "a b", "binary", "empty", "mib", "été"],
        "the data is not in the configured file"
    );
    assert!(host_rows.1.iter().all(|r| r.0 == "default"));
    assert!(
        !host_dir.join("other.db").exists(),
        "a store nobody opened has no file"
    );

    let spin_dir = fresh_dir("spin");
    let Some(spin) = in_spin(&spin_dir, &Stores::Files, &steps, STEP_TIMEOUT) else {
        let _ = std::fs::remove_dir_all(host_dir);
        let _ = std::fs::remove_dir_all(spin_dir);
        return;
    };
    check_alike(&steps, &host, &spin, true);
    let spin_rows = rows(&spin_dir.join("kv.db"));
    assert_eq!(spin_rows.0, host_rows.0, "the tables differ");
    assert!(
        spin_rows.1 == host_rows.1,
        "the rows differ: Spin's {:?}, the test host's {:?}",
        summary(&spin_rows.1),
        summary(&host_rows.1)
    );
    assert!(!spin_dir.join("other.db").exists());
    let _ = std::fs::remove_dir_all(host_dir);
    let _ = std::fs::remove_dir_all(spin_dir);
}

/// The same requests over a Redis server (Spin's `key-value-redis`): the same answers, but for
/// the lists of keys, which come in the server's order and are compared as sets; and the server
/// holds each key as the component named it, with its value, under both runtimes.
#[test]
fn the_redis_store_answers_as_spin_does() {
    let Some(binary) = testhost::redis_server::find(&workspace()) else {
        testhost::skips::missing("no redis-server (set REDIS_SERVER, or put it on the PATH)");
        return;
    };
    let steps = scenario();
    let host_redis = RedisServer::start(&binary, &fresh_dir("redis-host-server")).unwrap();
    let stores = Stores::Redis(host_redis.url());
    let host = in_test_host(&fresh_dir("redis-host"), &stores, &steps, STEP_TIMEOUT);
    check_against_spin("test host on Redis", &steps, &host, false);
    let host_data = redis_data(&host_redis.url());
    assert_eq!(
        host_data
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>(),
        ["B", "a b", "binary", "empty", "mib", "été"],
        "the keys are not the component's own"
    );

    let spin_redis = RedisServer::start(&binary, &fresh_dir("redis-spin-server")).unwrap();
    let stores = Stores::Redis(spin_redis.url());
    let Some(spin) = in_spin(&fresh_dir("redis-spin"), &stores, &steps, STEP_TIMEOUT) else {
        return;
    };
    check_alike(&steps, &host, &spin, false);
    assert!(
        redis_data(&spin_redis.url()) == host_data,
        "the servers hold different data"
    );
}

/// A store on a Redis server that does not answer: opening it fails (`other`) with the same
/// words under both runtimes, after the same wait: the `redis` crate's connection manager
/// tries 7 times, its back-off growing from 1 s to 60 s with jitter (measured under Spin
/// 4.0.2: 492 s). Too long for every run; `cargo test -p testhost --test kv -- --ignored`
/// runs it (both runtimes at once).
#[test]
#[ignore = "about 8 minutes: the redis crate's back-off when the server does not answer"]
fn an_unreachable_redis_fails_as_in_spin() {
    // A port nothing listens on: bound, then let go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let stores = Stores::Redis(format!("redis://{closed}"));
    let steps = [
        step(
            "GET",
            "/kv-open/default",
            b"",
            200,
            b"Err(Error::Other(\"Connection refused (os error 111)\"))",
        ),
        step(
            "GET",
            "/kv-open/other",
            b"",
            200,
            b"Err(Error::AccessDenied)",
        ),
    ];
    let wait = Duration::from_secs(900);
    let (host, spin) = std::thread::scope(|scope| {
        let spin = scope.spawn(|| in_spin(&fresh_dir("unreachable-spin"), &stores, &steps, wait));
        let host = in_test_host(&fresh_dir("unreachable-host"), &stores, &steps, wait);
        (host, spin.join().unwrap())
    });
    check_against_spin("test host", &steps, &host, true);
    if let Some(spin) = spin {
        check_against_spin("Spin", &steps, &spin, true);
    }
}

/// Every key of a Redis server with its value, by key.
fn redis_data(url: &str) -> Vec<(String, Vec<u8>)> {
    let mut redis = redis::Client::open(url)
        .and_then(|c| c.get_connection())
        .unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut redis).unwrap();
    keys.sort();
    keys.into_iter()
        .map(|key| {
            let value: Vec<u8> = redis::cmd("GET").arg(&key).query(&mut redis).unwrap();
            (key, value)
        })
        .collect()
}

type Row = (String, String, String, Vec<u8>);

/// Rows without their values: store, key, type and length of the value.
fn summary(rows: &[Row]) -> Vec<(&str, &str, &str, usize)> {
    rows.iter()
        .map(|r| (r.0.as_str(), r.1.as_str(), r.2.as_str(), r.3.len()))
        .collect()
}

/// Spin's table, as `sqlite_master` holds it.
const SCHEMA: &str = "CREATE TABLE spin_key_value (
                           store TEXT NOT NULL,
                           key   TEXT NOT NULL,
                           value BLOB NOT NULL,

                           PRIMARY KEY (store, key)
                        )";

/// A store file's schema, and its rows: store, key, value's type, value.
fn rows(file: &Path) -> (String, Vec<Row>) {
    let conn =
        rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let schema: String = conn
        .query_row(
            "SELECT group_concat(sql, ';') FROM sqlite_master",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut statement = conn
        .prepare("SELECT store, key, typeof(value), value FROM spin_key_value ORDER BY store, key")
        .unwrap();
    let rows = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (schema, rows)
}

#[test]
fn the_default_store_is_spins() {
    let app = App::load(&probe()).unwrap();
    assert_eq!(
        app.key_value_store("default"),
        Some(KeyValueStore::File(
            workspace().join("tests/kv-probe/.spin/sqlite_key_value.db")
        ))
    );
    assert_eq!(app.key_value_store("other"), None);
}

/// A component listing a store the app does not have: neither runtime starts.
#[test]
fn an_unknown_label_is_refused_at_start() {
    let dir = fresh_dir("unknown-label");
    let text = std::fs::read_to_string(probe())
        .unwrap()
        .replace(
            "key_value_stores = [\"default\"]",
            "key_value_stores = [\"default\", \"nope\"]",
        )
        .replace(
            "../../target",
            &workspace().join("target").display().to_string(),
        );
    let manifest = dir.join("spin.toml");
    std::fs::write(&manifest, text).unwrap();
    let expected = "unknown key_value_stores label \"nope\" for component \"kv-probe\"";

    let error = App::load(&manifest).err().expect("the test host loads it");
    assert_eq!(format!("{error:#}"), expected);

    if let Some(spin) = testhost::spin_up::find(&workspace()) {
        let error = SpinUp {
            spin,
            app: AppSource::Manifest(manifest),
            dir: dir.join("spin"),
            runtime_config: Database::File(dir.join("sqlite.db"))
                .runtime_config()
                .unwrap(),
            variables: Vec::new(),
            listen: "127.0.0.1:0".parse().unwrap(),
        }
        .start()
        .err()
        .expect("spin up starts it");
        assert!(format!("{error:#}").contains(expected), "{error:#}");
    } else {
        testhost::skips::missing("no Spin CLI (set SPIN, or put spin on the PATH): the Spin half");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// One request on its own connection; status and (de-chunked) body.
fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    timeout: Duration,
) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("{method} {path}: no response"));
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = raw[end + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&raw[..line]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        raw = &raw[line + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}
