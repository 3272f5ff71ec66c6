//! A `type = "libsql"` database: a libSQL server (sqld, Turso) spoken to as Spin 4.0.2's
//! `crates/sqlite-libsql` does, with the same crate (`libsql` 0.5, `remote`). So the
//! components meet what they meet under Spin: each `open` its own client and server stream
//! (made at the first statement), the client's own parsing of every statement (it refuses
//! some `PRAGMA`s before anything is sent), and every failure as `io(message)`.

use tokio::sync::OnceCell;

use crate::spin::fermyon::spin::sqlite::{self, QueryResult, RowResult, Value};
use crate::spin::BoundedRows;

/// One `open`'s connection to the server, made at its first statement (creating a libSQL
/// client is asynchronous, and `open` need not reach the server).
pub struct LazyConnection {
    url: String,
    token: String,
    inner: OnceCell<libsql::Connection>,
}

impl LazyConnection {
    pub fn new(url: String, token: String) -> Self {
        Self {
            url,
            token,
            inner: OnceCell::new(),
        }
    }

    async fn connection(&self) -> Result<&libsql::Connection, sqlite::Error> {
        self.inner
            .get_or_try_init(|| async {
                let database = libsql::Builder::new_remote(self.url.clone(), self.token.clone())
                    .build()
                    .await?;
                database.connect()
            })
            .await
            // As Spin answers a client it could not make.
            .map_err(|_| sqlite::Error::InvalidConnection)
    }

    /// Run one statement, as Spin's `LibSqlConnection::query`: bound values converted one to
    /// one, every row read, the result bounded as for a file.
    pub async fn execute(
        &self,
        statement: &str,
        parameters: Vec<Value>,
    ) -> Result<QueryResult, sqlite::Error> {
        let connection = self.connection().await?;
        let parameters: Vec<libsql::Value> = parameters.into_iter().map(to_libsql).collect();
        let mut rows = connection.query(statement, parameters).await.map_err(io)?;
        let width = rows.column_count();
        let columns = (0..width)
            .map(|i| rows.column_name(i).unwrap_or("").to_owned())
            .collect();
        let mut out = BoundedRows::default();
        while let Some(row) = rows.next().await.map_err(io)? {
            let values = (0..width)
                .map(|i| row.get_value(i).map(from_libsql))
                .collect::<Result<Vec<_>, _>>()
                .map_err(io)?;
            out.push(RowResult { values })?;
        }
        Ok(QueryResult {
            columns,
            rows: out.rows,
        })
    }
}

fn to_libsql(value: Value) -> libsql::Value {
    match value {
        Value::Integer(i) => libsql::Value::Integer(i),
        Value::Real(r) => libsql::Value::Real(r),
        Value::Text(t) => libsql::Value::Text(t),
        Value::Blob(b) => libsql::Value::Blob(b),
        Value::Null => libsql::Value::Null,
    }
}

fn from_libsql(value: libsql::Value) -> Value {
    match value {
        libsql::Value::Integer(i) => Value::Integer(i),
        libsql::Value::Real(r) => Value::Real(r),
        libsql::Value::Text(t) => Value::Text(t),
        libsql::Value::Blob(b) => Value::Blob(b),
        libsql::Value::Null => Value::Null,
    }
}

fn io(e: libsql::Error) -> sqlite::Error {
    sqlite::Error::Io(e.to_string())
}
