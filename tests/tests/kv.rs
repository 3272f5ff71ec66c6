//! Spin's key-value store under the test host and under Spin: the probe component
//! (tests/kv-probe) answers the same requests, over stores configured the same way
//! (`[key_value_store.default]` and a store the probe may not open), and the answers, the
//! files' schema and their rows must be the same. Without a Spin CLI (see
//! `testhost::spin_up::find`) the Spin half says so on stderr and is skipped; the test host's
//! answers are still checked against what Spin 4.0.2 answers.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use testhost::runtime_config::Database;
use testhost::spin_up::SpinUp;
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

fn run(addr: SocketAddr, steps: &[Step]) -> Answers {
    steps
        .iter()
        .map(|s| send(addr, s.method, &s.path, &s.body))
        .collect()
}

/// The runtime config both runtimes serve: the probe's `default` store, and `other`, which
/// the probe may not open. Relative paths, from the runtime config's directory under Spin.
const STORES: [(&str, &str); 2] = [("default", "kv.db"), ("other", "other.db")];

fn in_test_host(dir: &Path, steps: &[Step]) -> Answers {
    let mut app = App::load(&probe()).unwrap().without_environment();
    for (label, file) in STORES {
        app = app.with_key_value_store(label, &dir.join(file));
    }
    let listener = tokio()
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio().spawn(testhost::serve(app, listener));
    let answers = run(addr, steps);
    server.abort();
    answers
}

fn spin_runtime_config() -> String {
    STORES
        .iter()
        .map(|(label, file)| {
            format!("[key_value_store.{label}]\ntype = \"spin\"\npath = \"{file}\"\n")
        })
        .collect()
}

/// `None` when there is no Spin CLI.
fn in_spin(dir: &Path, steps: &[Step]) -> Option<Answers> {
    let Some(spin) = testhost::spin_up::find(&workspace()) else {
        eprintln!("no Spin CLI (set SPIN, or put spin on the PATH): the Spin half is skipped");
        return None;
    };
    let running = SpinUp {
        spin,
        manifest: probe(),
        dir: dir.to_path_buf(),
        database: Database::File(dir.join("sqlite.db")),
        variables: Vec::new(),
        listen: "127.0.0.1:0".parse().unwrap(),
    }
    .start_with(&spin_runtime_config())
    .unwrap_or_else(|e| panic!("{e:#}"));
    let answers = run(running.addr, steps);
    // Stopped, so that its connection is closed before the file is read.
    drop(running);
    Some(answers)
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
    let host = in_test_host(&host_dir, &steps);
    for (s, (status, body)) in steps.iter().zip(&host) {
        assert!(
            *status == s.status && *body == s.answer,
            "test host, {} {}: {status} {}, where Spin answers {} {}",
            s.method,
            s.path,
            show(body),
            s.status,
            show(&s.answer)
        );
    }
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
    let Some(spin) = in_spin(&spin_dir, &steps) else {
        let _ = std::fs::remove_dir_all(host_dir);
        let _ = std::fs::remove_dir_all(spin_dir);
        return;
    };
    for (s, (h, sp)) in steps.iter().zip(host.iter().zip(&spin)) {
        assert!(
            h == sp,
            "{} {}: the test host answers {} {}, Spin {} {}",
            s.method,
            s.path,
            h.0,
            show(&h.1),
            sp.0,
            show(&sp.1)
        );
    }
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
        Some(
            workspace()
                .join("tests/kv-probe/.spin/sqlite_key_value.db")
                .as_path()
        )
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
            manifest,
            dir: dir.join("spin"),
            database: Database::File(dir.join("sqlite.db")),
            variables: Vec::new(),
            listen: "127.0.0.1:0".parse().unwrap(),
        }
        .start()
        .err()
        .expect("spin up starts it");
        assert!(format!("{error:#}").contains(expected), "{error:#}");
    } else {
        eprintln!("no Spin CLI (set SPIN, or put spin on the PATH): the Spin half is skipped");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// One request on its own connection; status and (de-chunked) body.
fn send(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
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
