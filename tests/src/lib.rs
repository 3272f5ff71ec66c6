//! A stand-in for Spin's runtime, for testing the components without the Spin CLI: it reads
//! `spin.toml`, builds and loads the components, routes as Spin does, and provides the host
//! interfaces they import (WASI, wasi:http, Spin's SQLite on a file or a libSQL server,
//! variables, and key-value stores on a file or a Redis server). Not a product: run the app
//! with `spin up`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub mod app;
pub mod engine;
pub mod key_value;
pub mod key_value_host;
pub mod key_value_redis;
pub mod key_value_sqlite;
pub mod libsql;
pub mod manifest;
pub mod outbound;
pub mod process;
pub mod redis_server;
pub mod registry;
pub mod routes;
pub mod runtime_config;
pub mod server;
pub mod skips;
pub mod spin;
pub mod spin_up;
pub mod sqld;
pub mod sqlite;
pub mod variables;
pub mod well_known;

pub use app::App;
pub use manifest::Manifest;
pub use server::serve;

/// The path the variable `variable` names, if set and not empty: one with a directory in it
/// and relative is from the workspace (where the README's commands run); a bare name is left
/// for the `PATH`.
pub fn named_path(variable: &str, workspace: &Path) -> Option<PathBuf> {
    let named = PathBuf::from(std::env::var_os(variable).filter(|s| !s.is_empty())?);
    Some(if named.components().count() > 1 && named.is_relative() {
        workspace.join(named)
    } else {
        named
    })
}

/// A tool the tests and the benchmark run, found as the variable `variable` names it (a path,
/// absolute or relative to the workspace, or a name on the `PATH`), else `name` on the `PATH`,
/// else the team's copy beside the checkout (`../shared/bin/<name>`): the first that answers
/// `--version`. `None` when there is none. A tool the variable names that does not answer
/// panics: a broken binary named on purpose fails the tests that need it, never skips them.
pub fn find_tool(variable: &str, name: &str, workspace: &Path) -> Option<PathBuf> {
    let runs = |p: &Path| {
        Command::new(p)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if let Some(path) = named_path(variable, workspace) {
        assert!(
            runs(&path),
            "{variable}={} does not run (`--version` failed)",
            path.display()
        );
        return Some(path);
    }
    [
        PathBuf::from(name),
        workspace.join("../shared/bin").join(name),
    ]
    .into_iter()
    .find(|p| runs(p))
}
