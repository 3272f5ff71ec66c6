//! Writes with and without a webhook subscriber that is slow to answer: the client's latency
//! must not include the delivery, which runs after the response.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::http;

/// Measured writes per run.
pub const WRITES: usize = 40;
/// Unmeasured writes first.
pub const WARMUP: usize = 5;
/// How long the receiver takes to answer a delivery.
pub const RECEIVER_DELAY: Duration = Duration::from_secs(2);

/// A receiver on loopback that answers 200 after [`RECEIVER_DELAY`], counting deliveries.
pub struct Receiver {
    addr: SocketAddr,
    received: Arc<AtomicUsize>,
}

impl Receiver {
    pub fn start() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let received = Arc::new(AtomicUsize::new(0));
        let counter = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream);
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_ok() {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    std::thread::sleep(RECEIVER_DELAY);
                    let _ = reader.into_inner().write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                });
            }
        });
        Ok(Self { addr, received })
    }

    /// The `allowed_outbound_hosts` entry for it.
    pub fn allowed(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many deliveries arrived, once `n` have or 30 s have passed.
    pub fn wait_for(&self, n: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.received.load(Ordering::SeqCst) < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.received.load(Ordering::SeqCst)
    }
}

/// Subscribe the receiver to every event.
pub fn subscribe(addr: SocketAddr, receiver: &Receiver) -> Result<()> {
    let body = format!(
        r#"{{"url": "{}/hook", "events": ["*"], "secret": "bench"}}"#,
        receiver.allowed()
    );
    match http(addr, "POST", "/1.0/webhooks/", Some(&body))? {
        (201, _) => Ok(()),
        (status, body) => bail!("subscribe: {status} {}", String::from_utf8_lossy(&body)),
    }
}

/// p50 and p99, in ms, of [`WRITES`] user creations after [`WARMUP`] unmeasured ones.
pub fn writes(addr: SocketAddr) -> Result<(f64, f64)> {
    let mut times = Vec::new();
    for i in 0..WARMUP + WRITES {
        let started = Instant::now();
        let (status, _) = http(addr, "POST", "/1.0/users/", Some(r#"{"firstname": "W"}"#))?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        if status != 201 {
            bail!("write: {status}");
        }
        if i >= WARMUP {
            times.push(ms);
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok((at(0.5), at(0.99)))
}
