//! The real Spin CLI: `spin up` in a process of its own, for running the end-to-end tests and
//! the benchmark under Spin as well as under the test host.

use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::runtime_config::Database;

/// The Spin CLI to run: `$SPIN`, else `spin` on the `PATH`, else the team's copy beside the
/// checkout (`../shared/bin/spin`); see [`crate::find_tool`].
pub fn find(workspace: &Path) -> Option<PathBuf> {
    crate::find_tool("SPIN", "spin", workspace)
}

/// What one `spin up` serves, and how.
pub struct SpinUp {
    /// The Spin CLI.
    pub spin: PathBuf,
    /// The application's `spin.toml`.
    pub manifest: PathBuf,
    /// A directory of this instance's own: its runtime config, component logs and output.
    pub dir: PathBuf,
    /// The `default` SQLite database: a file, or a libSQL server.
    pub database: Database,
    /// Application variables, given as `SPIN_VARIABLE_*` (the caller's own are not passed on).
    pub variables: Vec<(String, String)>,
    /// Where to listen; port 0 lets the system choose.
    pub listen: SocketAddr,
}

/// A running `spin up`, stopped (with its `spin trigger http` child) when dropped.
pub struct Running {
    child: Child,
    pub addr: SocketAddr,
    /// The instance's directory ([`SpinUp::dir`]).
    pub dir: PathBuf,
    /// Everything Spin and the components printed.
    pub output: PathBuf,
}

impl SpinUp {
    /// Start `spin up` and wait until it serves (it prints `Serving http://ADDRESS`).
    pub fn start(&self) -> Result<Running> {
        self.start_with("")
    }

    /// [`SpinUp::start`] with more runtime config after the `[sqlite_database.default]`
    /// section (such as `[key_value_store.default]`; a relative `path` there is from
    /// [`SpinUp::dir`], where the runtime config is).
    pub fn start_with(&self, more_runtime_config: &str) -> Result<Running> {
        std::fs::create_dir_all(&self.dir)?;
        let runtime_config = self.dir.join("runtime-config.toml");
        std::fs::write(
            &runtime_config,
            format!("{}{more_runtime_config}", self.database.runtime_config()?),
        )?;
        let output = self.dir.join("spin.out");
        let out = std::fs::File::create(&output)?;
        let mut command = Command::new(&self.spin);
        command
            .arg("up")
            .arg("--from")
            .arg(&self.manifest)
            .arg("--listen")
            .arg(self.listen.to_string())
            .arg("--runtime-config-file")
            .arg(&runtime_config)
            .arg("--log-dir")
            .arg(self.dir.join("logs"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out))
            // Its own process group: stopping it stops `spin trigger http` too.
            .process_group(0);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SPIN_VARIABLE_") {
                command.env_remove(name);
            }
        }
        for (name, value) in &self.variables {
            command.env(format!("SPIN_VARIABLE_{}", name.to_uppercase()), value);
        }
        let child = command
            .spawn()
            .with_context(|| format!("cannot run {}", self.spin.display()))?;
        let mut running = Running {
            child,
            addr: self.listen,
            dir: self.dir.clone(),
            output,
        };
        let started = Instant::now();
        loop {
            let text = running.output_text();
            if let Some(addr) = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Serving http://"))
            {
                running.addr = addr.trim().parse().context("Spin's address")?;
                return Ok(running);
            }
            if let Some(status) = running.child.try_wait()? {
                bail!("spin up exited ({status}):\n{text}");
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("spin up did not serve within 2 minutes:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Running {
    /// What Spin and the components printed so far.
    pub fn output_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.output) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kill it at once (SIGKILL to the group), as a crash or a power cut would, mid-request
    /// if one is running; return once it is gone.
    pub fn kill(mut self) {
        let group = -(self.child.id() as i32);
        // SAFETY: as in `drop`.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
        while unsafe { libc::kill(group, 0) } == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    /// SIGTERM to the group, as Ctrl-C would, then wait until `spin up` and its `spin trigger
    /// http` have both gone (so the database is closed cleanly); SIGKILL if they have not
    /// within 5 s.
    fn drop(&mut self) {
        let group = -(self.child.id() as i32);
        // SAFETY: kill(2) on the process group this value created; signal 0 only asks whether
        // any of it is left.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            // Reap `spin up`, or the group never empties.
            let _ = self.child.try_wait();
            if unsafe { libc::kill(group, 0) } != 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}
