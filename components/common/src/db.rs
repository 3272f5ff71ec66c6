//! The database: Spin's SQLite `default` database, opened once per request, with typed rows,
//! bound parameters and write transactions.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

pub use spin_sdk::sqlite::Value;
use spin_sdk::sqlite::{Connection, RowResult};

use crate::{
    error::{is_busy, is_unreachable, ApiError, Refusal},
    migrations,
    pagination::Pagination,
    schema_memo,
};

/// SQLite's busy timeout once a writer holds the lock (its commit waiting for readers), as on
/// every connection Spin opens. Spin opens a new connection for every `open`, so it is set on
/// each one.
const BUSY_TIMEOUT_MS: u32 = 5000;

/// How long a write waits for the write lock before it gives up with 503, unless the Spin
/// variable [`LOCK_TIMEOUT_VARIABLE`] says otherwise.
const LOCK_TIMEOUT_MS: u64 = 5000;

/// The Spin variable bounding the wait for the write lock, in milliseconds.
const LOCK_TIMEOUT_VARIABLE: &str = "db_lock_timeout_ms";

/// The waits between two tries for the write lock: the first under [`FIRST_BACKOFF_US`], the
/// ceiling doubling with each try up to [`MAX_BACKOFF_US`], or [`LATE_MAX_BACKOFF_US`] once
/// a fifth of the bound has passed. Measured with 64 writers (`cargo bench -p testhost --
/// overload`): with a 16 ms ceiling, the waiters' tries brought the writes down to 14 a second
/// with the CPUs busy (most likely because each try holds SQLite's shared lock for a moment,
/// which the holder's commit must wait out, longer when the CPUs are busy); with 100 ms, 240
/// to 490 a second busy and 510 to 700 quiet, over three runs.
const FIRST_BACKOFF_US: u64 = 1_000;
const MAX_BACKOFF_US: u64 = 100_000;
const LATE_MAX_BACKOFF_US: u64 = 50_000;

/// How many times a transaction, or a statement outside one, is run when a libSQL server
/// interrupts it (see [`interrupted`]).
const ATTEMPTS: u32 = 3;

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

/// What a [`Db`] knows of the schema.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Schema {
    /// Nothing yet.
    Unknown,
    /// Remembered current on a libSQL server ([`schema_memo`]), not asked.
    Remembered,
    /// Found current, or brought up to date.
    Checked,
}

pub struct Db {
    conn: Rc<Connection>,
    /// Inside [`Db::transaction`] or [`Db::snapshot`]: an interrupted statement is not run
    /// again alone, the whole transaction is.
    in_transaction: Cell<bool>,
    /// The last failed statement was interrupted by the server.
    was_interrupted: Cell<bool>,
    /// What this `Db` knows of the schema.
    schema: Cell<Schema>,
    /// Whether the database is a libSQL server, once known ([`Db::on_libsql_server`]).
    on_server: Cell<Option<bool>>,
    /// A statement of the transaction found the schema behind (see [`schema_behind`]): it is
    /// run again once the schema is up to date.
    found_behind: Cell<bool>,
}

impl Db {
    /// Open the `default` database (the request's connection, [`CONNECTION`]). Nothing is
    /// sent yet: on a libSQL server every statement is a round trip, so the schema is not
    /// checked up front for a read. A read's statements meet the schema they need, or fail
    /// `no such table` / `no such column` (a fresh database, or one an older instance left
    /// behind); the schema is then brought up to date ([`migrations::ensure`]) and the
    /// statement, or its snapshot, run again. A write checks first ([`Db::check_schema`]),
    /// since a migration may add a rule (a trigger, a constraint) that no statement of the
    /// write would miss; on a libSQL server, not when the key-value store remembers the
    /// schema current ([`schema_memo`]). An instance older than the schema reads and writes
    /// it as long as migrations only add (see `migrations.rs`).
    pub fn open() -> Result<Self, ApiError> {
        Ok(Self {
            conn: request_connection()?,
            in_transaction: Cell::new(false),
            was_interrupted: Cell::new(false),
            schema: Cell::new(Schema::Unknown),
            on_server: Cell::new(None),
            found_behind: Cell::new(false),
        })
    }

    /// Bring the schema up to date, once per `Db`; on a libSQL server, not when the key-value
    /// store remembers it current ([`schema_memo`]).
    fn check_schema(&self) -> Result<(), ApiError> {
        if self.schema.get() != Schema::Unknown {
            return Ok(());
        }
        if self.on_libsql_server()? && schema_memo::remembers(migrations::COUNT) {
            self.schema.set(Schema::Remembered);
            return Ok(());
        }
        self.check_schema_now()
    }

    /// Bring the schema up to date, asking the database.
    fn check_schema_now(&self) -> Result<(), ApiError> {
        self.schema.set(Schema::Checked);
        migrations::ensure(self)?;
        if self.on_libsql_server()? {
            schema_memo::remember(migrations::COUNT);
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
                Err(e) if self.schema.get() != Schema::Checked && schema_behind(&e) => {
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

    /// Run one statement that writes (its rows: `RETURNING`), whole or not at all. What must
    /// hold across rows is the schema's to keep: constraints, and triggers for what follows
    /// from a change; the checks before it are reads, outside the lock.
    ///
    /// On a local file it runs in a transaction of its own ([`Db::transaction`]), whose
    /// `BEGIN IMMEDIATE` polls the lock fairly under many writers. On a libSQL server every
    /// statement is a round trip, and a transaction holds the server's write lock between its
    /// round trips: an instance that dies among them holds every other instance's writes until
    /// sqld takes the lock back, 5 s. So there the statement is sent alone (SQLite's autocommit:
    /// the server takes and gives back the lock within it, and an instance that dies holds
    /// nothing), tried again while the server answers busy. This needs sqld started with
    /// `--checkpoint-interval-s` (README, "Scaling out"): with SQLite's automatic checkpoints,
    /// sqld 0.24.33 under many autocommit writers kept its write lock for good.
    ///
    /// A statement the schema refuses (a UNIQUE column, a foreign key, a rule a trigger keeps)
    /// is [`ApiError::Refused`], for the caller to say what it means to the client.
    pub fn write(&self, sql: &str, params: &[Value]) -> Result<Rows, ApiError> {
        self.check_schema()?;
        if !self.on_libsql_server()? {
            return self.transaction(|| self.query(sql, params));
        }
        let behind = Cell::new(false);
        let alone = || {
            self.while_busy(sql, || {
                let result = self.conn.execute(sql, params);
                behind.set(matches!(&result, Err(e) if schema_behind(e)));
                result
            })
        };
        let result = match alone() {
            // The schema was only remembered current, and is not: bring it up to date.
            Err(_) if behind.get() && self.schema.get() == Schema::Remembered => {
                self.check_schema_now()?;
                alone()?
            }
            result => result?,
        };
        Ok(Rows {
            columns: result.columns,
            rows: result.rows,
        })
    }

    /// Whether the database is a libSQL server (Spin's `type = "libsql"`): its client refuses
    /// a per-connection `PRAGMA busy_timeout = ...` before sending anything; a file takes it
    /// (the timeout every connection Spin opens has already).
    fn on_libsql_server(&self) -> Result<bool, ApiError> {
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

    /// Run `work` inside a write transaction (`BEGIN IMMEDIATE`, so two writers queue rather
    /// than fail): it commits when `work` succeeds, and rolls back, changing nothing, when it
    /// fails, or when the commit does (503 when the commit could not get the database from its
    /// readers in time). A request that dies half-way also changes nothing: its connection
    /// closes with the transaction open, and SQLite rolls it back (a libSQL server, when it
    /// drops the stream or takes the lock back, after about 5 s). `work` must pass every
    /// database error on (`?`), never swallow one.
    ///
    /// Foreign keys (cascades, `SET NULL`) and the busy timeout are per connection, and Spin
    /// opens a new connection for every `open`, so they are set before each write (see
    /// [`Db::begin_immediate`]). Reads rely on the host's busy timeout (Spin's is 5 s).
    ///
    /// A libSQL server may interrupt a statement of the transaction (see [`interrupted`]); the
    /// transaction is then rolled back and `work` run again, up to [`ATTEMPTS`] times in all.
    ///
    /// The schema is brought up to date first (see [`Db::open`]).
    pub fn transaction<T>(
        &self,
        mut work: impl FnMut() -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.check_schema()?;
        self.again_if_interrupted(|| self.transaction_once(&mut work))
    }

    fn transaction_once<T>(
        &self,
        work: &mut impl FnMut() -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.begin_immediate()?;
        match work() {
            // An interrupted statement ended the transaction (SQLite rolled it back): its
            // success, had `work` ignored the error, would be a lie; run it again.
            Ok(_) if self.was_interrupted.get() => {
                self.roll_back();
                Err(ApiError::internal("a statement was interrupted"))
            }
            Ok(value) => match self.execute("COMMIT", &[]) {
                Ok(()) => Ok(value),
                Err(e) => {
                    // A failed COMMIT (SQLITE_BUSY: readers held on) leaves the transaction
                    // open; nothing of it may stay.
                    self.roll_back();
                    Err(e)
                }
            },
            Err(e) => {
                // The error to report is `e`; a failed rollback leaves the transaction to die
                // with the connection.
                self.roll_back();
                Err(e)
            }
        }
    }

    /// End a failed transaction. Its own interruption (the statement after a failure is the
    /// likeliest to meet sqld's stale cancel flag) must not make the failure look like one
    /// worth running again.
    fn roll_back(&self) {
        let interrupted = self.was_interrupted.get();
        let _ = self.execute("ROLLBACK", &[]);
        self.was_interrupted.set(interrupted);
    }

    /// Run `work`'s reads on one snapshot (a deferred transaction: no write lock), so that
    /// several statements (a page and its total) agree while others write. Run again when a
    /// libSQL server interrupts one of them, as [`Db::transaction`].
    pub fn snapshot<T>(
        &self,
        mut work: impl FnMut() -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.again_if_interrupted(|| {
            self.execute("BEGIN", &[])?;
            let result = work();
            // Nothing was written: ending it cannot lose anything.
            let _ = self.execute("COMMIT", &[]);
            result
        })
    }

    /// Run `transaction` (which begins and ends one) again while a statement of it was
    /// interrupted, up to [`ATTEMPTS`] times in all; and once more after bringing the schema
    /// up to date when a statement found it behind.
    fn again_if_interrupted<T>(
        &self,
        mut transaction: impl FnMut() -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut attempt = 1;
        loop {
            self.was_interrupted.set(false);
            self.found_behind.set(false);
            self.in_transaction.set(true);
            let result = transaction();
            self.in_transaction.set(false);
            if result.is_err() && self.found_behind.get() {
                self.check_schema_now()?;
                continue;
            }
            if result.is_ok() || !self.was_interrupted.get() || attempt == ATTEMPTS {
                return result;
            }
            attempt += 1;
        }
    }

    /// Take the write lock, or 503 when other writers keep it past the bound (see
    /// [`Db::while_busy`]).
    ///
    /// SQLite's own busy handler backs off to 100 ms sleeps, so under many writers a late one
    /// keeps losing the lock to newcomers (seconds, measured); asking every millisecond instead
    /// costs the writer that holds the lock its time (64 waiters: 64,000 tries a second).
    /// Here a waiter asks again after a wait whose ceiling doubles from 1 ms to 100 ms (50 ms
    /// once it has waited a fifth of the bound, so that the oldest waiters are not starved),
    /// drawn at random in the ceiling's upper half so that waiters do not ask in step. The
    /// wait is a WASI `monotonic-clock` pollable: the host suspends the component and spends
    /// no CPU on it. Once the lock is held, the usual busy timeout covers the rest of the
    /// transaction (a commit waiting for readers, in rollback-journal mode).
    ///
    /// On a libSQL server (Spin's `type = "libsql"`) there is no lock to poll: its client
    /// refuses a per-connection `PRAGMA busy_timeout = ...` before sending anything, and the
    /// server itself queues `BEGIN IMMEDIATE` until the writer before has finished (or held
    /// the lock past the server's own bound, when it takes it back and that writer's commit
    /// fails, 503). So one `BEGIN IMMEDIATE` is sent. (There only migrations write in a
    /// transaction: see [`Db::write`].)
    ///
    /// Foreign keys (cascades, `SET NULL`) are per connection: a file's are turned on here,
    /// before `BEGIN` (the pragma does nothing inside a transaction). A libSQL server turns
    /// them on for every connection itself (sqld 0.24: `PRAGMA foreign_keys` is 1 on a new
    /// stream), and there the pragma would be a round trip on a stream of its own, which the
    /// transaction's statements would not share.
    fn begin_immediate(&self) -> Result<(), ApiError> {
        if self.on_libsql_server()? {
            return self.execute("BEGIN IMMEDIATE", &[]);
        }
        self.execute("PRAGMA busy_timeout = 0", &[])?;
        self.execute("PRAGMA foreign_keys = ON", &[])?;
        let begun = self
            .while_busy("BEGIN IMMEDIATE", || {
                self.conn.execute("BEGIN IMMEDIATE", &[])
            })
            .map(drop);
        // Whatever happened, the connection leaves with its usual timeout.
        self.execute(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"), &[])?;
        begun
    }

    /// Run `statement` (`sql`) until the database is not busy, waiting between tries as
    /// [`backoff`] says, or 503 when it stays busy past the bound (the Spin variable
    /// `db_lock_timeout_ms`, 5 s unless set; read only when first busy). Busy includes a
    /// libSQL server's interruption ([`is_busy`]): a statement that failed either way did
    /// nothing, and may be run again.
    fn while_busy<T>(
        &self,
        sql: &str,
        mut statement: impl FnMut() -> Result<T, spin_sdk::sqlite::Error>,
    ) -> Result<T, ApiError> {
        let mut waited: Option<(std::time::Instant, std::time::Duration)> = None;
        let mut tries = 0u32;
        loop {
            let e = match statement() {
                Ok(value) => return Ok(value),
                Err(e) if is_busy(&e) => e,
                Err(e) => return Err(failed(&e, sql)),
            };
            let (started, bound) =
                *waited.get_or_insert_with(|| (std::time::Instant::now(), lock_timeout()));
            let Some(left) = bound
                .checked_sub(started.elapsed())
                .filter(|d| !d.is_zero())
            else {
                return Err(ApiError::service_unavailable(format!(
                    "sqlite: {e:?} in `{sql}`: the database was busy for {} ms ({tries} tries)",
                    bound.as_millis()
                )));
            };
            // Past a fifth of the bound, a waiter asks more often than the younger ones.
            let late = left < bound * 4 / 5;
            let random = wasi::random::random::get_random_u64();
            sleep(backoff(tries, late, random).min(left));
            tries += 1;
        }
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

/// A failed statement: 503 when the database was locked past the busy timeout, or could not
/// be reached; else 500.
fn failed(e: &spin_sdk::sqlite::Error, sql: &str) -> ApiError {
    let detail = format!("sqlite: {e:?} in `{sql}`");
    let refusal = match e {
        spin_sdk::sqlite::Error::Io(m) => Refusal::from_message(m),
        _ => None,
    };
    if is_busy(e) {
        ApiError::service_unavailable(detail)
    } else if is_unreachable(e) {
        ApiError::database_unavailable(detail)
    } else if let Some(refusal) = refusal {
        ApiError::Refused(refusal, detail)
    } else {
        ApiError::internal(detail)
    }
}

/// A statement that needs more schema than the database has: a table or a column a later
/// migration makes (SQLite's message, on a file as on a libSQL server).
fn schema_behind(e: &spin_sdk::sqlite::Error) -> bool {
    matches!(e, spin_sdk::sqlite::Error::Io(m)
        if m.contains("no such table") || m.contains("no such column"))
}

/// A statement a libSQL server interrupted (`SQLITE_INTERRUPT`), through no fault of its own.
/// The libSQL client Spin uses stops reading each statement's response once it has the rows,
/// closing that HTTP connection; sqld 0.24 then cancels the work of that request, by a flag on
/// the stream's SQLite connection, which the stream's next statement, already running, may
/// meet. Seen about once a hundred fresh databases' migrations in the end-to-end suite; never
/// on a local file. An interrupted write has rolled its transaction back (SQLite); a read has
/// not, but the transaction is rolled back and run again whole all the same. Past the last
/// attempt it is 503, as busy is ([`is_busy`]).
fn interrupted(e: &spin_sdk::sqlite::Error) -> bool {
    matches!(e, spin_sdk::sqlite::Error::Io(m) if m.contains("SQLITE_INTERRUPT"))
}

/// A statement the libSQL client (`libsql` crate, `remote`: Spin's `type = "libsql"`) will not
/// send: it parses each one first, and refuses `PRAGMA`s that set per-connection state.
fn refused_by_libsql_client(e: &spin_sdk::sqlite::Error) -> bool {
    matches!(e, spin_sdk::sqlite::Error::Io(m) if m == "unsupported statement")
}

/// The bound on the wait for the write lock: the Spin variable `db_lock_timeout_ms`, else
/// [`LOCK_TIMEOUT_MS`] (also when it is not a number).
fn lock_timeout() -> std::time::Duration {
    let ms = spin_sdk::variables::get(LOCK_TIMEOUT_VARIABLE)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(LOCK_TIMEOUT_MS);
    std::time::Duration::from_millis(ms)
}

/// The wait before try `tries + 1` for the write lock: its ceiling doubles from
/// [`FIRST_BACKOFF_US`] up to [`MAX_BACKOFF_US`], or up to [`LATE_MAX_BACKOFF_US`] for a
/// `late` waiter (past a fifth of its bound), which so asks more often than the younger ones,
/// who, coming last, would otherwise get the lock first; the wait is drawn (from `random`) in
/// the upper half of the ceiling.
fn backoff(tries: u32, late: bool, random: u64) -> std::time::Duration {
    let max = if late {
        LATE_MAX_BACKOFF_US
    } else {
        MAX_BACKOFF_US
    };
    let ceiling = FIRST_BACKOFF_US
        .saturating_mul(1u64 << tries.min(16))
        .min(max);
    let half = ceiling / 2;
    std::time::Duration::from_micros(ceiling - half + random % (half + 1))
}

/// Wait without spending CPU: the host suspends the component on a clock pollable.
fn sleep(duration: std::time::Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    wasi::clocks::monotonic_clock::subscribe_duration(nanos).block();
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
    /// A column's value as SQLite gave it.
    pub fn value(&self, column: &str) -> Result<&Value, ApiError> {
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
    fn backoff_doubles_to_a_bound_with_jitter() {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        // The ceiling: 1, 2, 4, ... 64, 100, 100 ms (50 ms once late); each wait in its upper
        // half.
        let ceilings = [
            (0, false, 1.0),
            (1, false, 2.0),
            (2, false, 4.0),
            (6, false, 64.0),
            (7, false, 100.0),
            (30, false, 100.0),
            (2, true, 4.0),
            (6, true, 50.0),
            (30, true, 50.0),
        ];
        for (tries, late, ceiling) in ceilings {
            assert_eq!(ms(backoff(tries, late, 0)), ceiling / 2.0, "try {tries}");
            let top = ceiling as u64 * 500;
            assert_eq!(ms(backoff(tries, late, top)), ceiling, "try {tries}");
            for random in [1, 7, 12345, u64::MAX] {
                let wait = ms(backoff(tries, late, random));
                assert!(
                    wait >= ceiling / 2.0 && wait <= ceiling,
                    "{tries} {random}: {wait}"
                );
            }
        }
        assert_eq!(backoff(u32::MAX, false, 9), backoff(40, false, 9));
        // Different draws, different waits: waiters do not ask in step.
        let waits: std::collections::BTreeSet<_> =
            (0..100u64).map(|r| backoff(9, false, r * 7919)).collect();
        assert!(waits.len() > 50);
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
