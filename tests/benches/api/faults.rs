//! `cargo bench -p testhost -- faults`: a fleet losing a part, measured (the end-to-end tests,
//! `tests/tests/e2e/faults.rs`, hold the same faults to the rules: no 500, nothing lost). Two
//! instances of the app, each a process of its own, over one sqld, 16 writers spread over
//! both, under each runtime:
//!
//! - one instance killed (SIGKILL) 1 s into the burst: the survivor's answers, and its
//!   slowest write among those under way at the kill or sent after it;
//! - sqld killed 1 s into the burst and started again on its address 2 s later: every
//!   answer, and how long after the restart each instance took to acknowledge a write again
//!   (the slower instance).
//!
//! Then every acknowledged write is looked up in the server's file.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use testhost::runtime_config::KeyValueStore;
use testhost::sqld::Sqld;

use crate::overload::{self, Outcome, Sent};
use crate::{http, key_value_file, runtimes_with, spin_cli, Host, Process, Runtime};

const WRITERS: usize = 16;
const FAULT_AFTER: Duration = Duration::from_secs(1);
const SQLD_DOWN: Duration = Duration::from_secs(2);

pub fn faults(root: &Path, dir: &Path, report: &mut String) -> Result<()> {
    let sqld = testhost::sqld::find(root).context("no sqld: set SQLD, or put sqld on the PATH")?;
    let manifest = root.join("spin.toml");
    let spin = spin_cli(root, report)?;
    writeln!(
        report,
        "\n**Faults.** Two instances over one sqld (0.24, loopback), {WRITERS} writers posting \
         users spread over both; the fault {} s into the burst. Answers by status; \"slowest\": \
         the survivor's slowest write among those under way at the kill or sent after it; \
         \"recovered\": from sqld's restart to each instance's first acknowledged write \
         sent after it (the slower of the two); \"missing\": acknowledged writes not in the \
         database.\n\n\
         | runtime | fault | seconds | 2xx | 503 | 500 | other | no answer | slowest | recovered | missing |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        FAULT_AFTER.as_secs()
    )?;
    for (name, runtime) in runtimes_with(spin.as_deref()) {
        let tag = if matches!(runtime, Runtime::Spin(_)) {
            "spin"
        } else {
            "host"
        };
        for fault in [Fault::InstanceKilled, Fault::SqldKilled] {
            let base = dir.join(format!("faults-{tag}-{}", fault.tag()));
            let _ = std::fs::remove_dir_all(&base);
            let mut server = Sqld::start(&sqld, &base.join("sqld"))?;
            let database = server.database();
            let start = |side: &str| {
                let side = base.join(side);
                let store = KeyValueStore::File(key_value_file(&side));
                Host::start_on(runtime, &manifest, &database, &store, &side, &[]).map(|(_, h)| h)
            };
            let (mut a, b) = (start("a")?, start("b")?);
            http(a.addr, "GET", "/1.0/users/", None)?;
            let run = format!("f{}{}", fault.tag().len(), std::process::id());
            let seconds = FAULT_AFTER + SQLD_DOWN + Duration::from_secs(2);
            let mut at = Duration::ZERO;
            let writes = overload::burst(&[a.addr, b.addr], WRITERS, seconds, &run, |started| {
                std::thread::sleep(FAULT_AFTER);
                match fault {
                    Fault::InstanceKilled => a.kill(),
                    Fault::SqldKilled => {
                        if let Err(e) = server.crash_and_restart(&sqld, SQLD_DOWN) {
                            eprintln!("sqld did not start again: {e:#}");
                        }
                    }
                }
                at = started.elapsed();
            });
            let at = at.as_secs_f64();
            let seen: Vec<Sent> = match fault {
                Fault::InstanceKilled => writes.into_iter().filter(|w| w.instance == 1).collect(),
                Fault::SqldKilled => writes,
            };
            let outcome = overload::check(&server.data_file(), &run, &seen)?;
            let (slowest, recovered) = match fault {
                Fault::InstanceKilled => (slowest_after(&seen, at), String::from("–")),
                Fault::SqldKilled => (String::from("–"), recovered_after(&seen, at)),
            };
            writeln!(
                report,
                "| {name} | {} | {:.1} | {} | {slowest} | {recovered} | {} |",
                fault.label(),
                seconds.as_secs_f64(),
                statuses(&outcome),
                outcome.missing
            )?;
            drop(b);
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Fault {
    InstanceKilled,
    SqldKilled,
}

impl Fault {
    fn tag(self) -> &'static str {
        match self {
            Fault::InstanceKilled => "instance",
            Fault::SqldKilled => "sqld",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Fault::InstanceKilled => "one instance killed",
            Fault::SqldKilled => "sqld killed, back 2 s later",
        }
    }
}

/// 2xx | 503 | 500 | other | no answer.
fn statuses(o: &Outcome) -> String {
    format!(
        "{} | {} | {} | {} | {}",
        o.acknowledged(),
        o.count(503),
        o.count(500),
        o.other(),
        o.failed
    )
}

/// The slowest write among those still under way at `at` (seconds into the burst) or sent
/// after it.
fn slowest_after(writes: &[Sent], at: f64) -> String {
    let slowest = writes
        .iter()
        .filter(|w| w.sent_s + w.ms / 1000.0 >= at)
        .map(|w| w.ms)
        .fold(0.0, f64::max);
    format!("{slowest:.0} ms")
}

/// From `at` to each instance's first acknowledged write sent after it, answered: the slower
/// instance's, or "never".
fn recovered_after(writes: &[Sent], at: f64) -> String {
    let first = |instance: usize| {
        writes
            .iter()
            .filter(|w| w.instance == instance && w.sent_s >= at)
            .filter(|w| w.status.is_some_and(|s| (200..300).contains(&s)))
            .map(|w| w.sent_s + w.ms / 1000.0 - at)
            .fold(f64::INFINITY, f64::min)
    };
    let slower = first(0).max(first(1));
    if slower.is_finite() {
        format!("{:.0} ms", slower * 1000.0)
    } else {
        "never".into()
    }
}

impl Host {
    /// Kill it at once (SIGKILL), as a crash would; under Spin, `spin up` and its child.
    pub fn kill(&mut self) {
        match &mut self.process {
            Process::TestHost(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Process::Spin(running) => {
                // SAFETY: kill(2) on the process group `spin up` was started in.
                unsafe { libc::kill(-(running.pid() as i32), libc::SIGKILL) };
            }
        }
    }
}
