//! The Spin interfaces the components import, as Spin implements them:
//! `fermyon:spin/sqlite@2.0.0` (Spin's `factor-sqlite`, over a file as `sqlite-inproc` or a
//! server as `sqlite-libsql`),
//! `fermyon:spin/variables@2.0.0` (Spin's `factor-variables` with its environment provider)
//! and `fermyon:spin/key-value@2.0.0` (Spin's `factor-key-value`, over the stores of
//! [`crate::key_value`]).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wasmtime::component::{HasSelf, Linker, Resource};

use crate::app::State;
use crate::key_value::{OpenError, Store};
use crate::manifest::Variable;
use crate::runtime_config::Database;

wasmtime::component::bindgen!({
    path: "wit",
    world: "fermyon:spin/host",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/sqlite.connection": Connection,
        "fermyon:spin/key-value.store": crate::key_value::Store,
    },
});

use fermyon::spin::key_value;
use fermyon::spin::sqlite::{self, QueryResult, RowResult, Value};
use fermyon::spin::variables;

pub fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    sqlite::add_to_linker::<State, HasSelf<State>>(linker, |s| s)?;
    variables::add_to_linker::<State, HasSelf<State>>(linker, |s| s)?;
    key_value::add_to_linker::<State, HasSelf<State>>(linker, |s| s)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// SQLite

/// What a request may reach: the `default` database, and the labels its component lists in
/// `sqlite_databases`.
#[derive(Clone)]
pub struct Sqlite {
    pub default: Arc<Database>,
    pub allowed: Arc<[String]>,
    /// Idle connections to hand out, when connections to a file are reused.
    pub pool: Option<Arc<Pool>>,
    /// When a test or the benchmark asks for it: every statement the components run, with
    /// its parameters, in order (to check the real statements' query plans, and to time them
    /// bare).
    pub log: Option<StatementLog>,
}

/// Statements as run: SQL text and bound parameters.
pub type StatementLog = Arc<Mutex<Vec<(String, Vec<rusqlite::types::Value>)>>>;

/// How `open` gets its SQLite connection to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connections {
    /// A new connection for every `open`, as Spin does (the default).
    New,
    /// A connection left by an earlier request, rolled back, when one is idle. A component
    /// sees the same thing (its own connection while it holds it); a request costs less (no
    /// opening, no schema parsing, statements already prepared). For measuring what the
    /// components cost beyond Spin's per-request connection.
    Reuse,
}

/// Idle connections, for [`Connections::Reuse`].
#[derive(Default)]
pub struct Pool {
    idle: Mutex<Vec<rusqlite::Connection>>,
}

/// How many idle connections a pool keeps.
const POOL_SIZE: usize = 64;

/// One `open`: a connection of its own, made lazily at the first statement, as Spin does, so
/// that a transaction belongs to one request: to the file (Spin's `sqlite-inproc`), or to a
/// libSQL server (Spin's `sqlite-libsql`, [`crate::libsql`]).
pub enum Connection {
    File(FileConnection),
    Libsql(crate::libsql::LazyConnection),
}

pub struct FileConnection {
    path: PathBuf,
    conn: Arc<Mutex<Option<rusqlite::Connection>>>,
    pool: Option<Arc<Pool>>,
}

impl Drop for FileConnection {
    /// A reused connection goes back to the pool without what the request left open.
    fn drop(&mut self) {
        let Some(pool) = &self.pool else { return };
        let Some(conn) = self.conn.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        // As a new connection would be: no transaction, rusqlite's busy timeout, SQLite's
        // (bundled) foreign-key default.
        if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
            return;
        }
        if conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .is_err()
            || conn.execute_batch("PRAGMA foreign_keys = ON").is_err()
        {
            return;
        }
        let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < POOL_SIZE {
            idle.push(conn);
        }
    }
}

impl FileConnection {
    async fn execute(
        &self,
        statement: String,
        parameters: Vec<Value>,
    ) -> Result<QueryResult, sqlite::Error> {
        let (path, conn, pool) = (self.path.clone(), self.conn.clone(), self.pool.clone());
        // SQLite blocks (a busy writer waits up to its timeout): off the async workers.
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            if guard.is_none() {
                let idle =
                    pool.and_then(|p| p.idle.lock().unwrap_or_else(|e| e.into_inner()).pop());
                *guard = Some(match idle {
                    Some(conn) => conn,
                    None => rusqlite::Connection::open(path.as_path()).map_err(io)?,
                });
            }
            execute(
                guard.as_ref().expect("opened above"),
                &statement,
                parameters,
            )
        })
        .await
        .unwrap_or_else(|_| Err(sqlite::Error::Io("internal runtime error".into())))
    }
}

/// Spin caps the connections one request may hold open.
const MAX_CONNECTIONS: usize = 256;

impl sqlite::HostConnection for State {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, sqlite::Error>> {
        if !self.sqlite.allowed.contains(&database) {
            return Ok(Err(sqlite::Error::AccessDenied));
        }
        if database != "default" {
            return Ok(Err(sqlite::Error::NoSuchDatabase));
        }
        if self.open_connections >= MAX_CONNECTIONS {
            return Ok(Err(sqlite::Error::Io("too many connections opened".into())));
        }
        let connection = match &*self.sqlite.default {
            Database::File(path) => Connection::File(FileConnection {
                path: path.clone(),
                conn: Arc::new(Mutex::new(None)),
                pool: self.sqlite.pool.clone(),
            }),
            Database::Libsql { url, token } => Connection::Libsql(
                crate::libsql::LazyConnection::new(url.clone(), token.clone()),
            ),
        };
        self.open_connections += 1;
        Ok(Ok(self.table.push(connection)?))
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, sqlite::Error>> {
        let Ok(c) = self.table.get(&connection) else {
            return Ok(Err(sqlite::Error::InvalidConnection));
        };
        if let Some(log) = &self.sqlite.log {
            let params = parameters.iter().cloned().map(to_sql).collect();
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((statement.clone(), params));
        }
        Ok(match c {
            Connection::File(file) => file.execute(statement, parameters).await,
            Connection::Libsql(server) => server.execute(&statement, parameters).await,
        })
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        self.open_connections -= 1;
        Ok(())
    }
}

impl sqlite::Host for State {}

/// Spin's `execute_query`: `prepare_cached` (which runs only the first statement of the
/// string), positional parameters, every value converted, every error as `io(message)`.
fn execute(
    conn: &rusqlite::Connection,
    sql: &str,
    parameters: Vec<Value>,
) -> Result<QueryResult, sqlite::Error> {
    let mut statement = conn.prepare_cached(sql).map_err(io)?;
    let columns: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let width = columns.len();
    let params = rusqlite::params_from_iter(parameters.into_iter().map(to_sql));
    let rows = statement
        .query_map(params, |row| {
            (0..width)
                .map(|i| row.get_ref(i).map(from_sql))
                .collect::<Result<Vec<_>, _>>()
                .map(|values| RowResult { values })
        })
        .map_err(io)?;
    let mut out = BoundedRows::default();
    for row in rows {
        out.push(row.map_err(io)?)?;
    }
    Ok(QueryResult {
        columns,
        rows: out.rows,
    })
}

/// A query's rows as they are read, refused past Spin's bound on a result.
#[derive(Default)]
pub(crate) struct BoundedRows {
    pub rows: Vec<RowResult>,
    bytes: usize,
}

impl BoundedRows {
    pub fn push(&mut self, row: RowResult) -> Result<(), sqlite::Error> {
        self.bytes += row.values.iter().map(size).sum::<usize>();
        if self.bytes > MAX_RESULT_BYTES {
            return Err(sqlite::Error::Io(format!(
                "query result exceeds limit of {MAX_RESULT_BYTES} bytes"
            )));
        }
        self.rows.push(row);
        Ok(())
    }
}

/// Spin refuses a query result larger than this (its `MAX_HOST_BUFFERED_BYTES`).
const MAX_RESULT_BYTES: usize = 128 << 20;

/// About what a value weighs in memory, as Spin counts it.
fn size(value: &Value) -> usize {
    std::mem::size_of::<Value>()
        + match value {
            Value::Text(t) => t.len(),
            Value::Blob(b) => b.len(),
            _ => 0,
        }
}

pub fn to_sql(value: Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match value {
        Value::Integer(i) => V::Integer(i),
        Value::Real(r) => V::Real(r),
        Value::Text(t) => V::Text(t),
        Value::Blob(b) => V::Blob(b),
        Value::Null => V::Null,
    }
}

fn from_sql(value: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as V;
    match value {
        V::Integer(i) => Value::Integer(i),
        V::Real(r) => Value::Real(r),
        V::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        V::Blob(b) => Value::Blob(b.to_vec()),
        V::Null => Value::Null,
    }
}

fn io(e: rusqlite::Error) -> sqlite::Error {
    sqlite::Error::Io(e.to_string())
}

// ---------------------------------------------------------------------------------------
// Key-value

impl key_value::HostStore for State {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<Store>, key_value::Error>> {
        Ok(match self.key_value.open(&label).await {
            Ok(store) => Ok(self.table.push(store)?),
            Err(OpenError::AccessDenied) => Err(key_value::Error::AccessDenied),
            Err(OpenError::NoSuchStore) => Err(key_value::Error::NoSuchStore),
            Err(OpenError::Other(e)) => Err(key_value::Error::Other(e)),
        })
    }

    async fn get(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, key_value::Error>> {
        let store = self.table.get(&store)?;
        Ok(store.get(&key, MAX_RESULT_BYTES).await.map_err(other))
    }

    async fn set(
        &mut self,
        store: Resource<Store>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        let store = self.table.get(&store)?;
        Ok(store.set(&key, &value).await.map_err(other))
    }

    async fn delete(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        let store = self.table.get(&store)?;
        Ok(store.delete(&key).await.map_err(other))
    }

    async fn exists(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<bool, key_value::Error>> {
        let store = self.table.get(&store)?;
        Ok(store.exists(&key).await.map_err(other))
    }

    async fn get_keys(
        &mut self,
        store: Resource<Store>,
    ) -> wasmtime::Result<Result<Vec<String>, key_value::Error>> {
        let store = self.table.get(&store)?;
        Ok(store.get_keys(MAX_RESULT_BYTES).await.map_err(other))
    }

    async fn drop(&mut self, store: Resource<Store>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

impl key_value::Host for State {}

/// A store's error: `other`, with the store's text.
fn other(text: String) -> key_value::Error {
    key_value::Error::Other(text)
}

// ---------------------------------------------------------------------------------------
// Variables

/// The application's variables and where their values come from: a test's own settings
/// first, then `SPIN_VARIABLE_<NAME>` in the environment (Spin's environment provider),
/// then the manifest's `default`.
#[derive(Clone, Default)]
pub struct Variables {
    pub declared: Arc<BTreeMap<String, Option<String>>>,
    pub overrides: Arc<HashMap<String, String>>,
    pub from_environment: bool,
}

impl Variables {
    pub fn new(declared: &BTreeMap<String, Variable>) -> Self {
        Self {
            declared: Arc::new(
                declared
                    .iter()
                    .map(|(k, v)| (k.clone(), v.default.clone()))
                    .collect(),
            ),
            overrides: Arc::default(),
            from_environment: true,
        }
    }

    fn resolve(&self, name: &str) -> Result<String, variables::Error> {
        let Some(default) = self.declared.get(name) else {
            return Err(variables::Error::Other(format!(
                "invalid variable template: unknown variable {name:?}"
            )));
        };
        match self.provided(name) {
            Some(v) => Ok(v),
            None => default.clone().ok_or_else(|| {
                variables::Error::Provider(format!(
                    "no provider resolved required variable {name:?}"
                ))
            }),
        }
    }

    /// The environment provider's answer. Spin's (`crates/variables/src/env.rs`) looks each
    /// variable up inside `tokio::task::block_in_place`, so every variable a request reads
    /// makes its worker thread hand its other tasks to another thread. That costs time, and
    /// it changes which thread runs what next: after it, a response the guest hands over in
    /// pieces is written by another worker while the guest is still writing (under Spin, the
    /// 40 ms stall of split responses). The host does the same, to cost and race the same.
    fn provided(&self, name: &str) -> Option<String> {
        tokio::task::block_in_place(|| {
            if let Some(v) = self.overrides.get(name) {
                return Some(v.clone());
            }
            if self.from_environment {
                return std::env::var(format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())).ok();
            }
            None
        })
    }

    /// Expand a component's template: `"{{ name }}"` parts resolved, the rest kept.
    pub(crate) fn expand(&self, template: &str) -> Result<String, variables::Error> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find("}}") else {
                return Err(variables::Error::Other(
                    "invalid variable template: unmatched '{{' in template".into(),
                ));
            };
            out.push_str(&self.resolve(rest[start + 2..start + end].trim())?);
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// What one component may ask for: its `[component.x.variables]`.
#[derive(Clone)]
pub struct ComponentVariables {
    pub component: String,
    pub templates: Arc<BTreeMap<String, String>>,
    pub app: Variables,
}

impl variables::Host for State {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        if let Err(reason) = validate_name(&name) {
            return Ok(Err(variables::Error::InvalidName(format!(
                "{name:?}: {reason}"
            ))));
        }
        let v = &self.variables;
        let Some(template) = v.templates.get(&name) else {
            return Ok(Err(variables::Error::Undefined(format!(
                "no variable for {:?}.{name:?}",
                v.component
            ))));
        };
        Ok(v.app.expand(template))
    }
}

/// Spin's rule for variable names: lower-case letters, digits and single underscores,
/// starting with a letter and ending with a letter or digit.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "invalid character {c:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        ));
    }
    if !name.as_bytes()[0].is_ascii_lowercase() {
        return Err("must start with a lowercase ASCII letter".into());
    }
    if !name.as_bytes()[name.len() - 1].is_ascii_alphanumeric() {
        return Err("must end with a lowercase ASCII letter or digit".into());
    }
    if name.contains("__") {
        return Err("must not contain multiple consecutive underscores".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Option<&str>)]) -> Variables {
        Variables {
            declared: Arc::new(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                    .collect(),
            ),
            overrides: Arc::new(HashMap::from([("set".to_string(), "override".to_string())])),
            from_environment: false,
        }
    }

    #[test]
    fn templates() {
        let v = vars(&[("a", Some("1")), ("set", Some("x")), ("req", None)]);
        assert_eq!(v.expand("{{ a }}").unwrap(), "1");
        assert_eq!(v.expand("x{{a}}y{{ set }}").unwrap(), "x1yoverride");
        assert!(matches!(
            v.expand("{{ req }}"),
            Err(variables::Error::Provider(_))
        ));
        assert!(matches!(v.expand("{{ a "), Err(variables::Error::Other(_))));
    }

    #[test]
    fn names() {
        for ok in ["a", "auth_accounts", "a1"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "A", "1a", "_a", "a_", "a__b", "a-b"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
