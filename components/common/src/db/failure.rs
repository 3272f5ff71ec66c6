//! What a failed statement means: busy or unreachable (503), interrupted by a libSQL server,
//! refused by the libSQL client, or asking for more schema than the database has.

use crate::error::{is_busy, is_unreachable, ApiError, Refusal};

/// A failed statement: 503 when the database was locked past the busy timeout, or could not
/// be reached; else 500.
pub(super) fn failed(e: &spin_sdk::sqlite::Error, sql: &str) -> ApiError {
    let detail = format!("sqlite: {} in `{sql}`", crate::host_error::sqlite(e));
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
pub(super) fn schema_behind(e: &spin_sdk::sqlite::Error) -> bool {
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
pub(super) fn interrupted(e: &spin_sdk::sqlite::Error) -> bool {
    matches!(e, spin_sdk::sqlite::Error::Io(m) if m.contains("SQLITE_INTERRUPT"))
}

/// A statement the libSQL client (`libsql` crate, `remote`: Spin's `type = "libsql"`) will not
/// send: it parses each one first, and refuses `PRAGMA`s that set per-connection state.
pub(super) fn refused_by_libsql_client(e: &spin_sdk::sqlite::Error) -> bool {
    matches!(e, spin_sdk::sqlite::Error::Io(m) if m == "unsupported statement")
}
