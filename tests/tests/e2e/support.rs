//! The end-to-end harness: the real components, built by their `spin.toml` build commands,
//! served on loopback over a fresh SQLite file per test, and a plain HTTP/1.1 client that
//! sends exactly the bytes a test asks for.
//!
//! Two runtimes serve them: the test host, in process (the default), or the real Spin CLI,
//! one `spin up` per server (`E2E_RUNTIME=spin`; `SPIN` names the binary, else `spin` on the
//! `PATH`). The tests are the same; the few that need what only the test host can do say so
//! with [`skipped_under_spin`]. Spin runs the app from the checkout (`spin.toml`), or, with
//! `E2E_FROM=registry`, as an OCI artifact: pushed once per test binary to a local registry
//! ([`registry_binary`]) and run with `spin up --from <reference> -k` from an empty folder.
//! Under Spin only: the test host has no OCI loader.
//!
//! The app's database is a fresh SQLite file per test, or, with `E2E_DATABASE=sqld`, a fresh
//! libSQL server per test (`SQLD` names the binary, else `sqld` on the `PATH`, else
//! `../shared/bin/sqld`), which the runtime reaches as Spin's `type = "libsql"`. The few tests
//! about what only a local file does say so with [`skipped_on_sqld`]. Its key-value store
//! (recording audio) is a fresh SQLite file per test, or, with `E2E_KEY_VALUE=redis`, a fresh
//! Redis server per test (`REDIS_SERVER` names the binary, else `redis-server` on the
//! `PATH`), Spin's `type = "redis"`.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use testhost::process::ServerProcess;
use testhost::redis_server::RedisServer;
use testhost::registry::Registry;
use testhost::runtime_config::{Database, KeyValueStore, RuntimeConfig};
use testhost::spin::{Connections, StatementLog};
use testhost::spin_up::{AppSource, Running, SpinUp};
use testhost::sqld::Sqld;
use testhost::{App, Manifest};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// What serves the app in this run of the tests.
pub enum Runtime {
    TestHost,
    /// `spin up`, with this Spin CLI.
    Spin(PathBuf),
}

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| match std::env::var("E2E_RUNTIME").as_deref() {
        Err(_) | Ok("") | Ok("testhost") => Runtime::TestHost,
        Ok("spin") => Runtime::Spin(testhost::spin_up::find(&workspace()).expect(
            "E2E_RUNTIME=spin: no Spin CLI found (set SPIN to its path, or put spin on the PATH)",
        )),
        Ok(other) => panic!("E2E_RUNTIME is `testhost` or `spin`, not `{other}`"),
    })
}

/// Under Spin, a test that needs what only the test host can do passes without running, and
/// says why on stderr (`cargo test -- --nocapture` shows it). Use it first thing:
/// `if skipped_under_spin("why") { return; }`.
pub fn skipped_under_spin(why: &str) -> bool {
    let skip = matches!(runtime(), Runtime::Spin(_));
    if skip {
        eprintln!("skipped under Spin: {why}");
    }
    skip
}

/// The libSQL server to run, when the app's database is on one (`E2E_DATABASE=sqld`).
fn sqld() -> Option<&'static Path> {
    static ON: OnceLock<bool> = OnceLock::new();
    let on = *ON.get_or_init(|| {
        wants_server(
            "E2E_DATABASE",
            "sqld",
            sqld_binary(),
            "SQLD to its path, or put sqld",
        )
    });
    sqld_binary().filter(|_| on)
}

/// Whether `variable` asks for a server of this kind (`server`) instead of a local file
/// (unset, empty or `file`); a server asked for that is not found fails the run.
fn wants_server(variable: &str, server: &str, found: Option<&Path>, how: &str) -> bool {
    match std::env::var(variable).as_deref() {
        Err(_) | Ok("") | Ok("file") => false,
        Ok(v) if v == server => {
            assert!(
                found.is_some(),
                "{variable}={server}: none found (set {how} on the PATH)"
            );
            true
        }
        Ok(other) => panic!("{variable} is `file` or `{server}`, not `{other}`"),
    }
}

/// The sqld found (`SQLD`, `sqld` on the `PATH`, `../shared/bin/sqld`), whatever
/// `E2E_DATABASE` says: the two-instance tests run whenever there is one.
pub fn sqld_binary() -> Option<&'static Path> {
    static SQLD: OnceLock<Option<PathBuf>> = OnceLock::new();
    SQLD.get_or_init(|| testhost::sqld::find(&workspace()))
        .as_deref()
}

/// On a libSQL server, a test about what only a local file does passes without running, and
/// says why on stderr. Use it first thing: `if skipped_on_sqld("why") { return; }`.
pub fn skipped_on_sqld(why: &str) -> bool {
    let skip = sqld().is_some();
    if skip {
        eprintln!("skipped on sqld: {why}");
    }
    skip
}

/// The components, built once per test binary by their `spin.toml` build commands.
fn built() -> PathBuf {
    static MANIFEST: OnceLock<PathBuf> = OnceLock::new();
    MANIFEST
        .get_or_init(|| {
            let manifest = workspace().join("spin.toml");
            Manifest::load(&manifest)
                .unwrap()
                .build()
                .expect("spin.toml build commands");
            manifest
        })
        .clone()
}

/// Where `spin up` takes the app from: `E2E_FROM` unset or `checkout` (the default), the
/// built components and `spin.toml`; `registry`, the app pushed once per test binary.
fn app_source() -> AppSource {
    static SOURCE: OnceLock<AppSource> = OnceLock::new();
    SOURCE
        .get_or_init(|| match std::env::var("E2E_FROM").as_deref() {
            Err(_) | Ok("") | Ok("checkout") => AppSource::Manifest(built()),
            Ok("registry") => match runtime() {
                Runtime::Spin(spin) => AppSource::Registry(pushed(spin)),
                Runtime::TestHost => {
                    panic!("E2E_FROM=registry needs E2E_RUNTIME=spin: the test host has no OCI loader")
                }
            },
            Ok(other) => panic!("E2E_FROM is `checkout` or `registry`, not `{other}`"),
        })
        .clone()
}

/// The OCI registry to run (`DOCKER_REGISTRY`, else `docker-registry` on the `PATH`).
pub fn registry_binary() -> Option<PathBuf> {
    testhost::registry::find(&workspace())
}

/// The built app pushed with `spin registry push -k` to a registry of this test binary's own,
/// started from a thread that never ends, so that the registry stops when the binary does
/// ([`Registry`]); its reference.
fn pushed(spin: &Path) -> String {
    let binary = registry_binary().expect(
        "E2E_FROM=registry: no docker-registry found (set DOCKER_REGISTRY, or install Debian's \
         docker-registry)",
    );
    let manifest = built();
    let spin = spin.to_path_buf();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let pushed = Registry::start(&binary, &fresh_path("registry")).and_then(|registry| {
            let reference = registry.push(&spin, &manifest, "xivo-rest-api:e2e")?;
            Ok((registry, reference))
        });
        match pushed {
            Ok((registry, reference)) => {
                sender.send(Ok(reference)).unwrap();
                let _kept = registry;
                loop {
                    std::thread::park();
                }
            }
            Err(e) => sender.send(Err(format!("{e:#}"))).unwrap(),
        }
    });
    receiver.recv().unwrap().unwrap_or_else(|e| panic!("{e}"))
}

/// The application as the test host loads it, compiled once per test binary.
fn app() -> App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        App::load(&built())
            .expect("load the components")
            .without_environment()
    })
    .clone()
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

/// A path of this test process's own in Cargo's temporary directory for integration tests.
pub fn fresh_path(extension: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("e2e-{}-{n}.{extension}", std::process::id()))
}

/// A server of a test's own (sqld, redis-server): stopped when its last user is done, its
/// directory then removed unless the test failed (its output is there).
struct TestServer(Option<ServerProcess>);

impl Drop for TestServer {
    fn drop(&mut self) {
        let Some(server) = self.0.take() else { return };
        let dir = server.dir.clone();
        drop(server);
        if std::thread::panicking() {
            eprintln!("a test server's directory: {}", dir.display());
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The app's `default` database in a test: a file, or a libSQL server of its own.
#[derive(Clone)]
pub struct AppDatabase {
    /// The SQLite file behind it (the server's own file on sqld), for [`Server::sql`].
    pub file: PathBuf,
    config: Database,
    _sqld: Option<Arc<TestServer>>,
}

impl AppDatabase {
    /// As the runtime config names it.
    pub fn config(&self) -> Database {
        self.config.clone()
    }
}

impl AppDatabase {
    /// This file, as it is.
    pub fn file(path: &Path) -> Self {
        AppDatabase {
            config: Database::File(path.to_path_buf()),
            file: path.to_path_buf(),
            _sqld: None,
        }
    }
}

/// A fresh, empty database: a new file, or a new sqld under `E2E_DATABASE=sqld`.
pub fn fresh_db() -> AppDatabase {
    match sqld() {
        Some(_) => fresh_sqld(),
        None => {
            let path = fresh_path("db");
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            AppDatabase::file(&path)
        }
    }
}

/// A fresh libSQL server ([`sqld_binary`]'s), whatever `E2E_DATABASE` says.
pub fn fresh_sqld() -> AppDatabase {
    let binary = sqld_binary().expect("no sqld found (set SQLD, or put sqld on the PATH)");
    let sqld = Sqld::start(binary, &fresh_path("sqld")).unwrap_or_else(|e| panic!("{e:#}"));
    AppDatabase {
        file: sqld.data_file(),
        config: sqld.database(),
        _sqld: Some(Arc::new(TestServer(Some(sqld.0)))),
    }
}

/// The Redis server to run, when the app's key-value store is on one (`E2E_KEY_VALUE=redis`).
fn redis() -> Option<&'static Path> {
    static ON: OnceLock<bool> = OnceLock::new();
    let on = *ON.get_or_init(|| {
        let how = "REDIS_SERVER to its path, or put redis-server";
        wants_server("E2E_KEY_VALUE", "redis", redis_binary(), how)
    });
    redis_binary().filter(|_| on)
}

/// The redis-server found (`REDIS_SERVER`, `redis-server` on the `PATH`), whatever
/// `E2E_KEY_VALUE` says: the two-instance tests run whenever there is one.
pub fn redis_binary() -> Option<&'static Path> {
    static REDIS: OnceLock<Option<PathBuf>> = OnceLock::new();
    REDIS
        .get_or_init(|| testhost::redis_server::find(&workspace()))
        .as_deref()
}

/// The app's `default` key-value store in a test: a file, or a Redis server of its own.
#[derive(Clone)]
pub struct AppKeyValue {
    /// As the runtime config names it.
    pub store: KeyValueStore,
    _redis: Option<Arc<TestServer>>,
}

impl AppKeyValue {
    /// The store's keys that start with `prefix`, sorted (none before the store exists).
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let mut keys: Vec<String> = match &self.store {
            KeyValueStore::File(path) => {
                let Ok(conn) = rusqlite::Connection::open(path) else {
                    return Vec::new();
                };
                let Ok(mut statement) = conn.prepare(
                    "SELECT key FROM spin_key_value WHERE store = 'default' \
                     AND substr(key, 1, length(?1)) = ?1",
                ) else {
                    return Vec::new();
                };
                statement
                    .query_map([prefix], |r| r.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
            KeyValueStore::Redis { url } => {
                let mut redis = redis::Client::open(url.as_str())
                    .and_then(|c| c.get_connection())
                    .unwrap_or_else(|e| panic!("{url}: {e}"));
                let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut redis).unwrap();
                keys.into_iter().filter(|k| k.starts_with(prefix)).collect()
            }
        };
        keys.sort();
        keys
    }
}

impl AppKeyValue {
    /// This file, as it is.
    pub fn file(path: &Path) -> Self {
        AppKeyValue {
            store: KeyValueStore::File(path.to_path_buf()),
            _redis: None,
        }
    }
}

/// A fresh, empty key-value store: a new file, or a new Redis server under
/// `E2E_KEY_VALUE=redis`.
pub fn fresh_key_value() -> AppKeyValue {
    match redis() {
        Some(_) => fresh_redis(),
        None => AppKeyValue::file(&fresh_path("kv.db")),
    }
}

/// A fresh Redis server ([`redis_binary`]'s), whatever `E2E_KEY_VALUE` says.
pub fn fresh_redis() -> AppKeyValue {
    let binary =
        redis_binary().expect("no redis-server found (set REDIS_SERVER, or put it on the PATH)");
    let redis =
        RedisServer::start(binary, &fresh_path("redis")).unwrap_or_else(|e| panic!("{e:#}"));
    AppKeyValue {
        store: redis.store(),
        _redis: Some(Arc::new(TestServer(Some(redis.0)))),
    }
}

/// The address the test host reports for a remote client (TEST-NET-3).
const REMOTE: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5)), 40000);

/// The client address the components see for a client made remote by
/// [`Config::with_remote_client`].
pub fn remote_client_ip() -> IpAddr {
    match runtime() {
        Runtime::TestHost => REMOTE.ip(),
        Runtime::Spin(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

/// How a test wants the app served. Every setting holds under both runtimes but those marked
/// "test host only", which the tests using them skip under Spin.
#[derive(Default)]
pub struct Config {
    variables: Vec<(String, String)>,
    database: Option<AppDatabase>,
    key_value: Option<AppKeyValue>,
    runtime_config: Option<String>,
    manifest: Option<PathBuf>,
    remote: bool,
    statement_log: Option<StatementLog>,
    connections: Option<Connections>,
}

impl Config {
    /// An application variable, as `SPIN_VARIABLE_<NAME>` sets it.
    pub fn with_variable(mut self, name: &str, value: &str) -> Self {
        self.variables.push((name.to_string(), value.to_string()));
        self
    }

    /// This database instead of a fresh one.
    pub fn with_database(mut self, database: &AppDatabase) -> Self {
        self.database = Some(database.clone());
        self
    }

    /// This key-value store instead of a fresh one.
    pub fn with_key_value(mut self, key_value: &AppKeyValue) -> Self {
        self.key_value = Some(key_value.clone());
        self
    }

    /// Exactly this runtime config, which must name the database and key-value store given
    /// with [`Config::with_database`] and [`Config::with_key_value`] (or, where it names
    /// none, those must be the manifest's defaults): read by the test host as `testhost up
    /// --runtime-config-file` reads it, given to `spin up` as it is (empty: none at all).
    pub fn with_runtime_config(mut self, text: &str) -> Self {
        self.runtime_config = Some(text.to_string());
        self
    }

    /// This manifest instead of the workspace's `spin.toml`.
    pub fn with_manifest(mut self, path: &Path) -> Self {
        self.manifest = Some(path.to_path_buf());
        self
    }

    /// Requests come from a client that loopback trust does not cover. The test host reports
    /// a remote address ([`remote_client_ip`]); Spin reports the real one, loopback, so under
    /// Spin loopback is not trusted instead (`auth_trust_loopback=false`, unless set).
    pub fn with_remote_client(mut self) -> Self {
        self.remote = true;
        self
    }

    /// Test host only: record every statement the components run into `log`.
    pub fn with_statement_log(mut self, log: StatementLog) -> Self {
        self.statement_log = Some(log);
        self
    }

    /// Test host only: how SQLite connections are opened.
    pub fn with_connections(mut self, connections: Connections) -> Self {
        self.connections = Some(connections);
        self
    }
}

/// The app served on a loopback port of its own.
pub struct Server {
    pub addr: SocketAddr,
    pub db: AppDatabase,
    /// The `default` key-value store (recording audio).
    pub key_value: AppKeyValue,
    /// Where the components' output goes (`<component>_stderr.txt`), under both runtimes.
    pub logs: PathBuf,
    spin: Option<Running>,
}

impl Server {
    /// The app over a fresh database, variables at their `spin.toml` defaults.
    pub fn start() -> Self {
        Self::start_with(|config| config)
    }

    /// The app as `configure` says (variables, database, client address...).
    pub fn start_with(configure: impl FnOnce(Config) -> Config) -> Self {
        let config = configure(Config::default());
        let db = config.database.clone().unwrap_or_else(fresh_db);
        let key_value = config.key_value.clone().unwrap_or_else(fresh_key_value);

        match runtime() {
            Runtime::TestHost => Self::in_test_host(config, db, key_value),
            Runtime::Spin(spin) => Self::in_spin(spin, config, db, key_value),
        }
    }

    fn in_test_host(config: Config, db: AppDatabase, key_value: AppKeyValue) -> Self {
        let mut app = match &config.manifest {
            Some(manifest) => App::load(manifest).unwrap().without_environment(),
            None => app(),
        };
        let text = config
            .runtime_config
            .clone()
            .unwrap_or_else(|| runtime_config(&db, &key_value));
        app = app
            .with_runtime_config(&RuntimeConfig::parse(&text, Path::new("/")).unwrap())
            .unwrap();
        // What the test reads and writes behind the app's back is what the app uses.
        assert_eq!(app.database(), &db.config(), "{text}");
        assert_eq!(
            app.key_value_store("default"),
            Some(key_value.store.clone()),
            "{text}"
        );
        for (name, value) in &config.variables {
            app = app.with_variable(name, value);
        }
        if config.remote {
            app = app.with_client_addr(REMOTE);
        }
        if let Some(log) = config.statement_log {
            app = app.with_statement_log(log);
        }
        if let Some(connections) = config.connections {
            app = app.with_connections(connections);
        }
        let logs = fresh_path("logs");
        app = app.with_log_dir(&logs).unwrap();
        let listener = tokio()
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        tokio().spawn(testhost::serve(app, listener));
        Self {
            addr,
            db,
            key_value,
            logs,
            spin: None,
        }
    }

    fn in_spin(spin: &Path, config: Config, db: AppDatabase, key_value: AppKeyValue) -> Self {
        assert!(
            config.statement_log.is_none() && config.connections.is_none(),
            "a test host setting under Spin: skip the test with skipped_under_spin"
        );
        let mut variables = config.variables;
        if config.remote && !variables.iter().any(|(n, _)| n == "auth_trust_loopback") {
            variables.push(("auth_trust_loopback".into(), "false".into()));
        }
        let running = SpinUp {
            spin: spin.to_path_buf(),
            app: config.manifest.map_or_else(app_source, AppSource::Manifest),
            dir: fresh_path("spin"),
            runtime_config: config
                .runtime_config
                .unwrap_or_else(|| runtime_config(&db, &key_value)),
            variables,
            listen: "127.0.0.1:0".parse().unwrap(),
        }
        .start()
        .unwrap_or_else(|e| panic!("{e:#}"));
        Self {
            addr: running.addr,
            db,
            key_value,
            logs: running.dir.join("logs"),
            spin: Some(running),
        }
    }

    /// What a component has written to its log (stderr) so far.
    pub fn log(&self, component: &str) -> String {
        std::fs::read_to_string(self.logs.join(format!("{component}_stderr.txt")))
            .unwrap_or_default()
    }

    /// A component's log once it holds `text`, or as it is after a few seconds. Spin writes a
    /// component's output to its log file a moment after the response.
    pub fn log_with(&self, component: &str, text: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            let log = self.log(component);
            if log.contains(text) || started.elapsed() > std::time::Duration::from_secs(5) {
                return log;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// A direct connection to the database, for what the API cannot do (two lines for a user).
    /// On sqld, to the server's own file, which it serves in WAL mode: the server sees what
    /// this connection commits, and this connection what the server's do.
    pub fn sql(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(&self.db.file).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        conn
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn get(&self, path: &str) -> Response {
        self.send("GET", path, &[], None)
    }

    pub fn delete(&self, path: &str) -> Response {
        self.send("DELETE", path, &[], None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.send_json("POST", path, body)
    }

    pub fn put(&self, path: &str, body: &Value) -> Response {
        self.send_json("PUT", path, body)
    }

    pub fn send_json(&self, method: &str, path: &str, body: &Value) -> Response {
        let body = serde_json::to_vec(body).unwrap();
        self.send(
            method,
            path,
            &[("Content-Type", "application/json")],
            Some(&body),
        )
    }

    /// One request on its own connection: exactly these headers (plus `Host` unless given,
    /// `Connection: close` and, with a body, `Content-Length`).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Response {
        send(self.addr, method, path, headers, body)
    }
}

/// Why the runtime refuses to load the app of `manifest` (it must refuse).
pub fn load_error(manifest: &Path) -> String {
    match runtime() {
        Runtime::TestHost => match App::load(manifest) {
            Ok(_) => panic!("the test host loaded {}", manifest.display()),
            Err(e) => format!("{e:#}"),
        },
        Runtime::Spin(spin) => {
            let up = SpinUp {
                spin: spin.clone(),
                app: AppSource::Manifest(manifest.to_path_buf()),
                dir: fresh_path("refused"),
                runtime_config: Database::File(fresh_path("db")).runtime_config().unwrap(),
                variables: Vec::new(),
                listen: "127.0.0.1:0".parse().unwrap(),
            };
            match up.start() {
                Ok(_) => panic!("spin up served {}", manifest.display()),
                Err(e) => format!("{e:#}"),
            }
        }
    }
}

/// The app in a process of its own, which a test may kill mid-request ([`Running::kill`]):
/// `spin up` under Spin, the test host's own `testhost up` under the test host, with the
/// same flags and runtime config, over this database and key-value store.
pub fn start_process(db: &AppDatabase, key_value: &AppKeyValue) -> Running {
    let (binary, app) = match runtime() {
        Runtime::TestHost => (
            PathBuf::from(env!("CARGO_BIN_EXE_testhost")),
            AppSource::Manifest(built()),
        ),
        Runtime::Spin(spin) => (spin.clone(), app_source()),
    };
    SpinUp {
        spin: binary,
        app,
        dir: fresh_path("process"),
        runtime_config: runtime_config(db, key_value),
        variables: Vec::new(),
        listen: "127.0.0.1:0".parse().unwrap(),
    }
    .start()
    .unwrap_or_else(|e| panic!("{e:#}"))
}

/// The runtime config that names this database and key-value store (`default`).
fn runtime_config(db: &AppDatabase, key_value: &AppKeyValue) -> String {
    format!(
        "{}{}",
        db.config().runtime_config().unwrap(),
        key_value.store.runtime_config("default").unwrap()
    )
}

impl Drop for Server {
    /// Stops `spin up`. A failed test shows where the components' logs are (under Spin, what
    /// Spin and the components printed) and keeps them; a passed one leaves nothing behind.
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        let Some(spin) = self.spin.take() else {
            if failed {
                eprintln!("the components' logs: {}", self.logs.display());
            } else {
                let _ = std::fs::remove_dir_all(&self.logs);
            }
            return;
        };
        if failed {
            eprintln!(
                "spin up's output ({}):\n{}",
                spin.output.display(),
                spin.output_text()
            );
        }
        let dir = spin.dir.clone();
        drop(spin);
        if !failed {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body.unwrap_or(&[]));
    stream.write_all(&request).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let response = Response::parse(&raw);
    crate::contract::check(method, path, &response);
    response
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A response as read off the socket (a chunked body dechunked).
    pub fn parse(raw: &[u8]) -> Self {
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(raw)));
        let head = std::str::from_utf8(&raw[..end]).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = raw[end + 4..].to_vec();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
        {
            body = dechunk(&body);
        }
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: not JSON: {:?} (status {})", self.text(), self.status))
    }

    /// The body as JSON, or `null` when it is empty or not JSON.
    pub fn json_or_null(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Assert a status, showing the body when it is not the one expected.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text());
        self
    }

    /// Assert an error: this status and exactly these messages.
    #[track_caller]
    pub fn expect_error(&self, status: u16, messages: &[&str]) {
        self.expect(status);
        assert_eq!(self.json(), serde_json::json!(messages));
        assert_eq!(self.header("content-type"), Some("application/json"));
    }

    /// Assert a status with an empty body.
    #[track_caller]
    pub fn expect_empty(&self, status: u16) {
        self.expect(status);
        assert!(
            self.body.is_empty(),
            "body should be empty: {}",
            self.text()
        );
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
