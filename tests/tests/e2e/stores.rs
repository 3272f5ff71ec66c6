//! The app's stores in a test: its `default` database (a fresh SQLite file, or with
//! `E2E_DATABASE=sqld` a fresh libSQL server: `SQLD` names the binary, else `sqld` on the
//! `PATH`, else `../shared/bin/sqld`; Spin's `type = "libsql"`) and its `default` key-value
//! store (recording audio: a fresh SQLite file, or with `E2E_KEY_VALUE=redis` a fresh Redis
//! server: `REDIS_SERVER` names the binary, else `redis-server` on the `PATH`; Spin's `type =
//! "redis"`). The few tests about what only a local file does say so with
//! [`skipped_on_sqld`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use testhost::process::ServerProcess;
use testhost::redis_server::RedisServer;
use testhost::runtime_config::{Database, KeyValueStore};
use testhost::sqld::Sqld;

use crate::paths::{fresh_path, workspace};

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
/// is listed as such ([`testhost::skips::not_here`]). Use it first thing:
/// `if skipped_on_sqld("why") { return; }`.
pub fn skipped_on_sqld(why: &str) -> bool {
    let skip = sqld().is_some();
    if skip {
        testhost::skips::not_here(&format!("on sqld: {why}"));
    }
    skip
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

impl AppDatabase {
    /// This libSQL server, which the test owns (and may crash).
    pub fn on_server(sqld: &Sqld) -> Self {
        AppDatabase {
            file: sqld.data_file(),
            config: sqld.database(),
            _sqld: None,
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
    /// The value of `key` in the store, if any.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        match &self.store {
            KeyValueStore::File(path) => rusqlite::Connection::open(path)
                .ok()?
                .query_row(
                    "SELECT value FROM spin_key_value WHERE store = 'default' AND key = ?",
                    [key],
                    |r| r.get(0),
                )
                .ok(),
            KeyValueStore::Redis { url } => {
                let mut redis = redis::Client::open(url.as_str())
                    .and_then(|c| c.get_connection())
                    .unwrap_or_else(|e| panic!("{url}: {e}"));
                redis::cmd("GET").arg(key).query(&mut redis).unwrap()
            }
        }
    }

    /// Set `key` to `value`, as the app would.
    pub fn set(&self, key: &str, value: &[u8]) {
        match &self.store {
            KeyValueStore::File(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.execute_batch(testhost::key_value_sqlite::SCHEMA)
                    .unwrap();
                conn.execute(
                    "INSERT INTO spin_key_value (store, key, value) VALUES ('default', ?, ?) \
                     ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
                    rusqlite::params![key, value],
                )
                .unwrap();
            }
            KeyValueStore::Redis { url } => {
                let mut redis = redis::Client::open(url.as_str())
                    .and_then(|c| c.get_connection())
                    .unwrap_or_else(|e| panic!("{url}: {e}"));
                let () = redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .query(&mut redis)
                    .unwrap();
            }
        }
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
