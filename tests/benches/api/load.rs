//! Load runs with `wrk` (Debian's package, installed when missing): requests per second and
//! latency percentiles.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// What one wrk run measured.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub errors: u64,
}

impl Measured {
    /// Runs made at once against several servers, as one: requests and req/s summed,
    /// latencies the slowest run's.
    pub fn together(runs: &[Measured]) -> Measured {
        let max = |f: fn(&Measured) -> f64| runs.iter().map(f).fold(0.0, f64::max);
        Measured {
            rps: runs.iter().map(|m| m.rps).sum(),
            p50_ms: max(|m| m.p50_ms),
            p99_ms: max(|m| m.p99_ms),
            requests: runs.iter().map(|m| m.requests).sum(),
            errors: runs.iter().map(|m| m.errors).sum(),
        }
    }
}

/// Table cells for a run at 1 and one at 16 connections: req/s, p50, p99 of each.
pub fn cells(one: &Measured, sixteen: &Measured) -> String {
    format!(
        "{:.0} | {:.3} ms | {:.3} ms | {:.0} | {:.3} ms | {:.3} ms",
        one.rps, one.p50_ms, one.p99_ms, sixteen.rps, sixteen.p50_ms, sixteen.p99_ms
    )
}

pub fn ensure_wrk() -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    eprintln!("installing wrk (apt-get)");
    let ok = Command::new("sh")
        .arg("-c")
        .arg("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk")
        .status()?
        .success();
    if !ok {
        bail!("could not install wrk");
    }
    Ok(())
}

/// A request script for wrk: `method`, a path (Lua expression), and a body (Lua expression or
/// nil). `counter` and `tid` (the thread's number) make bodies unique; `run` comes from the
/// command line, so that successive runs do not collide.
pub fn script(
    dir: &Path,
    name: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    bearer: Option<&str>,
) -> Result<std::path::PathBuf> {
    let file = dir.join(format!("{name}.lua"));
    let body = body.unwrap_or("nil");
    let authorization = bearer
        .map(|secret| format!("wrk.headers[\"Authorization\"] = \"Bearer {secret}\""))
        .unwrap_or_default();
    let lua = format!(
        r#"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
counter = 0
run = "0"
function init(args)
  run = args[1] or "0"
  math.randomseed(tid or 1)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  {authorization}
end
function request()
  counter = counter + 1
  return wrk.format("{method}", {path}, nil, {body})
end
"#
    );
    std::fs::write(&file, lua)?;
    Ok(file)
}

/// Run wrk for `seconds` with `connections` (and as many threads, up to 2).
pub fn wrk(
    base: &str,
    script: &Path,
    connections: u32,
    seconds: u32,
    run_id: &str,
) -> Result<Measured> {
    let threads = connections.min(2);
    // Unique across runs, so that the cids a run posts are new.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let run_id = format!("{run_id}{nanos}");
    let out = Command::new("wrk")
        .args([
            "--latency",
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
        ])
        .args(["-d", &format!("{seconds}s"), "-s"])
        .arg(script)
        .arg(base)
        .args(["--", &run_id])
        .output()
        .context("run wrk")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    }
    parse(&text).with_context(|| format!("cannot read wrk's output:\n{text}"))
}

fn parse(text: &str) -> Option<Measured> {
    let mut m = Measured::default();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => m.p50_ms = millis(v)?,
            ["99%", v] => m.p99_ms = millis(v)?,
            ["Requests/sec:", v] => m.rps = v.parse().ok()?,
            [n, "requests", "in", ..] => m.requests = n.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", n] => m.errors += n.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                m.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>()
            }
            _ => {}
        }
    }
    (m.rps > 0.0).then_some(m)
}

fn millis(v: &str) -> Option<f64> {
    let (number, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}
