//! The database: Spin's SQLite `default` database, one connection per request, with typed
//! rows, bound parameters, write transactions and the API's schema.
//!
//! [`open`] is the one door: the request's connection ([`connection`]) at the schema the
//! migrations make ([`migrations`]). The connection knows no migration (it is given the
//! [`Schema`] to keep); the migrations are a client of the connection like any other.
//! Writes and snapshots ([`transaction`]), waiting out a busy database ([`busy`]), what a
//! failure means ([`failure`]), rows and parameters ([`rows`]) and the schema remembered in the
//! key-value store ([`schema_memo`]) are a file each.

mod busy;
mod connection;
mod failure;
pub mod migrations;
mod packing;
mod rows;
mod schema_memo;
mod transaction;

pub use connection::{Db, Schema};
pub use rows::{describe, Param, Row, Rows, Value};

use crate::error::ApiError;

/// Open the `default` database, at the API's schema ([`migrations::SCHEMA`]).
pub fn open() -> Result<Db, ApiError> {
    Db::open(&migrations::SCHEMA)
}
