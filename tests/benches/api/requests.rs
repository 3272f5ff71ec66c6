//! The requests section: the components' sizes and starts, the API's requests over a
//! full-scale database at 1 and 16 connections beside their SQL floors (connections new and
//! reused), and the reads under each runtime beside the floor component.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::seed::{self, Scale};
use crate::{
    bench_token, floors, keepalive, load, run_all, run_endpoint, runtime_row, runtimes_with,
    spin_cli, user_path, Endpoint, Host, Manifest, Runtime, Targets, SECONDS, TEST_HOST,
};

/// The components' sizes, their cold and warm starts, and the API's requests over a full-scale
/// database at 1 and 16 connections beside their SQL floors, with connections new and reused;
/// then the reads under each runtime beside the floor component.
pub fn requests(root: &Path, dir: &Path, report: &mut String) -> Result<()> {
    load::ensure_wrk()?;
    let manifest_path = root.join("spin.toml");
    let manifest = Manifest::load(&manifest_path)?;

    // The components.
    writeln!(report, "| component | .wasm size |\n|---|---:|")?;
    for (name, component) in &manifest.component {
        let size = std::fs::metadata(manifest.source(component))?.len();
        writeln!(report, "| {name} | {} KB |", size / 1024)?;
    }

    // Full scale: a fresh database migrated by the components (cold start: no compiled-code
    // cache), then seeded, then served again (warm start).
    let large = dir.join("large.db");
    let _ = std::fs::remove_dir_all(root.join("target").join("testhost-cache"));
    let (cold_ms, host) = Host::start(TEST_HOST, &manifest_path, &large, true)?;
    drop(host);
    seed::seed(&large, Scale::FULL)?;
    let (warm_ms, host) = Host::start(TEST_HOST, &manifest_path, &large, false)?;
    drop(host);
    writeln!(
        report,
        "\nFrom `testhost up` to the first answered request: {cold_ms:.0} ms cold (compiling the \
         components, migrating a new database), {warm_ms:.0} ms warm (compiled code cached)."
    )?;

    let targets = Targets::find(&large)?;
    let endpoints = targets.endpoints();
    let large_floors = floors(&manifest_path, &large, &endpoints)?;
    writeln!(
        report,
        "\n{} users, {} agents, {} queues, {} campaigns, {} recordings; wrk over loopback, {SECONDS} s \
         a run, after a 1 s warm-up; SQL floor: the request's own statements replayed on rusqlite \
         over the same database, one open connection (median).",
        Scale::FULL.users, Scale::FULL.agents, Scale::FULL.queues, Scale::FULL.campaigns, Scale::FULL.recordings
    )?;
    let mut large_rows = Vec::new();
    for (mode, title) in [
        (
            "new",
            "a new SQLite connection for every request, as Spin does",
        ),
        (
            "reuse",
            "SQLite connections reused across requests (`--sqlite-connections reuse`)",
        ),
    ] {
        let (_, host) = Host::start(Runtime::TestHost(mode), &manifest_path, &large, false)?;
        let rows = run_all(&host, dir, &endpoints)?;
        let peak_mb = host.peak_rss_mb()?;
        drop(host);
        writeln!(
            report,
            "\n**Host: {title}.** Peak memory (VmHWM) over these runs: {peak_mb:.0} MB.\n"
        )?;
        writeln!(
            report,
            "| request | req/s (1 conn) | p50 | p99 | req/s (16 conns) | p50 | p99 | SQL floor p50 | HTTP ÷ floor (p50, 1 conn) | errors |"
        )?;
        writeln!(report, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        for ((e, (one, sixteen)), floor) in endpoints.iter().zip(&rows).zip(&large_floors) {
            writeln!(
                report,
                "| `{}` | {} | {floor:.3} ms | {:.1}× | {} |",
                e.label,
                load::cells(one, sixteen),
                one.p50_ms / floor,
                one.errors + sixteen.errors
            )?;
        }
        large_rows.push((mode, rows));
    }

    // Scale: the same two reads over 10,000 recordings.
    let small = dir.join("small.db");
    let (_, host) = Host::start(TEST_HOST, &manifest_path, &small, true)?;
    drop(host);
    seed::seed(&small, Scale::FULL.with_recordings(10_000))?;
    let small_targets = Targets::find(&small)?;
    let small_endpoints = small_targets.endpoints();
    let small_floors = floors(&manifest_path, &small, &small_endpoints)?;
    writeln!(
        report,
        "\n| at scale: p50 at 1 conn | host | 10,000 recordings | 1,000,000 | ratio | SQL floor, 10,000 | 1,000,000 |\n|---|---|---:|---:|---:|---:|---:|"
    )?;
    for (mode, large_run) in &large_rows {
        let (_, host) = Host::start(Runtime::TestHost(mode), &manifest_path, &small, false)?;
        for (i, e) in small_endpoints.iter().enumerate().filter(|(_, e)| e.scale) {
            let script = e.script(dir)?;
            load::wrk(&host.base(), &script, 1, 1, "warmup")?;
            let small_run = load::wrk(&host.base(), &script, 1, SECONDS, "scale")?;
            let large_p50 = large_run[i].0.p50_ms;
            writeln!(
                report,
                "| `{}` | {mode} | {:.3} ms | {:.3} ms | {:.2}× | {:.3} ms | {:.3} ms |",
                e.label.split('?').next().unwrap_or(&e.label),
                small_run.p50_ms,
                large_p50,
                large_p50 / small_run.p50_ms,
                small_floors[i],
                large_floors[i]
            )?;
        }
        drop(host);
    }

    runtimes(root, dir, &large, &endpoints, report)
}

/// The reads under each runtime, beside the floor component (`tests/floor`) served by the same
/// runtime over the same database: wrk at 1 and 16 connections, and sequential keep-alive
/// GETs of one user (where a stall shows).
fn runtimes(
    root: &Path,
    dir: &Path,
    db: &Path,
    endpoints: &[Endpoint],
    report: &mut String,
) -> Result<()> {
    let manifest = root.join("spin.toml");
    let floor_manifest = root.join("tests").join("floor").join("spin.toml");
    Manifest::load(&floor_manifest)?.build()?;
    let spin = spin_cli(root, report)?;
    let runtimes = runtimes_with(spin.as_deref());
    let reads: Vec<&Endpoint> = endpoints.iter().filter(|e| e.method == "GET").collect();
    let by_id = reads[0];
    let user = user_path;
    // The floor again, reading one Spin variable first, as our components (and any component
    // configured by variables) do on every request.
    let with_variable = Endpoint::get(
        "GET /1.0/users/<id>?variable",
        "\"/1.0/users/\" .. math.random(1, 10000) .. \"?variable\"",
        "/1.0/users/5000?variable",
    );
    writeln!(
        report,
        "\n**Reads under each runtime, beside a minimal component.** The floor component \
         (`tests/floor`: the SDK's `Request`, one `SELECT` by id, JSON by hand) answers \
         `GET /1.0/users/<id>` over the same database under the same runtime, a new SQLite \
         connection per request in both; with `?variable` it first reads one Spin variable, as \
         ours does (`auth_trust_loopback`) on every request. Ratios: ours ÷ the floor's (p50 \
         at 1 connection; the floor's req/s ÷ ours at 16).\n"
    )?;
    writeln!(
        report,
        "| runtime | request | req/s (1 conn) | p50 | p99 | req/s (16 conns) | p50 | p99 | p50 ÷ floor | req/s 16: floor ÷ ours | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    let mut sequences = Vec::new();
    for (name, runtime) in runtimes {
        let (_, floor_host) = Host::start(runtime, &floor_manifest, db, false)?;
        let floor = run_endpoint(&floor_host, dir, by_id)?;
        let variable = run_endpoint(&floor_host, dir, &with_variable)?;
        keepalive::run(floor_host.addr, 50, user)?;
        let floor_sequence = keepalive::run(floor_host.addr, 400, user)?;
        drop(floor_host);
        let label = format!("floor component: `{}`", by_id.label);
        runtime_row(report, name, &label, &floor, &floor)?;
        let label = format!(
            "floor component + one variable read: `{}`",
            with_variable.label
        );
        runtime_row(report, name, &label, &variable, &floor)?;
        let (_, host) = Host::start(runtime, &manifest, db, false)?;
        for e in &reads {
            let label = format!("`{}`", e.label);
            runtime_row(report, name, &label, &run_endpoint(&host, dir, e)?, &floor)?;
        }
        // The same read with an API token (checked even from loopback): one more lookup.
        let with_token = Endpoint {
            label: format!("{} (Bearer)", by_id.label),
            bearer: Some(bench_token(&host)?),
            ..Endpoint::get(&by_id.label, &by_id.wrk_path, &by_id.path)
        };
        let label = format!("`{}` with an API token", by_id.label);
        runtime_row(
            report,
            name,
            &label,
            &run_endpoint(&host, dir, &with_token)?,
            &floor,
        )?;
        keepalive::run(host.addr, 50, user)?;
        let sequence = keepalive::run(host.addr, 400, user)?;
        sequences.push((name, floor_sequence, sequence, host.peak_rss_mb()?));
    }
    writeln!(
        report,
        "\n400 sequential `GET /1.0/users/<id>` on one keep-alive connection (after 50 unmeasured), \
         each request timed by the client:\n\n\
         | runtime | component | p50 | p99 | max | over 20 ms | p99 ÷ floor | errors | server peak memory |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for (name, floor, ours, peak_mb) in sequences {
        for (component, s, memory) in [
            ("floor", &floor, String::new()),
            ("users", &ours, format!("{peak_mb:.0} MB")),
        ] {
            writeln!(
                report,
                "| {name} | {component} | {:.3} ms | {:.3} ms | {:.3} ms | {} | {:.2}× | {} | {memory} |",
                s.p50_ms,
                s.p99_ms,
                s.max_ms,
                s.slow,
                s.p99_ms / floor.p99_ms,
                s.errors
            )?;
        }
    }
    Ok(())
}
