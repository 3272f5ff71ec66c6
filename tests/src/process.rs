//! A server the tests run in a process of their own (sqld, redis-server, docker-registry): on
//! a free loopback port, over a directory of its own, ready when it answers, stopped when
//! dropped.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// A running server, stopped (SIGTERM, then SIGKILL after 5 s) when dropped.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    /// Its directory: its data, and its output (`<name>.out`).
    pub dir: PathBuf,
}

impl ServerProcess {
    /// Start `command(addr)` on a free loopback port, its output to `dir/<name>.out`, and
    /// wait until `ready(addr)`. None of these servers can report a port it chose, so the
    /// port is found free first, and another is tried if something took it meanwhile.
    pub fn start(
        name: &str,
        dir: &Path,
        command: impl Fn(SocketAddr) -> Command,
        ready: impl Fn(SocketAddr) -> bool,
    ) -> Result<Self> {
        let mut last = anyhow::anyhow!("{name} was not started");
        for _ in 0..5 {
            let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
            match Self::start_on(name, dir, addr, &command, &ready)? {
                Ok(server) => return Ok(server),
                Err(exited) => last = exited,
            }
        }
        Err(last)
    }

    /// Start `command(addr)` on this address (a server started again where its clients
    /// expect it), and wait until `ready(addr)`. The inner error: it exited (the port taken,
    /// say), with what it printed.
    pub fn start_on(
        name: &str,
        dir: &Path,
        addr: SocketAddr,
        command: impl Fn(SocketAddr) -> Command,
        ready: impl Fn(SocketAddr) -> bool,
    ) -> Result<Result<Self>> {
        std::fs::create_dir_all(dir)?;
        let output = dir.join(format!("{name}.out"));
        let out = std::fs::File::create(&output)?;
        let mut command = command(addr);
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out))
            .spawn()
            .with_context(|| format!("cannot run {name} ({command:?})"))?;
        let mut server = Self {
            child,
            addr,
            dir: dir.to_path_buf(),
        };
        let started = Instant::now();
        loop {
            // Ours answers, not another that took the port meanwhile.
            if ready(addr) && server.child.try_wait()?.is_none() {
                return Ok(Ok(server));
            }
            if let Some(status) = server.child.try_wait()? {
                return Ok(Err(anyhow::anyhow!(
                    "{name} exited ({status}):\n{}",
                    std::fs::read_to_string(&output).unwrap_or_default()
                )));
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("{name} did not answer within 60 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kill it at once (SIGKILL), as a crash would; return once it is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Already gone (and reaped): its pid may be another process's now.
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id() as i32;
        // SAFETY: kill(2) on the process this value started, not yet reaped.
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

/// Whether an HTTP server at `addr` answers `GET path` with 200.
pub fn http_ok(addr: SocketAddr, path: &str) -> bool {
    let answer = exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    answer.starts_with("HTTP/1.1 200")
}

/// Send `request` on a new connection and read the answer until the server closes it (or
/// 2 s pass); empty when nothing answers.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200))
    else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(request).is_err() {
        return String::new();
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}
