//! Writes and snapshots: a write whole or not at all, several reads that agree, each run again
//! when a libSQL server interrupts it or finds the schema behind.

use std::cell::Cell;

use crate::error::ApiError;

use super::busy::while_busy;
use super::connection::{Db, SchemaState, ATTEMPTS, BUSY_TIMEOUT_MS};
use super::failure::schema_behind;
use super::rows::{Rows, Value};

impl Db {
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
            while_busy(sql, || {
                let result = self.conn.execute(sql, params);
                behind.set(matches!(&result, Err(e) if schema_behind(e)));
                result
            })
        };
        let result = match alone() {
            // The schema was only remembered current, and is not: bring it up to date.
            Err(_) if behind.get() && self.schema.get() == SchemaState::Remembered => {
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
            // Nothing was written: ending it cannot lose anything. A COMMIT that fails leaves
            // the transaction open, and the connection's next statements inside it (a write
            // after the reads would find itself in a read transaction): end it then.
            if self.execute("COMMIT", &[]).is_err() {
                self.roll_back();
            }
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
    /// [`while_busy`]).
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
        let begun = while_busy("BEGIN IMMEDIATE", || {
            self.conn.execute("BEGIN IMMEDIATE", &[])
        })
        .map(drop);
        // Whatever happened, the connection leaves with its usual timeout.
        self.execute(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"), &[])?;
        begun
    }
}
