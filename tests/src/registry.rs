//! A local OCI registry in a process of its own (Debian's `docker-registry`, the CNCF
//! distribution 2.8): where the tests push the app as a user would (`spin registry push`),
//! and run it from (`spin up --from <reference>`). Plain HTTP, no authentication, its data in
//! its directory.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::process::{http_ok, ServerProcess};

/// The registry to run: `$DOCKER_REGISTRY`, else `docker-registry` on the `PATH` (Debian's
/// package `docker-registry`); see [`crate::find_tool`].
pub fn find(workspace: &Path) -> Option<PathBuf> {
    crate::find_tool("DOCKER_REGISTRY", "docker-registry", workspace)
}

/// A running registry over a directory of its own (`config.yml`, its data in `data/`, its
/// output in `registry.out`), stopped when dropped, or when the thread that started it ends
/// (`PR_SET_PDEATHSIG`): a test binary that shares one registry among its tests starts it from
/// a thread that lives as long as the binary, so that it goes when the binary does.
pub struct Registry(pub ServerProcess);

impl Registry {
    /// Start it on a free loopback port, and wait until it answers `GET /v2/`. Debian's own
    /// configuration asks for passwords; this one asks for none.
    pub fn start(binary: &Path, dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let config = dir.join("config.yml");
        let data = dir.join("data");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\n",
                serde_json::to_string(&data.display().to_string())?
            ),
        )?;
        let command = |addr: SocketAddr| {
            let mut command = Command::new(binary);
            command
                .arg("serve")
                .arg(&config)
                .env("REGISTRY_HTTP_ADDR", addr.to_string())
                // Without one it warns at every start that it made one up.
                .env("REGISTRY_HTTP_SECRET", "tests")
                .env("REGISTRY_LOG_ACCESSLOG_DISABLED", "true");
            // SAFETY: prctl(2) only, between fork and exec.
            unsafe {
                command.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            command
        };
        ServerProcess::start("registry", dir, command, |addr| http_ok(addr, "/v2/")).map(Self)
    }

    /// `spin registry push -k` the app of `manifest` (its components built) as `name:tag`;
    /// the reference to run it by.
    pub fn push(&self, spin: &Path, manifest: &Path, name_and_tag: &str) -> Result<String> {
        let reference = format!("{}/{name_and_tag}", self.0.addr);
        let output = Command::new(spin)
            .args(["registry", "push", "-k", "--from"])
            .arg(manifest)
            .arg(&reference)
            .output()
            .with_context(|| format!("cannot run {}", spin.display()))?;
        if !output.status.success() {
            bail!(
                "spin registry push {reference}: {}\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(reference)
    }
}
