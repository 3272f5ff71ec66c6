//! The schema version a libSQL server was last found at, remembered in Spin's key-value store
//! (the `default` store: a file of the instance's own, or Redis shared by the fleet), so that
//! a write there does not spend a round trip on `PRAGMA user_version` every time (README,
//! "Scaling out": with 64 writers, that round trip cost about a tenth of the writes a second).
//!
//! The memo only says "found at this version or later, at this time". Migrations only add, so
//! a schema found current stays current, unless the database is replaced by an older one (a
//! backup restored): writes then trust the memo for [`RECHECK`] at most, and any statement
//! that needs what is missing fails `no such table` / `no such column`, which brings the
//! schema up to date at once (`db.rs`). A local file needs no memo (its check is no round
//! trip), and any failure of the store is taken as no memo.

use spin_sdk::key_value::Store;

use crate::clock::unix_seconds;

/// The memo's key: `<version> <unix seconds>`.
const KEY: &str = "schema/user_version";

/// How long a memo is trusted, in seconds.
const RECHECK: u64 = 60;

/// Whether the schema was found at `version` or later less than [`RECHECK`] seconds ago (or
/// ahead: another host's clock may be).
pub fn remembers(version: usize) -> bool {
    let Ok(store) = Store::open_default() else {
        return false;
    };
    let Ok(Some(memo)) = store.get(KEY) else {
        return false;
    };
    let Some((found, at)) = std::str::from_utf8(&memo)
        .ok()
        .and_then(|memo| memo.split_once(' '))
        .and_then(|(found, at)| Some((found.parse::<usize>().ok()?, at.parse::<u64>().ok()?)))
    else {
        return false;
    };
    found >= version && unix_seconds().abs_diff(at) < RECHECK
}

/// Remember that the schema was found at `version` now.
pub fn remember(version: usize) {
    if let Ok(store) = Store::open_default() {
        // A memo not kept costs the next write one round trip, nothing more.
        let _ = store.set(KEY, format!("{version} {}", unix_seconds()).as_bytes());
    }
}
