//! The libSQL server, `sqld`, in a process of its own: the app's `default` database for the
//! end-to-end tests and the benchmark when they run on a server (`type = "libsql"`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::runtime_config::Database;

/// The token the app sends: sqld without `--auth-jwt-key-file` takes any.
const TOKEN: &str = "sqld-without-auth";

/// The sqld to run: `$SQLD`, else `sqld` on the `PATH`, else the team's copy beside the
/// checkout (`../shared/bin/sqld`); see [`crate::find_tool`].
pub fn find(workspace: &Path) -> Option<PathBuf> {
    crate::find_tool("SQLD", "sqld", workspace)
}

/// A running sqld over a directory of its own, stopped when dropped.
pub struct Sqld {
    child: Child,
    pub addr: SocketAddr,
    /// Its directory: the data (`data.sqld`) and its output (`sqld.out`).
    pub dir: PathBuf,
}

impl Sqld {
    /// Start sqld on a free loopback port, and wait until it answers `/health`. sqld cannot
    /// report a port it chose, so the port is found free first, and another is tried if
    /// something took it meanwhile.
    pub fn start(binary: &Path, dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut last = String::new();
        for _ in 0..5 {
            let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
            let output = dir.join("sqld.out");
            let out = std::fs::File::create(&output)?;
            let child = Command::new(binary)
                .arg("--db-path")
                .arg(dir.join("data.sqld"))
                .arg("--http-listen-addr")
                .arg(addr.to_string())
                .arg("--no-welcome")
                .stdin(Stdio::null())
                .stdout(Stdio::from(out.try_clone()?))
                .stderr(Stdio::from(out))
                .spawn()
                .with_context(|| format!("cannot run {}", binary.display()))?;
            let mut sqld = Self {
                child,
                addr,
                dir: dir.to_path_buf(),
            };
            let started = Instant::now();
            loop {
                // Ours answers, not another that took the port meanwhile.
                if healthy(addr) && sqld.child.try_wait()?.is_none() {
                    return Ok(sqld);
                }
                if let Some(status) = sqld.child.try_wait()? {
                    last = format!(
                        "sqld exited ({status}):\n{}",
                        std::fs::read_to_string(&output).unwrap_or_default()
                    );
                    break;
                }
                if started.elapsed() > Duration::from_secs(60) {
                    bail!("sqld did not answer within 60 s");
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        bail!("{last}")
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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
        self.dir.join("data.sqld/dbs/default/data")
    }
}

/// Whether sqld answers `GET /health` with 200.
fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: sqld\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

impl Drop for Sqld {
    /// SIGTERM (sqld stops cleanly), SIGKILL if it has not within 5 s.
    fn drop(&mut self) {
        // Already gone (and reaped): its pid may be another process's now.
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id() as i32;
        // SAFETY: kill(2) on the process this value started.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
