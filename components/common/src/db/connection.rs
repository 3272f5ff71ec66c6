//! The request's connection to Spin's `default` database, and the statements run on it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use spin_sdk::sqlite::Connection;

use crate::{error::ApiError, pagination::Pagination};

use super::failure::{failed, interrupted, refused_by_libsql_client, schema_behind};
use super::rows::{describe, Row, Rows, Value};
use super::schema_memo;

/// SQLite's busy timeout once a writer holds the lock (its commit waiting for readers), as on
/// every connection Spin opens. Spin opens a new connection for every `open`, so it is set on
/// each one.
pub(super) const BUSY_TIMEOUT_MS: u32 = 5000;

/// How many times a transaction, or a statement outside one, is run when a libSQL server
/// interrupts it (see [`interrupted`]).
pub(super) const ATTEMPTS: u32 = 3;

thread_local! {
    /// The request's connection (Spin makes a new instance of the component for every
    /// request), opened by its first [`Db::open`] and shared by the later ones: the Digest
    /// check's, the handler's, the change events' after the response. On a libSQL server
    /// each connection is a client and a server stream of its own, and opening one cost more
    /// than a statement on it: the events' own connection, to find the subscriptions, took a
    /// quarter of the writes a second from 64 writers (README, "Scaling out").
    static CONNECTION: RefCell<Option<Rc<Connection>>> = const { RefCell::new(None) };
}

/// The request's connection, opened the first time it is asked for.
fn request_connection() -> Result<Rc<Connection>, ApiError> {
    CONNECTION.with(|connection| {
        if let Some(open) = &*connection.borrow() {
            return Ok(open.clone());
        }
        let open = Rc::new(Connection::open_default()?);
        *connection.borrow_mut() = Some(open.clone());
        Ok(open)
    })
}

/// The schema a database must have, and what brings it there: given by who opens the
/// database ([`super::open`]: the migrations), so that the connection knows no migration.
pub struct Schema {
    /// Its version: how many migrations a current schema has had (`PRAGMA user_version`).
    pub version: usize,
    /// Bring the database's schema up to [`Schema::version`].
    pub bring_up_to_date: fn(&Db) -> Result<(), ApiError>,
}

/// What a [`Db`] knows of the schema.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SchemaState {
    /// Nothing yet.
    Unknown,
    /// Remembered current on a libSQL server ([`schema_memo`]), not asked.
    Remembered,
    /// Found current, or brought up to date.
    Checked,
}

pub struct Db {
    pub(super) conn: Rc<Connection>,
    /// The schema it must have ([`Schema`]).
    target: &'static Schema,
    /// Inside [`Db::transaction`] or [`Db::snapshot`]: an interrupted statement is not run
    /// again alone, the whole transaction is.
    pub(super) in_transaction: Cell<bool>,
    /// The last failed statement was interrupted by the server.
    pub(super) was_interrupted: Cell<bool>,
    /// What this `Db` knows of the schema.
    pub(super) schema: Cell<SchemaState>,
    /// Whether the database is a libSQL server, once known ([`Db::on_libsql_server`]).
    pub(super) on_server: Cell<Option<bool>>,
    /// A statement of the transaction found the schema behind (see [`schema_behind`]): it is
    /// run again once the schema is up to date.
    pub(super) found_behind: Cell<bool>,
}

impl Db {
    /// Open the `default` database (the request's connection, [`CONNECTION`]), which must have
    /// `schema` (the API's: [`super::open`]). Nothing is
    /// sent yet: on a libSQL server every statement is a round trip, so the schema is not
    /// checked up front for a read. A read's statements meet the schema they need, or fail
    /// `no such table` / `no such column` (a fresh database, or one an older instance left
    /// behind); the schema is then brought up to date ([`Schema::bring_up_to_date`]) and the
    /// statement, or its snapshot, run again. A write checks first ([`Db::check_schema`]),
    /// since a migration may add a rule (a trigger, a constraint) that no statement of the
    /// write would miss; on a libSQL server, not when the key-value store remembers the
    /// schema current ([`schema_memo`]). An instance older than the schema reads and writes
    /// it as long as migrations only add (see `db/migrations.rs`).
    pub fn open(schema: &'static Schema) -> Result<Self, ApiError> {
        Ok(Self {
            conn: request_connection()?,
            target: schema,
            in_transaction: Cell::new(false),
            was_interrupted: Cell::new(false),
            schema: Cell::new(SchemaState::Unknown),
            on_server: Cell::new(None),
            found_behind: Cell::new(false),
        })
    }

    /// Bring the schema up to date, once per `Db`; on a libSQL server, not when the key-value
    /// store remembers it current ([`schema_memo`]).
    pub(super) fn check_schema(&self) -> Result<(), ApiError> {
        if self.schema.get() != SchemaState::Unknown {
            return Ok(());
        }
        if self.on_libsql_server()? && schema_memo::remembers(self.target.version) {
            self.schema.set(SchemaState::Remembered);
            return Ok(());
        }
        self.check_schema_now()
    }

    /// Bring the schema up to date, asking the database.
    pub(super) fn check_schema_now(&self) -> Result<(), ApiError> {
        self.schema.set(SchemaState::Checked);
        (self.target.bring_up_to_date)(self)?;
        if self.on_libsql_server()? {
            schema_memo::remember(self.target.version);
        }
        Ok(())
    }

    /// Run one statement and return its rows (Spin runs only the first statement of a string).
    /// `SQLITE_BUSY` (the database locked by others past the busy timeout) is 503, any other
    /// failure 500.
    ///
    /// A statement a libSQL server interrupted is run again (up to [`ATTEMPTS`] times) when it
    /// is outside a transaction; inside one, the transaction is.
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, ApiError> {
        let mut attempt = 1;
        let result = loop {
            match self.conn.execute(sql, params) {
                Err(e) if interrupted(&e) => {
                    self.was_interrupted.set(true);
                    if self.in_transaction.get() || attempt == ATTEMPTS {
                        break Err(failed(&e, sql));
                    }
                    attempt += 1;
                }
                Err(e) if self.schema.get() != SchemaState::Checked && schema_behind(&e) => {
                    if self.in_transaction.get() {
                        self.found_behind.set(true);
                        break Err(failed(&e, sql));
                    }
                    self.check_schema_now()?;
                }
                result => break result.map_err(|e| failed(&e, sql)),
            }
        }?;
        Ok(Rows {
            columns: result.columns,
            rows: result.rows,
        })
    }

    /// Run one statement whose rows do not matter.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<(), ApiError> {
        self.query(sql, params).map(drop)
    }

    /// Whether the database is a libSQL server (Spin's `type = "libsql"`): its client refuses
    /// a per-connection `PRAGMA busy_timeout = ...` before sending anything; a file takes it
    /// (the timeout every connection Spin opens has already).
    pub(super) fn on_libsql_server(&self) -> Result<bool, ApiError> {
        if let Some(known) = self.on_server.get() {
            return Ok(known);
        }
        let sql = format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}");
        let on_server = match self.conn.execute(&sql, &[]) {
            Ok(_) => false,
            Err(e) if refused_by_libsql_client(&e) => true,
            Err(e) => return Err(failed(&e, &sql)),
        };
        self.on_server.set(Some(on_server));
        Ok(on_server)
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
        self.list_counted(columns, (from, filter), order, (from, filter), page)
    }

    /// [`Db::list`], the items counted from another `FROM` that selects as many (a search
    /// index alone, rather than joined to the table: `listing::Selection::count_from`).
    pub fn list_counted(
        &self,
        columns: &str,
        (from, filter): (&str, &[Value]),
        order: &str,
        (count_from, count_filter): (&str, &[Value]),
        page: Option<Pagination>,
    ) -> Result<(i64, Rows), ApiError> {
        let sql = format!(
            "{columns}, (SELECT COUNT(*){count_from}) AS total_count{from} ORDER BY {order} LIMIT ? OFFSET ?"
        );
        let mut params = count_filter.to_vec();
        params.extend_from_slice(filter);
        params.extend(Pagination::limit_offset(page));
        let rows = self.query(&sql, &params)?;
        let total = match rows.first() {
            Some(row) => row.int("total_count")?,
            None if page.is_some_and(|p| p.page > 1 || p.size == 0) => {
                self.count(&format!("SELECT COUNT(*){count_from}"), count_filter)?
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
                "`{sql}` gave {}, not a count",
                other.map_or_else(|| "no row".into(), describe)
            ))),
        }
    }
}
