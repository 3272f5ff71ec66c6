//! The end-to-end harness: the real components, built by their `spin.toml` build commands,
//! served on loopback over stores of each test's own ([`crate::stores`]), and asked by a plain
//! HTTP/1.1 client ([`crate::client`]).
//!
//! Two runtimes serve them: the test host, in process (the default), or the real Spin CLI,
//! one `spin up` per server (`E2E_RUNTIME=spin`; `SPIN` names the binary, else `spin` on the
//! `PATH`). The tests are the same; the few that need what only the test host can do say so
//! with [`skipped_under_spin`]. Spin runs the app from the checkout (`spin.toml`), or, with
//! `E2E_FROM=registry`, as an OCI artifact ([`crate::source`]). Under Spin only: the test
//! host has no OCI loader.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;
use testhost::runtime_config::{Database, RuntimeConfig};
use testhost::spin_up::{AppSource, Running, SpinUp};
use testhost::sqlite::{Connections, StatementLog};
use testhost::App;

use crate::client::{send, Response};
use crate::paths::{fresh_path, workspace};
use crate::source::{self, built};
use crate::stores::{fresh_db, fresh_key_value, AppDatabase, AppKeyValue};

/// What serves the app in this run of the tests.
pub enum Runtime {
    TestHost,
    /// `spin up`, with this Spin CLI.
    Spin(PathBuf),
}

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| match std::env::var("E2E_RUNTIME").as_deref() {
        Err(_) | Ok("") | Ok("testhost") => {
            assert!(
                !source::from_registry(),
                "E2E_FROM=registry needs E2E_RUNTIME=spin: the test host has no OCI loader"
            );
            Runtime::TestHost
        }
        Ok("spin") => Runtime::Spin(testhost::spin_up::find(&workspace()).expect(
            "E2E_RUNTIME=spin: no Spin CLI found (set SPIN to its path, or put spin on the PATH)",
        )),
        Ok(other) => panic!("E2E_RUNTIME is `testhost` or `spin`, not `{other}`"),
    })
}

/// Under Spin, a test that needs what only the test host can do passes without running, and
/// is listed as such ([`testhost::skips::not_here`]). Use it first thing:
/// `if skipped_under_spin("why") { return; }`.
pub fn skipped_under_spin(why: &str) -> bool {
    let skip = matches!(runtime(), Runtime::Spin(_));
    if skip {
        testhost::skips::not_here(&format!("under Spin: {why}"));
    }
    skip
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

/// Run a future to its end on the tests' runtime.
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio().block_on(future)
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
            app: config
                .manifest
                .map_or_else(|| source::for_spin(spin), AppSource::Manifest),
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
        Runtime::Spin(spin) => (spin.clone(), source::for_spin(spin)),
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

/// Now, in seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
