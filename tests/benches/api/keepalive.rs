//! Sequential requests over one keep-alive connection, as a script or a connector sends them:
//! each request's own latency, so that a stall (a response held back by Nagle's algorithm
//! until the client's delayed ACK) shows in the p99 and the maximum that wrk's percentiles
//! over many connections can blur.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// What one sequence measured, in milliseconds.
#[derive(Clone, Debug, Default)]
pub struct Sequence {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Requests over 20 ms.
    pub slow: usize,
    pub errors: usize,
}

/// `count` GETs of `path(i)` on one connection, one after the other.
pub fn run(addr: SocketAddr, count: usize, path: impl Fn(usize) -> String) -> Result<Sequence> {
    requests(addr, count, |i| {
        format!(
            "GET {} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n",
            path(i)
        )
    })
}

/// `count` POSTs of the JSON `body(i)` to `path` on one connection, one after the other.
pub fn posts(
    addr: SocketAddr,
    count: usize,
    path: &str,
    body: impl Fn(usize) -> String,
) -> Result<Sequence> {
    requests(addr, count, |i| {
        let body = body(i);
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Accept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    })
}

/// `count` requests (`request(i)`, whole) on one connection, one after the other.
fn requests(addr: SocketAddr, count: usize, request: impl Fn(usize) -> String) -> Result<Sequence> {
    let stream = TcpStream::connect(addr)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut times = Vec::with_capacity(count);
    let mut errors = 0;
    for i in 0..count {
        let request = request(i);
        let started = Instant::now();
        writer.write_all(request.as_bytes())?;
        let status = read_response(&mut reader)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if status >= 400 {
            errors += 1;
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Ok(Sequence {
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: times[times.len() - 1],
        slow: times.iter().filter(|&&t| t > 20.0).count(),
        errors,
    })
}

/// Read one response (`Content-Length` or chunked body); its status.
fn read_response(reader: &mut impl BufRead) -> Result<u16> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line.split(' ').nth(1).context("no status line")?.parse()?;
    let (mut length, mut chunked) = (0usize, false);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            bail!("connection closed in a response head");
        }
        let header = line.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(v) = header.strip_prefix("content-length:") {
            length = v.trim().parse()?;
        }
        if header.starts_with("transfer-encoding:") && header.contains("chunked") {
            chunked = true;
        }
    }
    if !chunked {
        reader.read_exact(&mut vec![0; length])?;
        return Ok(status);
    }
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)?;
        // The chunk and its CRLF; the last chunk (0) has only the CRLF (no trailers here).
        reader.read_exact(&mut vec![0; size + 2])?;
        if size == 0 {
            return Ok(status);
        }
    }
}
