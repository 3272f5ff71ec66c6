//! The real Spin CLI: `spin up` in a process of its own, for running the end-to-end tests and
//! the benchmark under Spin as well as under the test host.

use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The Spin CLI to run: `$SPIN`, else `spin` on the `PATH`, else the team's copy beside the
/// checkout (`../shared/bin/spin`); see [`crate::find_tool`].
pub fn find(workspace: &Path) -> Option<PathBuf> {
    crate::find_tool("SPIN", "spin", workspace)
}

/// Where `spin up` takes the application from.
#[derive(Clone, Debug)]
pub enum AppSource {
    /// Its `spin.toml`.
    Manifest(PathBuf),
    /// An OCI reference (`host:port/name:tag`) on a registry that speaks plain HTTP, such as
    /// a test's own [`crate::registry::Registry`] (`-k`). `spin up` then runs in an empty
    /// folder, with a cache of its own (`--cache-dir`): `spin up`s that share a cache rewrite
    /// the same files as they start, and some fail to start (Spin 4.0.2, seen here).
    Registry(String),
}

/// What one `spin up` serves, and how.
pub struct SpinUp {
    /// The Spin CLI.
    pub spin: PathBuf,
    /// The application.
    pub app: AppSource,
    /// A directory of this instance's own: its runtime config, component logs and output.
    pub dir: PathBuf,
    /// The runtime config (`--runtime-config-file`): where the `default` database and
    /// key-value store are, as [`crate::runtime_config`] writes them. Empty: no
    /// `--runtime-config-file` at all.
    pub runtime_config: String,
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
    /// Start `spin up` and wait until it serves (it prints `Serving http://ADDRESS`). A
    /// relative `path` in the runtime config is from [`SpinUp::dir`], where the file is.
    pub fn start(&self) -> Result<Running> {
        std::fs::create_dir_all(&self.dir)?;
        let runtime_config = self.dir.join("runtime-config.toml");
        if !self.runtime_config.is_empty() {
            std::fs::write(&runtime_config, &self.runtime_config)?;
        }
        let output = self.dir.join("spin.out");
        let out = std::fs::File::create(&output)?;
        let mut command = Command::new(&self.spin);
        command.arg("up").arg("--from");
        match &self.app {
            AppSource::Manifest(manifest) => command.arg(manifest),
            AppSource::Registry(reference) => {
                let empty = self.dir.join("empty");
                std::fs::create_dir_all(&empty)?;
                command
                    .arg(reference)
                    .arg("-k")
                    .arg("--cache-dir")
                    .arg(self.dir.join("cache"))
                    .current_dir(empty)
            }
        };
        command
            .arg("--listen")
            .arg(self.listen.to_string())
            .arg("--log-dir")
            .arg(self.dir.join("logs"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out))
            // Its own process group: stopping it stops `spin trigger http` too.
            .process_group(0);
        if !self.runtime_config.is_empty() {
            command.arg("--runtime-config-file").arg(&runtime_config);
        }
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
