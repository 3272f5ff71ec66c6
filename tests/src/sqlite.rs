//! `fermyon:spin/sqlite@2.0.0` as Spin's `factor-sqlite` serves it: the databases one request
//! may reach, each `open` a connection of its own, Spin's bounds (connections a request holds,
//! bytes a result weighs), and a database on a file as Spin's `sqlite-inproc` runs it (with
//! rusqlite, as Spin does). A libSQL server (Spin's `sqlite-libsql`) is [`crate::libsql`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wasmtime::component::{Resource, ResourceTable};

use crate::libsql::LazyConnection;
use crate::runtime_config::Database;
use crate::spin::fermyon::spin::sqlite::{self, QueryResult, RowResult, Value};
use crate::spin::BoundedRows;

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
    Libsql(LazyConnection),
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

/// One request's SQLite (Spin's `factor-sqlite` instance state): what it may reach, and
/// the connections it holds open, in a table of their own. The bindings leave the guest's
/// `connection` opaque, as Spin's do: its rep is the connection's in this table.
pub struct SqliteState {
    sqlite: Sqlite,
    connections: ResourceTable,
    open_connections: usize,
}

impl SqliteState {
    pub fn new(sqlite: Sqlite) -> Self {
        Self {
            sqlite,
            connections: ResourceTable::new(),
            open_connections: 0,
        }
    }
}

/// The table's entry for the guest's handle.
fn entry(connection: &Resource<sqlite::Connection>) -> Resource<Connection> {
    if connection.owned() {
        Resource::new_own(connection.rep())
    } else {
        Resource::new_borrow(connection.rep())
    }
}

impl sqlite::HostConnection for SqliteState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<sqlite::Connection>, sqlite::Error>> {
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
            Database::Libsql { url, token } => {
                Connection::Libsql(LazyConnection::new(url.clone(), token.clone()))
            }
        };
        self.open_connections += 1;
        let entry = self.connections.push(connection)?;
        Ok(Ok(Resource::new_own(entry.rep())))
    }

    async fn execute(
        &mut self,
        connection: Resource<sqlite::Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, sqlite::Error>> {
        let Ok(c) = self.connections.get(&entry(&connection)) else {
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

    async fn drop(&mut self, connection: Resource<sqlite::Connection>) -> wasmtime::Result<()> {
        self.connections.delete(entry(&connection))?;
        self.open_connections -= 1;
        Ok(())
    }
}

impl sqlite::Host for SqliteState {}

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
