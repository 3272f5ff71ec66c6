//! The database: Spin's SQLite `default` database, opened once per request, with typed rows,
//! bound parameters and write transactions.

pub use spin_sdk::sqlite::Value;
use spin_sdk::sqlite::{Connection, RowResult};

use crate::{error::ApiError, migrations, pagination::Pagination};

/// How long a writer waits for another writer's transaction before giving up. Spin opens a
/// new connection for every `open`, so this is set on each one.
const BUSY_TIMEOUT_MS: u32 = 5000;

pub struct Db {
    conn: Connection,
}

impl Db {
    /// Open the `default` database, bringing its schema up to date. A read costs one check
    /// (`PRAGMA user_version`) besides its own statements; what only writes need is set by
    /// [`Db::transaction`].
    pub fn open() -> Result<Self, ApiError> {
        let db = Self {
            conn: Connection::open_default()?,
        };
        migrations::ensure(&db)?;
        Ok(db)
    }

    /// Run one statement and return its rows (Spin runs only the first statement of a string).
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, ApiError> {
        let result = self
            .conn
            .execute(sql, params)
            .map_err(|e| ApiError::internal(format!("sqlite: {e:?} in `{sql}`")))?;
        Ok(Rows {
            columns: result.columns,
            rows: result.rows,
        })
    }

    /// Run one statement whose rows do not matter.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<(), ApiError> {
        self.query(sql, params).map(drop)
    }

    /// Run `work` inside a write transaction (`BEGIN IMMEDIATE`, so two writers queue rather
    /// than fail): it commits when `work` succeeds, and rolls back, changing nothing, when it
    /// fails. A request that dies half-way also changes nothing: its connection closes with
    /// the transaction open, and SQLite rolls it back.
    ///
    /// Foreign keys (cascades, `SET NULL`) and the busy timeout are per connection, and Spin
    /// opens a new connection for every `open`, so they are set here, before each write (the
    /// foreign-key pragma does nothing inside a transaction). Reads rely on the host's busy
    /// timeout (Spin's is 5 s).
    pub fn transaction<T>(
        &self,
        work: impl FnOnce() -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.execute("PRAGMA foreign_keys = ON", &[])?;
        self.begin_immediate()?;
        match work() {
            Ok(value) => {
                self.execute("COMMIT", &[])?;
                Ok(value)
            }
            Err(e) => {
                // The error to report is `e`; a failed rollback leaves the transaction to die
                // with the connection.
                let _ = self.execute("ROLLBACK", &[]);
                Err(e)
            }
        }
    }

    /// Take the write lock. SQLite's own busy handler backs off to 100 ms sleeps, so under
    /// many writers a late one keeps losing the lock to newcomers (seconds, measured). Here a
    /// waiter asks again every millisecond instead, up to [`BUSY_TIMEOUT_MS`]; once the lock is
    /// held, the usual busy timeout covers the rest of the transaction (a commit waiting for
    /// readers, in rollback-journal mode).
    fn begin_immediate(&self) -> Result<(), ApiError> {
        self.execute("PRAGMA busy_timeout = 0", &[])?;
        let started = std::time::Instant::now();
        let begun = loop {
            match self.conn.execute("BEGIN IMMEDIATE", &[]) {
                Ok(_) => break Ok(()),
                Err(e)
                    if is_busy(&e)
                        && started.elapsed().as_millis() < u128::from(BUSY_TIMEOUT_MS) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(e) => {
                    break Err(ApiError::internal(format!(
                        "sqlite: {e:?} in `BEGIN IMMEDIATE`"
                    )))
                }
            }
        };
        // Whatever happened, the connection leaves with its usual timeout.
        self.execute(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"), &[])?;
        begun
    }

    /// An `INSERT ... RETURNING id`: the new row's id (read on the same connection, so no
    /// other request's insert can be mistaken for it).
    pub fn insert(&self, sql: &str, params: &[Value]) -> Result<i64, ApiError> {
        let rows = self.query(sql, params)?;
        rows.first()
            .ok_or_else(|| ApiError::internal(format!("`{sql}` returned no id")))?
            .int("id")
    }

    /// One page of a list, and how many items the whole list has, from one statement, so that
    /// the two agree while others write: `{columns}, (SELECT COUNT(*) {from}) {from} ORDER BY
    /// {order} LIMIT ? OFFSET ?`, where `from` holds the filters and `filter` their values (the
    /// count, not correlated, is computed once). A page past the end asks for the count alone.
    pub fn list(
        &self,
        columns: &str,
        from: &str,
        order: &str,
        filter: &[Value],
        page: Option<Pagination>,
    ) -> Result<(i64, Rows), ApiError> {
        let sql = format!(
            "{columns}, (SELECT COUNT(*){from}) AS total_count{from} ORDER BY {order} LIMIT ? OFFSET ?"
        );
        let mut params = filter.to_vec();
        params.extend_from_slice(filter);
        params.extend(Pagination::limit_offset(page));
        let rows = self.query(&sql, &params)?;
        let total = match rows.first() {
            Some(row) => row.int("total_count")?,
            None if page.is_some_and(|p| p.page > 1 || p.size == 0) => {
                self.count(&format!("SELECT COUNT(*){from}"), filter)?
            }
            None => 0,
        };
        Ok((total, rows))
    }

    /// At most one row, read by `read` (a lookup by key).
    pub fn query_one<T>(
        &self,
        sql: &str,
        params: &[Value],
        read: impl Fn(&Row) -> Result<T, ApiError>,
    ) -> Result<Option<T>, ApiError> {
        self.query(sql, params)?
            .first()
            .map(|r| read(&r))
            .transpose()
    }

    /// Whether a `SELECT COUNT(*) ...` counts anything.
    pub fn exists(&self, sql: &str, params: &[Value]) -> Result<bool, ApiError> {
        Ok(self.count(sql, params)? > 0)
    }

    /// `SELECT COUNT(*) ...` and the like: the first column of the first row.
    pub fn count(&self, sql: &str, params: &[Value]) -> Result<i64, ApiError> {
        let rows = self.query(sql, params)?;
        match rows.rows.first().and_then(|r| r.values.first()) {
            Some(Value::Integer(n)) => Ok(*n),
            other => Err(ApiError::internal(format!(
                "`{sql}` gave {other:?}, not a count"
            ))),
        }
    }
}

/// SQLite's "database is locked" (`SQLITE_BUSY`), as Spin passes it on: `io(message)`.
fn is_busy(e: &spin_sdk::sqlite::Error) -> bool {
    matches!(e, spin_sdk::sqlite::Error::Io(m) if m.contains("database is locked") || m.contains("database is busy"))
}

/// The rows of a query.
pub struct Rows {
    columns: Vec<String>,
    rows: Vec<RowResult>,
}

impl Rows {
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|r| Row {
            columns: &self.columns,
            values: &r.values,
        })
    }

    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Each row through `read`, stopping at the first error.
    pub fn map<T>(&self, read: impl Fn(&Row) -> Result<T, ApiError>) -> Result<Vec<T>, ApiError> {
        self.iter().map(|r| read(&r)).collect()
    }
}

/// One row, read by column name; a value of an unexpected type is our fault (500).
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl Row<'_> {
    fn value(&self, column: &str) -> Result<&Value, ApiError> {
        self.columns
            .iter()
            .position(|c| c == column)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| ApiError::internal(format!("no column `{column}`")))
    }

    fn wrong(&self, column: &str, want: &str) -> ApiError {
        ApiError::internal(format!(
            "column `{column}` is not {want}: {:?}",
            self.value(column)
        ))
    }

    pub fn int(&self, column: &str) -> Result<i64, ApiError> {
        self.opt_int(column)?
            .ok_or_else(|| self.wrong(column, "an integer"))
    }

    pub fn opt_int(&self, column: &str) -> Result<Option<i64>, ApiError> {
        match self.value(column)? {
            Value::Integer(n) => Ok(Some(*n)),
            Value::Null => Ok(None),
            _ => Err(self.wrong(column, "an integer")),
        }
    }

    pub fn text(&self, column: &str) -> Result<String, ApiError> {
        self.opt_text(column)?
            .ok_or_else(|| self.wrong(column, "text"))
    }

    pub fn opt_text(&self, column: &str) -> Result<Option<String>, ApiError> {
        match self.value(column)? {
            Value::Text(s) => Ok(Some(s.clone())),
            Value::Null => Ok(None),
            _ => Err(self.wrong(column, "text")),
        }
    }

    pub fn bool(&self, column: &str) -> Result<bool, ApiError> {
        Ok(self.int(column)? != 0)
    }

    pub fn real(&self, column: &str) -> Result<f64, ApiError> {
        match self.value(column)? {
            Value::Real(x) => Ok(*x),
            Value::Integer(n) => Ok(*n as f64),
            _ => Err(self.wrong(column, "a number")),
        }
    }
}

/// A Rust value as a bound SQLite parameter.
pub trait Param {
    fn param(&self) -> Value;
}

impl Param for i64 {
    fn param(&self) -> Value {
        Value::Integer(*self)
    }
}

impl Param for bool {
    fn param(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}

impl Param for f64 {
    fn param(&self) -> Value {
        Value::Real(*self)
    }
}

impl Param for str {
    fn param(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl Param for String {
    fn param(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn param(&self) -> Value {
        (**self).param()
    }
}

impl<T: Param> Param for Option<T> {
    fn param(&self) -> Value {
        self.as_ref().map_or(Value::Null, Param::param)
    }
}

/// `params![a, b]`: bound parameters for `Db::query`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        [$($crate::db::Param::param(&$value)),*]
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_by_name() {
        let rows = Rows {
            columns: vec!["id".into(), "name".into(), "owner".into(), "ratio".into()],
            rows: vec![RowResult {
                values: vec![
                    Value::Integer(3),
                    Value::Text("Irène".into()),
                    Value::Null,
                    Value::Integer(2),
                ],
            }],
        };
        let row = rows.first().unwrap();
        assert_eq!(row.int("id").unwrap(), 3);
        assert!(row.bool("id").unwrap());
        assert_eq!(row.text("name").unwrap(), "Irène");
        assert_eq!(row.opt_int("owner").unwrap(), None);
        assert_eq!(row.opt_text("owner").unwrap(), None);
        assert_eq!(row.real("ratio").unwrap(), 2.0);
        assert!(row.int("owner").is_err());
        assert!(row.text("id").is_err());
        assert!(row.int("missing").is_err());
        assert_eq!(rows.map(|r| r.int("id")).unwrap(), vec![3]);
    }

    #[test]
    fn params_bind() {
        let name = String::from("x");
        let none: Option<i64> = None;
        let p = params![1i64, "a", name, true, none, Some(2.5f64)];
        assert!(matches!(p[0], Value::Integer(1)));
        assert!(matches!(&p[1], Value::Text(s) if s == "a"));
        assert!(matches!(&p[2], Value::Text(s) if s == "x"));
        assert!(matches!(p[3], Value::Integer(1)));
        assert!(matches!(p[4], Value::Null));
        assert!(matches!(p[5], Value::Real(x) if x == 2.5));
    }
}
