//! `redis-server` in a process of its own: the app's key-value store for the tests and the
//! benchmark when several instances share one (`[key_value_store.default]`, `type = "redis"`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::process::{exchange, ServerProcess};
use crate::runtime_config::KeyValueStore;

/// The redis-server to run: `$REDIS_SERVER`, else `redis-server` on the `PATH` (Debian's
/// package `redis-server`); see [`crate::find_tool`].
pub fn find(workspace: &Path) -> Option<PathBuf> {
    crate::find_tool("REDIS_SERVER", "redis-server", workspace)
}

/// A running redis-server over a directory of its own (its output in `redis.out`), stopped
/// when dropped. It keeps nothing on disk (no snapshots, no append-only file): a test's
/// server lives as long as its test.
pub struct RedisServer(pub ServerProcess);

impl RedisServer {
    /// Start it on a free loopback port, and wait until it answers `PING`.
    pub fn start(binary: &Path, dir: &Path) -> Result<Self> {
        let command = |addr: SocketAddr| {
            let mut command = Command::new(binary);
            command
                .args(["--bind", "127.0.0.1", "--port"])
                .arg(addr.port().to_string())
                .arg("--dir")
                .arg(dir)
                .args(["--save", "", "--appendonly", "no"]);
            command
        };
        ServerProcess::start("redis", dir, command, pong).map(Self)
    }

    pub fn url(&self) -> String {
        format!("redis://{}", self.0.addr)
    }

    /// The runtime config's key-value store: this server.
    pub fn store(&self) -> KeyValueStore {
        KeyValueStore::Redis { url: self.url() }
    }
}

/// Whether a Redis server at `addr` answers `PING`.
fn pong(addr: SocketAddr) -> bool {
    exchange(addr, b"PING\r\nQUIT\r\n").starts_with("+PONG")
}
