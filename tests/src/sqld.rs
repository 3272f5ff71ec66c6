//! The libSQL server, `sqld`, in a process of its own: the app's `default` database for the
//! end-to-end tests and the benchmark when they run on a server (`type = "libsql"`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::process::{http_ok, ServerProcess};
use crate::runtime_config::Database;

/// The token the app sends: sqld without `--auth-jwt-key-file` takes any.
const TOKEN: &str = "sqld-without-auth";

/// How often sqld checkpoints its WAL ([`Checkpoints::OnAClock`]).
const CHECKPOINT_INTERVAL_S: &str = "60";

/// The sqld to run: `$SQLD`, else `sqld` on the `PATH`, else the team's copy beside the
/// checkout (`../shared/bin/sqld`); see [`crate::find_tool`].
pub fn find(workspace: &Path) -> Option<PathBuf> {
    crate::find_tool("SQLD", "sqld", workspace)
}

fn command(binary: &Path, dir: &Path, checkpoints: Checkpoints) -> impl Fn(SocketAddr) -> Command {
    let (binary, data) = (binary.to_path_buf(), dir.join("data.sqld"));
    move |addr| {
        let mut command = Command::new(&binary);
        command
            .arg("--db-path")
            .arg(&data)
            .arg("--http-listen-addr")
            .arg(addr.to_string())
            .arg("--no-welcome");
        if checkpoints == Checkpoints::OnAClock {
            command
                .arg("--checkpoint-interval-s")
                .arg(CHECKPOINT_INTERVAL_S);
        }
        command
    }
}

/// When sqld checkpoints its WAL.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Checkpoints {
    /// Every [`CHECKPOINT_INTERVAL_S`] (`--checkpoint-interval-s`), as the README tells
    /// operators to start it: with SQLite's automatic checkpoints, which run inside a writer's
    /// commit, many autocommit writers left sqld 0.24.33 holding its write lock for good
    /// (README, "Scaling out"; `cargo run -p testhost --example sqld_writers`).
    OnAClock,
    /// SQLite's automatic checkpoints (sqld's default), to show what they do.
    Automatic,
}

fn ready(addr: SocketAddr) -> bool {
    http_ok(addr, "/health")
}

/// A running sqld over a directory of its own (its data in `data.sqld`, its output in
/// `sqld.out`), stopped when dropped (SIGTERM: sqld stops cleanly).
pub struct Sqld(pub ServerProcess);

impl Sqld {
    /// Start sqld on a free loopback port, and wait until it answers `/health`.
    pub fn start(binary: &Path, dir: &Path) -> Result<Self> {
        Self::start_with(binary, dir, Checkpoints::OnAClock)
    }

    /// [`Sqld::start`], checkpointing as `checkpoints` says.
    pub fn start_with(binary: &Path, dir: &Path, checkpoints: Checkpoints) -> Result<Self> {
        ServerProcess::start("sqld", dir, command(binary, dir, checkpoints), ready).map(Self)
    }

    /// Kill it (SIGKILL), as a crash would, and start it again on the same address over the
    /// same data once `down` has passed; its clients meanwhile find nothing there.
    pub fn crash_and_restart(&mut self, binary: &Path, down: std::time::Duration) -> Result<()> {
        self.0.kill();
        std::thread::sleep(down);
        let dir = self.0.dir.clone();
        self.0 = ServerProcess::start_on(
            "sqld",
            &dir,
            self.0.addr,
            command(binary, &dir, Checkpoints::OnAClock),
            ready,
        )??;
        Ok(())
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.0.addr)
    }

    pub fn dir(&self) -> &Path {
        &self.0.dir
    }

    /// The runtime config's database: this server.
    pub fn database(&self) -> Database {
        Database::Libsql {
            url: self.url(),
            token: TOKEN.to_string(),
        }
    }

    /// The SQLite file behind the server's default database (WAL mode). A test may open it
    /// directly for what the API cannot do: sqld sees what another connection to its file
    /// commits, as SQLite does (measured; this is a test's back door, not a way to run the
    /// app).
    pub fn data_file(&self) -> PathBuf {
        self.0.dir.join("data.sqld/dbs/default/data")
    }
}
