//! A key-value store on an SQLite file, as Spin 4.0.2's `key-value-spin` keeps it (`type =
//! "spin"`, and Spin's `default` store): Spin's table, one connection per store that every
//! request shares, opened (the file and its table created) at the store's first `open`, and
//! every statement run on the request's worker (`block_in_place`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use rusqlite::OptionalExtension;

/// Spin's table, in the same words, so that `sqlite_master` holds the same schema.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (
                           store TEXT NOT NULL,
                           key   TEXT NOT NULL,
                           value BLOB NOT NULL,

                           PRIMARY KEY (store, key)
                        )";

/// One store's file, and its connection once opened.
pub struct SqliteStores {
    pub path: PathBuf,
    connection: OnceLock<Arc<Mutex<rusqlite::Connection>>>,
}

/// An open store: its label (the `store` column of every row) and the file's connection.
pub struct SqliteStore {
    label: String,
    connection: Arc<Mutex<rusqlite::Connection>>,
}

/// Spin's `log_error`: any error as `other`, with its `Debug` text.
fn other(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

impl SqliteStores {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            connection: OnceLock::new(),
        }
    }

    pub fn open(&self, label: &str) -> Result<SqliteStore, String> {
        let connection = tokio::task::block_in_place(|| self.connection())?;
        Ok(SqliteStore {
            label: label.to_string(),
            connection,
        })
    }

    fn connection(&self) -> Result<Arc<Mutex<rusqlite::Connection>>, String> {
        if let Some(c) = self.connection.get() {
            return Ok(c.clone());
        }
        // Spin creates the directory when it starts; the test host has no such moment.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(other)?;
        }
        let conn = rusqlite::Connection::open(&self.path).map_err(other)?;
        conn.execute(SCHEMA, []).map_err(other)?;
        // Two first opens at once may both get here; one connection is kept, as in Spin.
        Ok(self
            .connection
            .get_or_init(|| Arc::new(Mutex::new(conn)))
            .clone())
    }
}

impl SqliteStore {
    /// Run `f` on the shared connection, blocking this worker as Spin does.
    fn run<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection, &str) -> rusqlite::Result<T>,
    ) -> Result<T, String> {
        tokio::task::block_in_place(|| {
            let conn = self.connection.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn, &self.label).map_err(other)
        })
    }

    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.run(|conn, label| {
            conn.prepare_cached("SELECT value FROM spin_key_value WHERE store=$1 AND key=$2")?
                .query_row([label, key], |row| row.get::<_, Vec<u8>>(0))
                .optional()
        })
    }

    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.run(|conn, label| {
            conn.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT(store, key) DO UPDATE SET value=$3",
            )?
            .execute(rusqlite::params![label, key, value])
            .map(drop)
        })
    }

    /// A missing key is no error.
    pub fn delete(&self, key: &str) -> Result<(), String> {
        self.run(|conn, label| {
            conn.prepare_cached("DELETE FROM spin_key_value WHERE store=$1 AND key=$2")?
                .execute([label, key])
                .map(drop)
        })
    }

    /// Without reading the value: a value too large to `get` still exists.
    pub fn exists(&self, key: &str) -> Result<bool, String> {
        self.run(|conn, label| {
            conn.prepare_cached("SELECT 1 FROM spin_key_value WHERE store=$1 AND key=$2 LIMIT 1")?
                .exists([label, key])
        })
    }

    /// In the order SQLite reads them (the primary key's: by key, bytewise), refused as soon
    /// as they weigh more than `max_bytes`, as Spin counts (`None` then).
    pub fn get_keys(&self, max_bytes: usize) -> Result<Option<Vec<String>>, String> {
        self.run(|conn, label| {
            let mut statement =
                conn.prepare_cached("SELECT key FROM spin_key_value WHERE store=$1")?;
            let rows = statement.query_map([label], |row| row.get::<_, String>(0))?;
            let mut weight = std::mem::size_of::<Vec<String>>();
            let mut keys = Vec::new();
            for key in rows {
                let key = key?;
                weight += std::mem::size_of::<String>() + key.len();
                if weight > max_bytes {
                    return Ok(None);
                }
                keys.push(key);
            }
            Ok(Some(keys))
        })
    }
}
