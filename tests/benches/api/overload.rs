//! Overload: 64 clients writing at once for 10 s, with the machine's CPUs kept busy by other
//! processes (one `sh` spinning per CPU). A write that cannot get the database's write lock in
//! time must be answered 503, never 500, and change nothing; every acknowledged write must be
//! in the database afterwards.
//!
//! Each writer holds one keep-alive connection and posts users one after the other, each with
//! a lastname of its own; the database is then read back directly.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

pub const WRITERS: usize = 64;
pub const SECONDS: u64 = 10;

/// What one overload run saw.
#[derive(Debug, Default)]
pub struct Outcome {
    pub seconds: f64,
    /// Responses by status.
    pub statuses: std::collections::BTreeMap<u16, usize>,
    /// Requests that got no response (connection reset, timeout).
    pub failed: usize,
    /// Every answered request's latency, in ms, sorted.
    pub latencies_ms: Vec<f64>,
    /// Acknowledged (2xx) writes not found in the database afterwards.
    pub missing: usize,
    /// Refused (503) writes found in the database all the same.
    pub refused_but_present: usize,
    /// The serving process's CPU time over the run, in seconds.
    pub server_cpu_s: f64,
}

impl Outcome {
    /// Table cells: writes/s, p50, p99, max, 2xx, 503, 500, other, no answer, missing,
    /// refused but present.
    pub fn cells(&self) -> String {
        format!(
            "{:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} | {} | {} | {} | {} | {}",
            self.acknowledged() as f64 / self.seconds,
            self.percentile_ms(0.50),
            self.percentile_ms(0.99),
            self.percentile_ms(1.0),
            self.acknowledged(),
            self.count(503),
            self.count(500),
            self.other(),
            self.failed,
            self.missing,
            self.refused_but_present
        )
    }

    pub fn count(&self, status: u16) -> usize {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    pub fn acknowledged(&self) -> usize {
        self.statuses
            .iter()
            .filter(|(s, _)| (200..300).contains(*s))
            .map(|(_, n)| n)
            .sum()
    }

    pub fn percentile_ms(&self, q: f64) -> f64 {
        let t = &self.latencies_ms;
        if t.is_empty() {
            return 0.0;
        }
        t[((t.len() as f64 * q) as usize).min(t.len() - 1)]
    }

    /// Statuses other than 2xx, 500 and 503.
    pub fn other(&self) -> usize {
        self.statuses
            .iter()
            .filter(|(s, _)| !(200..300).contains(*s) && **s != 500 && **s != 503)
            .map(|(_, n)| n)
            .sum()
    }
}

/// One spinning `sh` per CPU, stopped when dropped.
pub struct Burners(Vec<Child>);

impl Burners {
    pub fn start() -> Result<Self> {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let children = (0..cpus)
            .map(|_| {
                Command::new("sh")
                    .args(["-c", "while :; do :; done"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .context("start a CPU burner")
            })
            .collect::<Result<_>>()?;
        Ok(Self(children))
    }

    pub fn count(&self) -> usize {
        self.0.len()
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One write of a burst.
pub struct Sent {
    /// Which of the addresses it went to.
    pub instance: usize,
    pub lastname: String,
    /// `None`: no response (connection refused or reset, timeout).
    pub status: Option<u16>,
    /// When it was sent, in seconds from the start of the burst.
    pub sent_s: f64,
    pub ms: f64,
    /// The id a 2xx gave.
    pub id: Option<i64>,
}

/// Run [`WRITERS`] writers for [`SECONDS`], writer `w` against `addrs[w % addrs.len()]` (one
/// instance, or several over one database), then check `db`. `server_pids`: the processes
/// whose CPU time to report, summed.
pub fn run(addrs: &[SocketAddr], db: &Path, server_pids: &[u32], run: &str) -> Result<Outcome> {
    let cpu = || -> Result<f64> { server_pids.iter().map(|&pid| cpu_seconds(pid)).sum() };
    let cpu_before = cpu()?;
    let started = Instant::now();
    let writes = burst(addrs, WRITERS, Duration::from_secs(SECONDS), run, |_| {});
    let seconds = started.elapsed().as_secs_f64();
    let mut outcome = check(db, run, &writes)?;
    outcome.seconds = seconds;
    outcome.server_cpu_s = cpu()? - cpu_before;
    Ok(outcome)
}

/// `writers` writers for `duration`, writer `w` against `addrs[w % addrs.len()]`, each
/// posting users (firstname `run`) one after the other; `fault` runs meanwhile on this
/// thread, given the burst's start. Every write, in no particular order.
pub fn burst(
    addrs: &[SocketAddr],
    writers: usize,
    duration: Duration,
    run: &str,
    fault: impl FnOnce(Instant),
) -> Vec<Sent> {
    let started = Instant::now();
    let deadline = started + duration;
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let prefix = format!("{run}-{w}");
            let (instance, addr) = (w % addrs.len(), addrs[w % addrs.len()]);
            std::thread::spawn(move || writer(addr, instance, started, deadline, &prefix))
        })
        .collect();
    fault(started);
    threads
        .into_iter()
        .flat_map(|t| t.join().expect("a writer panicked"))
        .collect()
}

/// The writes' outcome, each acknowledged one looked up in `db` (the SQLite file; a libSQL
/// server's own file).
pub fn check(db: &Path, run: &str, writes: &[Sent]) -> Result<Outcome> {
    let conn = rusqlite::Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    let mut stmt = conn.prepare("SELECT lastname, id FROM users WHERE firstname = ?1")?;
    let present: HashMap<String, i64> = stmt
        .query_map([run], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;

    let mut outcome = Outcome::default();
    for w in writes {
        let Some(status) = w.status else {
            outcome.failed += 1;
            continue;
        };
        *outcome.statuses.entry(status).or_default() += 1;
        outcome.latencies_ms.push(w.ms);
        let found = present.get(&w.lastname);
        if (200..300).contains(&status) && (found.is_none() || found != w.id.as_ref()) {
            outcome.missing += 1;
        }
        if status == 503 && found.is_some() {
            outcome.refused_but_present += 1;
        }
    }
    outcome.latencies_ms.sort_by(f64::total_cmp);
    Ok(outcome)
}

/// One writer: POST a user, wait for the answer, again, until the deadline. After a request
/// that got no answer it connects again, 10 ms later (an instance killed refuses at once).
fn writer(
    addr: SocketAddr,
    instance: usize,
    started: Instant,
    deadline: Instant,
    prefix: &str,
) -> Vec<Sent> {
    let firstname = prefix.split('-').next().unwrap_or("").to_string();
    let mut seen = Vec::new();
    let mut connection: Option<(BufReader<TcpStream>, TcpStream)> = None;
    let mut n = 0;
    while Instant::now() < deadline {
        n += 1;
        let lastname = format!("{prefix}-{n}");
        let body = format!("{{\"firstname\": \"{firstname}\", \"lastname\": \"{lastname}\"}}");
        let request = format!(
            "POST /1.0/users/ HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Accept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let sent = Instant::now();
        let answer = (|| -> Result<(u16, Vec<u8>)> {
            if connection.is_none() {
                let stream = TcpStream::connect(addr)?;
                stream.set_read_timeout(Some(Duration::from_secs(60)))?;
                connection = Some((BufReader::new(stream.try_clone()?), stream));
            }
            let (reader, stream) = connection.as_mut().expect("connected");
            stream.write_all(request.as_bytes())?;
            read_response(reader)
        })();
        let ms = sent.elapsed().as_secs_f64() * 1000.0;
        let sent_s = sent.duration_since(started).as_secs_f64();
        let (status, id) = match answer {
            Ok((status, body)) => {
                let id = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["id"].as_i64());
                (Some(status), id)
            }
            Err(_) => {
                connection = None;
                std::thread::sleep(Duration::from_millis(10));
                (None, None)
            }
        };
        seen.push(Sent {
            instance,
            lastname,
            status,
            sent_s,
            ms,
            id,
        });
    }
    seen
}

/// One response with a `Content-Length` body: its status and body.
fn read_response(reader: &mut impl BufRead) -> Result<(u16, Vec<u8>)> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line.split(' ').nth(1).context("no status line")?.parse()?;
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            anyhow::bail!("connection closed in a response head");
        }
        let header = line.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(v) = header.strip_prefix("content-length:") {
            length = v.trim().parse()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((status, body))
}

/// A process's CPU time so far (user and system), in seconds.
fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command's closing parenthesis; utime and stime are the 14th and
    // 15th fields of the line.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("no command in /proc/PID/stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    // USER_HZ is 100 on Linux.
    Ok(ticks / 100.0)
}
