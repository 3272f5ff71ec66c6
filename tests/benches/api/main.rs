//! `cargo bench -p testhost`: the API's throughput, latency and scale through the test host,
//! each figure beside the bare-SQLite floor of the same statements; then its reads under the
//! test host and under the real Spin CLI (when there is one: `$SPIN`, `spin` on the `PATH`, or
//! `../shared/bin/spin`), each beside a minimal component (`tests/floor`) under the same
//! runtime. Not a test: nothing here asserts a time.
//!
//! The run is made of sections (`SECTIONS`), taken in turn; `cargo bench -p testhost -- <name>`
//! (or `BENCH_ONLY=<name>`) runs one alone. Each section's report goes to
//! `target/bench/<name>.md` and into README.md between its `<!-- bench:<name> -->` markers
//! (`readme.rs`); the whole run's, to `target/bench/results.md`. The sections:
//!
//! - `requests`: sizes, starts, the requests at 1 and 16 connections over 1,000,000
//!   recordings, each runtime beside the floor component (about 8 minutes);
//! - `schema` (`schema.rs`): what the schema SQLite parses for every request costs, with the
//!   lists' search index as it is, removed, or thinner (about 4 minutes);
//! - `lists` (`people.rs`): 100,000 users searched, ordered, exported, imported (6 minutes);
//! - `overload` (`overload.rs`): 64 writers for 10 s, quiet and with the CPUs kept busy;
//! - `audio` (`audio.rs`): a 50 MiB recording audio up and down;
//! - `webhooks` (`webhooks.rs`): writes with and without a subscriber that takes 2 s;
//! - `faults` (`faults.rs`): one of two instances killed, then sqld killed and started again;
//! - `round-trips` (`round_trips.rs`): what each request shape sends a libSQL server;
//! - `scale` (`scale.rs`): broad searches and deep pages over 1,000,000 and 5,000,000
//!   recordings, most of it seeding (`SCALE_CAMPAIGNS=5` runs the 1,000,000 only);
//! - `scale-out`: two instances on one libSQL server.
//!
//! `cargo bench -p testhost -- seed PATH [RECORDINGS]` only seeds a database (whose schema the
//! components have created).

mod audio;
mod faults;
mod floor;
mod keepalive;
mod load;
mod overload;
mod people;
mod readme;
mod requests;
mod round_trips;
mod scale;
mod schema;
mod seed;
mod webhooks;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use seed::Scale;
use testhost::redis_server::RedisServer;
use testhost::runtime_config::{Database, KeyValueStore};
use testhost::spin_up::{AppSource, Running, SpinUp};
use testhost::sqld::Sqld;
use testhost::{App, Manifest};

const SECONDS: u32 = 5;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.first().map(String::as_str) == Some("seed") {
        let db = PathBuf::from(args.get(1).context("seed PATH [RECORDINGS]")?);
        let recordings = args
            .get(2)
            .map(|r| r.parse())
            .transpose()?
            .unwrap_or(Scale::FULL.recordings);
        return seed::seed(&db, Scale::FULL.with_recordings(recordings));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    Manifest::load(&root.join("spin.toml"))?.build()?;
    let dir = root.join("target").join("bench");
    std::fs::create_dir_all(&dir)?;
    let only = args
        .first()
        .cloned()
        .or_else(|| std::env::var("BENCH_ONLY").ok());
    let chosen: Vec<&(&str, Section)> = match only.as_deref() {
        None => SECTIONS.iter().collect(),
        Some(name) => match SECTIONS.iter().find(|(n, _)| *n == name) {
            Some(section) => vec![section],
            None => bail!(
                "no section {name}: one of {}",
                SECTIONS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    };
    let mut results = String::new();
    for (name, run) in chosen {
        let mut report = String::new();
        run(&root, &dir, &mut report)?;
        println!("{report}");
        std::fs::write(dir.join(format!("{name}.md")), &report)?;
        readme::write_section(&root.join("README.md"), name, &report)?;
        writeln!(results, "\n## {name}\n\n{}", report.trim())?;
    }
    if only.is_none() {
        std::fs::write(dir.join("results.md"), &results)?;
    }
    Ok(())
}

/// A section of the run: what it measures goes into its report.
type Section = fn(&Path, &Path, &mut String) -> Result<()>;

/// The run's sections, in the order the whole run takes them. Each is also run alone by its
/// name (`cargo bench -p testhost -- <name>`), and its report goes to `target/bench/<name>.md`
/// and into README.md between its `<!-- bench:<name> -->` markers.
const SECTIONS: &[(&str, Section)] = &[
    ("requests", requests::requests),
    ("schema", schema::schema),
    ("lists", lists),
    ("overload", overload),
    ("audio", audio),
    ("webhooks", webhooks),
    ("faults", faults::faults),
    ("round-trips", round_trips::round_trips),
    ("scale", recordings_at_scale),
    ("scale-out", scale_out),
];

/// Lists searched and ordered over 100,000 users (issue 26: each within 3× the floor
/// component under Spin, first page), under each runtime, beside the floor component reading
/// one user from the same database.
fn lists(root: &Path, dir: &Path, report: &mut String) -> Result<()> {
    load::ensure_wrk()?;
    let manifest = root.join("spin.toml");
    let floor_manifest = root.join("tests").join("floor").join("spin.toml");
    Manifest::load(&floor_manifest)?.build()?;
    let db = dir.join("people.db");
    let (_, host) = Host::start(TEST_HOST, &manifest, &db, true)?;
    drop(host);
    people::seed(&db)?;
    let rare = people::RARE.to_lowercase().replace('é', "e");
    let page = "_page=1&_pagesize=20";
    let paths = [
        format!("/1.0/users/?{page}"),
        format!("/1.0/users/?search={rare}&{page}"),
        format!("/1.0/users/?search=mar&{page}"),
        format!("/1.0/users/?search=dupont%20marie&{page}"),
        format!("/1.0/users/?order=lastname&{page}"),
        format!("/1.0/users/?order=firstname&direction=desc&{page}"),
        "/1.0/users/?order=mobilephonenumber&_page=2500&_pagesize=20".to_string(),
        format!("/1.0/users/?lastname=Martin&{page}"),
    ];
    let endpoints: Vec<Endpoint> = paths.iter().map(|p| Endpoint::fixed(p, false)).collect();
    let sql_floors = floors(&manifest, &db, &endpoints)?;
    let floor_read = Endpoint::get(
        "GET /1.0/users/<id>",
        "\"/1.0/users/\" .. math.random(1, 100000)",
        "/1.0/users/5000",
    );
    writeln!(
        report,
        "\n**Lists at {} users** (`tests/benches/api/people.rs`: French names, accents \
         included; `{}` five times; `mar` in about a third of them). p50 at 1 connection; ratio: \
         ours ÷ the floor component reading one user by id, same runtime, same database. SQL \
         floor: the request's own statements replayed on rusqlite (median).\n\n\
         | runtime | request | total | p50 | p99 | ÷ floor | SQL floor p50 | errors |\n\
         |---|---|---:|---:|---:|---:|---:|---:|",
        people::USERS,
        people::RARE
    )?;
    let spin = spin_cli(root, report)?;
    for (name, runtime) in runtimes_with(spin.as_deref()) {
        let (_, floor_host) = Host::start(runtime, &floor_manifest, &db, false)?;
        let (floor, _) = run_endpoint(&floor_host, dir, &floor_read)?;
        drop(floor_host);
        writeln!(
            report,
            "| {name} | floor component: `GET /1.0/users/<id>` | | {:.3} ms | {:.3} ms | 1.00× | | {} |",
            floor.p50_ms, floor.p99_ms, floor.errors
        )?;
        let (_, host) = Host::start(runtime, &manifest, &db, false)?;
        for (e, sql_floor) in endpoints.iter().zip(&sql_floors) {
            let (status, body) = http(host.addr, "GET", &e.path, None)?;
            if status != 200 {
                bail!("{}: {status}", e.path);
            }
            let total = serde_json::from_slice::<serde_json::Value>(&body)?["total"].clone();
            let script = e.script(dir)?;
            load::wrk(&host.base(), &script, 1, 1, "warmup")?;
            let one = load::wrk(&host.base(), &script, 1, SECONDS, "c1")?;
            writeln!(
                report,
                "| {name} | `{}` | {total} | {:.3} ms | {:.3} ms | {:.2}× | {sql_floor:.3} ms | {} |",
                e.label,
                one.p50_ms,
                one.p99_ms,
                one.p50_ms / floor.p50_ms,
                one.errors
            )?;
        }
    }
    transfers(root, dir, spin.as_deref(), report)
}

/// Users in and out as CSV (issue 26): a 10,000-row import, then the export of every user, on
/// a local file and on sqld, under Spin (the test host when there is no Spin CLI); three of
/// each, one after another into the same database, each timed whole by the client.
fn transfers(root: &Path, dir: &Path, spin: Option<&Path>, report: &mut String) -> Result<()> {
    let manifest = root.join("spin.toml");
    let (name, runtime) = runtimes_with(spin).pop().context("no runtime")?;
    writeln!(
        report,
        "\n**Users in and out as CSV** ({name}): `POST /1.0/users/import` of 10,000 rows (half \
         with a line, a third with a voicemail) into the users already there, then `GET \
         /1.0/users/export` of them all; three rounds, times of each request whole, by the \
         client.\n\n| database | round | users before | import 10,000 rows | export | export bytes |\n\
         |---|---:|---:|---:|---:|---:|"
    )?;
    let file = dir.join("transfers.db");
    let (_, host) = Host::start(runtime, &manifest, &file, true)?;
    transfer_rounds(&host, "file", report)?;
    drop(host);
    let Some(sqld) = testhost::sqld::find(root) else {
        return Ok(writeln!(report, "\n(No sqld found: no libSQL rows.)")?);
    };
    let sqld_dir = dir.join("transfers.sqld");
    let _ = std::fs::remove_dir_all(&sqld_dir);
    let server = Sqld::start(&sqld, &sqld_dir)?;
    let base = sqld_dir.join("a");
    let store = KeyValueStore::File(key_value_file(&base));
    let (_, host) = Host::start_on(runtime, &manifest, &server.database(), &store, &base, &[])?;
    transfer_rounds(&host, "sqld", report)?;
    drop(host);
    drop(server);
    Ok(())
}

fn transfer_rounds(host: &Host, database: &str, report: &mut String) -> Result<()> {
    for round in 0..3 {
        let csv = people::csv(10_000, 1_000_000 * (round + 1));
        let started = Instant::now();
        let (status, body) = http_with(
            host.addr,
            "POST",
            "/1.0/users/import",
            "text/csv",
            csv.as_bytes(),
        )?;
        let import_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status != 201 {
            bail!("import: {status} {}", String::from_utf8_lossy(&body));
        }
        let started = Instant::now();
        let (status, body) = http(host.addr, "GET", "/1.0/users/export", None)?;
        let export_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status != 200 {
            bail!("export: {status}");
        }
        writeln!(
            report,
            "| {database} | {} | {} | {import_ms:.0} ms | {export_ms:.0} ms | {} |",
            round + 1,
            10_000 * round,
            body.len()
        )?;
    }
    Ok(())
}

/// A 50 MiB recording audio up and down under each runtime, over each key-value store (an
/// SQLite file; Redis, when a redis-server is found), beside each store's floor.
fn audio(root: &Path, dir: &Path, report: &mut String) -> Result<()> {
    let manifest = root.join("spin.toml");
    let spin = spin_cli(root, report)?;
    let redis = match testhost::redis_server::find(root) {
        Some(binary) => Some(RedisServer::start(&binary, &dir.join("audio-redis"))?),
        None => {
            writeln!(report, "\nNo redis-server: the audio runs over files only.")?;
            None
        }
    };
    let mib = audio::BYTES as f64 / f64::from(1 << 20);
    writeln!(
        report,
        "\n**Recording audio.** A {mib:.0} MiB audio uploaded (`PUT .../audio`, the first a \
         creation, the others replacements) and downloaded whole (`GET .../audio`), {} times \
         each, one at a time, over a fresh database and key-value store (Spin's SQLite file, or \
         a Redis server on loopback); medians. Floors: the same 1 MiB chunks written and read \
         straight into the store (rusqlite into a key-value file of Spin's schema; the `redis` \
         crate, one `SET` or `GET` a chunk). Peak memory: the serving process's VmHWM after \
         the runs.\n",
        audio::TIMES
    )?;
    writeln!(
        report,
        "| runtime | store | upload | MiB/s | download | MiB/s | upload ÷ floor | download ÷ floor | server peak memory |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    let mut stores = vec![("file", None)];
    if let Some(redis) = &redis {
        stores.push(("Redis", Some(redis.url())));
    }
    let mut floors = Vec::new();
    for (store, url) in &stores {
        let (up, down) = match url {
            None => audio::sqlite_floor(&dir.join("audio-floor.kv.db"))?,
            Some(url) => audio::redis_floor(url)?,
        };
        writeln!(
            report,
            "| floor | {store} | {:.0} ms | {:.0} | {:.0} ms | {:.0} | | | |",
            up * 1e3,
            mib / up,
            down * 1e3,
            mib / down
        )?;
        floors.push((up, down));
    }
    for (name, runtime) in runtimes_with(spin.as_deref()) {
        for ((store, url), (floor_up, floor_down)) in stores.iter().zip(&floors) {
            let base = dir.join(format!(
                "audio-{}-{store}",
                if matches!(runtime, Runtime::Spin(_)) {
                    "spin"
                } else {
                    "host"
                }
            ));
            let db = base.with_extension("db");
            remove_database(&db);
            let key_value = match url {
                None => {
                    let file = key_value_file(&db);
                    let _ = std::fs::remove_file(&file);
                    KeyValueStore::File(file)
                }
                Some(url) => KeyValueStore::Redis { url: url.clone() },
            };
            let database = Database::File(db.clone());
            let (_, host) = Host::start_on(runtime, &manifest, &database, &key_value, &base, &[])?;
            let (up, down) = audio::through(host.addr)?;
            let peak_mb = host.peak_rss_mb()?;
            drop(host);
            writeln!(
                report,
                "| {name} | {store} | {:.0} ms | {:.0} | {:.0} ms | {:.0} | {:.1}× | {:.1}× | {peak_mb:.0} MB |",
                up * 1e3,
                mib / up,
                down * 1e3,
                mib / down,
                up / floor_up,
                down / floor_down
            )?;
        }
    }
    Ok(())
}

/// A write's latency with no subscription, then with one whose receiver takes
/// [`webhooks::RECEIVER_DELAY`] to answer, under each runtime.
fn webhooks(root: &Path, dir: &Path, report: &mut String) -> Result<()> {
    let manifest = root.join("spin.toml");
    let spin = spin_cli(root, report)?;
    writeln!(
        report,
        "\n**Webhooks.** {} sequential `POST /1.0/users/` (after {} unmeasured), each on its own \
         connection, timed by the client to the end of its response: over a database with no \
         subscription, then with one subscription (`[\"*\"]`) whose receiver, on loopback, \
         answers each delivery after {} s. Ratio: with ÷ without (p50).\n",
        webhooks::WRITES,
        webhooks::WARMUP,
        webhooks::RECEIVER_DELAY.as_secs()
    )?;
    writeln!(
        report,
        "| runtime | p50 without | p99 without | p50 with a 2 s receiver | p99 with | p50 ratio | deliveries received |\n\
         |---|---:|---:|---:|---:|---:|---:|"
    )?;
    for (name, runtime) in runtimes_with(spin.as_deref()) {
        let receiver = webhooks::Receiver::start()?;
        let allowed = receiver.allowed();
        let db = dir.join(format!(
            "webhooks-{}.db",
            if matches!(runtime, Runtime::Spin(_)) {
                "spin"
            } else {
                "host"
            }
        ));
        let (_, host) = Host::start_with(
            runtime,
            &manifest,
            &db,
            true,
            &[("webhook_allowed_hosts", &allowed)],
        )?;
        let without = webhooks::writes(host.addr)?;
        webhooks::subscribe(host.addr, &receiver)?;
        let with = webhooks::writes(host.addr)?;
        let received = receiver.wait_for(webhooks::WRITES + webhooks::WARMUP);
        drop(host);
        writeln!(
            report,
            "| {name} | {:.3} ms | {:.3} ms | {:.3} ms | {:.3} ms | {:.2}× | {received} |",
            without.0,
            without.1,
            with.0,
            with.1,
            with.0 / without.0
        )?;
    }
    Ok(())
}

/// Broad recording searches and deep pages over realistic spreads ([`scale::Spread`]) at
/// 1,000,000 and 5,000,000 recordings: [`scale::REQUESTS`] sequential requests of each shape
/// on one keep-alive connection, under each runtime, beside the floor component's
/// `GET /1.0/users/<id>` under the same runtime over the same file and the shape's own
/// statements replayed on rusqlite (the SQL floor).
fn recordings_at_scale(root: &Path, dir: &Path, report: &mut String) -> Result<()> {
    let manifest = root.join("spin.toml");
    let floor_manifest = root.join("tests").join("floor").join("spin.toml");
    Manifest::load(&floor_manifest)?.build()?;
    let spin = spin_cli(root, report)?;
    let sizes: Vec<i64> = match std::env::var("SCALE_CAMPAIGNS") {
        Ok(v) => v.split(',').map(str::parse).collect::<Result<_, _>>()?,
        Err(_) => vec![5, 25],
    };
    writeln!(
        report,
        "\n**Recordings at scale.** Campaigns of 200,000 recordings over 120 days, each taken by \
         its queue's 20 agents (10,000 each), callers calling a few times each. {} sequential \
         requests of each shape on one keep-alive connection (after {} unmeasured), timed by \
         the client. Ratio: the shape's p50 ÷ the floor component's (`GET /1.0/users/<id>`, \
         one `SELECT` by id) under the same runtime over the same file. SQL floor: the \
         request's own statements replayed on rusqlite (median).\n",
        scale::REQUESTS,
        scale::WARMUP
    )?;
    writeln!(
        report,
        "| recordings | runtime | request | p50 | p99 | p50 ÷ floor component | SQL floor p50 | errors |\n\
         |---:|---|---|---:|---:|---:|---:|---:|"
    )?;
    // (runtime, shape, p50, the floor component's p50), per size, for the ratios between sizes.
    let mut p50s: Vec<Vec<(String, String, f64, f64)>> = Vec::new();
    for &campaigns in &sizes {
        let spread = scale::Spread::with_campaigns(campaigns);
        let db = dir.join(format!("scale-{}.db", spread.recordings()));
        let (_, host) = Host::start(TEST_HOST, &manifest, &db, true)?;
        drop(host);
        scale::seed(&db, spread)?;
        let shapes = scale::shapes(&db, spread)?;
        let endpoints: Vec<Endpoint> = shapes
            .iter()
            .map(|(_, p)| Endpoint::fixed(p, false))
            .collect();
        let sql_floors = floors(&manifest, &db, &endpoints)?;
        let recordings = spread.recordings();
        let mut here = Vec::new();
        for (name, runtime) in runtimes_with(spin.as_deref()) {
            let user = user_path;
            let (_, floor_host) = Host::start(runtime, &floor_manifest, &db, false)?;
            keepalive::run(floor_host.addr, scale::WARMUP, user)?;
            let floor = keepalive::run(floor_host.addr, scale::REQUESTS, user)?;
            drop(floor_host);
            writeln!(
                report,
                "| {recordings} | {name} | floor component: `GET /1.0/users/<id>` | {:.3} ms | {:.3} ms | 1.00× | | {} |",
                floor.p50_ms, floor.p99_ms, floor.errors
            )?;
            let (_, host) = Host::start(runtime, &manifest, &db, false)?;
            for ((label, path), sql) in shapes.iter().zip(&sql_floors) {
                keepalive::run(host.addr, scale::WARMUP, |_| path.clone())?;
                let s = keepalive::run(host.addr, scale::REQUESTS, |_| path.clone())?;
                writeln!(
                    report,
                    "| {recordings} | {name} | {label}: `{path}` | {:.3} ms | {:.3} ms | {:.2}× | {sql:.3} ms | {} |",
                    s.p50_ms,
                    s.p99_ms,
                    s.p50_ms / floor.p50_ms,
                    s.errors
                )?;
                here.push((name.to_string(), label.clone(), s.p50_ms, floor.p50_ms));
            }
        }
        p50s.push(here);
    }
    if let [small, large] = &p50s[..] {
        writeln!(
            report,
            "\nFrom {} to {} recordings (the floor component moves with the machine: \
             the last columns divide each p50 by the floor component's of the same run).\n\n\
             | runtime | request | p50 | p50, 5× the data | ratio | ÷ floor | ÷ floor, 5× the data | ratio |\n\
             |---|---|---:|---:|---:|---:|---:|---:|",
            scale::Spread::with_campaigns(sizes[0]).recordings(),
            scale::Spread::with_campaigns(sizes[1]).recordings()
        )?;
        for ((runtime, label, a, fa), (_, _, b, fb)) in small.iter().zip(large) {
            writeln!(
                report,
                "| {runtime} | {label} | {a:.3} ms | {b:.3} ms | {:.2}× | {:.2}× | {:.2}× | {:.2}× |",
                b / a,
                a / fa,
                b / fb,
                (b / fb) / (a / fa)
            )?;
        }
    }
    Ok(())
}

/// The path of the `i`th user read by a sequence of GETs: spread over the 10,000 users of a
/// seeded database.
fn user_path(i: usize) -> String {
    format!("/1.0/users/{}", 1 + (i * 7919) % 10_000)
}

/// Remove a database file and what SQLite keeps beside it (its journal, or WAL and index).
fn remove_database(db: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

/// The key-value store's file beside a database, which [`Host::start`] gives the app.
fn key_value_file(db: &Path) -> PathBuf {
    db.with_extension("kv.db")
}

/// The app's database on a libSQL server (a local sqld, over loopback) beside a local file:
/// `GET /1.0/users/<id>` and `POST` of a recording under each runtime, one instance, then two
/// instances on the one server with the load split between them (one wrk each, at once).
fn scale_out(root: &Path, dir: &Path, report: &mut String) -> Result<()> {
    load::ensure_wrk()?;
    let Some(sqld) = testhost::sqld::find(root) else {
        writeln!(
            report,
            "\n(No sqld found: set `SQLD`, or put `sqld` on the `PATH`, for the libSQL rows.)"
        )?;
        return Ok(());
    };
    let manifest = root.join("spin.toml");
    let floor_manifest = root.join("tests").join("floor").join("spin.toml");
    Manifest::load(&floor_manifest)?.build()?;
    let spin = spin_cli(root, report)?;
    let scale = Scale::FULL.with_recordings(10_000);
    writeln!(
        report,
        "\n**Scaling out: the database on a libSQL server.** sqld 0.24 on loopback (`type = \
         \"libsql\"` in the runtime config) beside a local file, each seeded with {} users and \
         {} recordings; wrk {SECONDS} s a run after a 1 s warm-up. Two instances: two servers \
         of the runtime on the one sqld, one wrk on each at once with half the connections; \
         req/s summed, latencies the slower instance's.\n",
        scale.users, scale.recordings
    )?;
    writeln!(
        report,
        "| runtime | database | instances | request | req/s (1 conn each) | p50 | p99 | req/s (16 conns in all) | p50 | p99 | errors |\n\
         |---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    let mut writers = Vec::new();
    let mut floors = Vec::new();
    for (name, runtime) in runtimes_with(spin.as_deref()) {
        let tag = if matches!(runtime, Runtime::Spin(_)) {
            "spin"
        } else {
            "host"
        };
        // A local file, one instance.
        let file = dir.join(format!("scale-out-{tag}.db"));
        let (_, host) = Host::start(runtime, &manifest, &file, true)?;
        drop(host);
        seed::seed(&file, scale)?;
        let endpoints = scale_out_endpoints(&file)?;
        let (_, host) = Host::start(runtime, &manifest, &file, false)?;
        for e in &endpoints {
            let row = run_endpoint(&host, dir, e)?;
            scale_out_row(report, name, "file", 1, &format!("`{}`", e.label), &row)?;
        }
        drop(host);

        // sqld: migrated by the first instance, seeded through its file.
        let sqld_dir = dir.join(format!("scale-out-{tag}.sqld"));
        let _ = std::fs::remove_dir_all(&sqld_dir);
        let server = Sqld::start(&sqld, &sqld_dir)?;
        let database = server.database();
        let a_base = sqld_dir.join("a");
        let a_store = KeyValueStore::File(key_value_file(&a_base));
        let (_, a) = Host::start_on(runtime, &manifest, &database, &a_store, &a_base, &[])?;
        seed::seed(&server.data_file(), scale)?;
        let endpoints = scale_out_endpoints(&server.data_file())?;
        // The floor component reading one user from the same server, under the same runtime.
        let floor_base = sqld_dir.join("floor");
        let floor_store = KeyValueStore::File(key_value_file(&floor_base));
        let (_, floor) = Host::start_on(
            runtime,
            &floor_manifest,
            &database,
            &floor_store,
            &floor_base,
            &[],
        )?;
        let by_id = endpoints
            .iter()
            .find(|e| e.method == "GET")
            .context("no GET endpoint")?;
        let floor_row = run_endpoint(&floor, dir, by_id)?;
        drop(floor);
        let label = format!("floor component: `{}`", by_id.label);
        scale_out_row(report, name, "sqld", 1, &label, &floor_row)?;
        for e in &endpoints {
            let row = run_endpoint(&a, dir, e)?;
            scale_out_row(report, name, "sqld", 1, &format!("`{}`", e.label), &row)?;
            if std::ptr::eq(e, by_id) {
                floors.push((name, row.0.p50_ms / floor_row.0.p50_ms));
            }
        }
        let b_base = sqld_dir.join("b");
        let b_store = KeyValueStore::File(key_value_file(&b_base));
        let (_, b) = Host::start_on(runtime, &manifest, &database, &b_store, &b_base, &[])?;
        for e in &endpoints {
            let script = e.script(dir)?;
            let both = |connections: u32, seconds: u32, run: &str| {
                std::thread::scope(|scope| {
                    let runs: Vec<_> = [&a, &b]
                        .map(|host| {
                            let script = &script;
                            scope.spawn(move || {
                                load::wrk(&host.base(), script, connections, seconds, run)
                            })
                        })
                        .into_iter()
                        .collect();
                    let runs = runs
                        .into_iter()
                        .map(|r| r.join().expect("wrk thread"))
                        .collect::<Result<Vec<_>>>()?;
                    Ok::<_, anyhow::Error>(load::Measured::together(&runs))
                })
            };
            both(1, 1, "warmup")?;
            let row = (both(1, SECONDS, "c1")?, both(8, SECONDS, "c16")?);
            scale_out_row(report, name, "sqld", 2, &format!("`{}`", e.label), &row)?;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos();
        let one = overload::run(
            &[a.addr],
            &server.data_file(),
            &[a.pid()?],
            &format!("so1{nanos}"),
        )?;
        let two = overload::run(
            &[a.addr, b.addr],
            &server.data_file(),
            &[a.pid()?, b.pid()?],
            &format!("so2{nanos}"),
        )?;
        writers.push((name, one, two));
    }
    let ratios: Vec<String> = floors
        .iter()
        .map(|(name, ratio)| format!("{name} {ratio:.2}×"))
        .collect();
    writeln!(
        report,
        "\n`GET /1.0/users/<id>` on sqld, one instance, ÷ the floor component (p50, 1 conn): {}.",
        ratios.join(", ")
    )?;
    writeln!(
        report,
        "\n{} writers posting users for {} s (as in \"Overload\"), over the sqld above: one \
         instance, then spread over both.\n\n\
         | runtime | instances | writes/s | p50 | p99 | max | 2xx | 503 | 500 | other | no answer | missing | refused but present |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        overload::WRITERS,
        overload::SECONDS
    )?;
    for (name, one, two) in writers {
        for (instances, o) in [(1, one), (2, two)] {
            writeln!(report, "| {name} | {instances} | {} |", o.cells())?;
        }
    }
    Ok(())
}

/// The requests of [`scale_out`]: a user by id, and a new recording.
fn scale_out_endpoints(db: &Path) -> Result<Vec<Endpoint>> {
    let mut endpoints = Targets::find(db)?.endpoints();
    endpoints.retain(|e| e.label.starts_with("GET /1.0/users/<id>") || e.method == "POST");
    Ok(endpoints)
}

fn scale_out_row(
    report: &mut String,
    runtime: &str,
    database: &str,
    instances: u32,
    label: &str,
    (one, sixteen): &(load::Measured, load::Measured),
) -> Result<()> {
    writeln!(
        report,
        "| {runtime} | {database} | {instances} | {label} | {} | {} |",
        load::cells(one, sixteen),
        one.errors + sixteen.errors
    )?;
    Ok(())
}

/// Overload under each runtime: [`overload::WRITERS`] clients posting users for
/// [`overload::SECONDS`] over a fresh database, on a quiet machine and with every CPU kept
/// busy by another process; then every acknowledged write looked up in the database.
fn overload(root: &Path, dir: &Path, report: &mut String) -> Result<()> {
    let manifest = root.join("spin.toml");
    let spin = spin_cli(root, report)?;
    let runtimes = runtimes_with(spin.as_deref());
    writeln!(
        report,
        "\n**Overload.** {} clients, each on its own keep-alive connection, posting users one \
         after the other for {} s (`POST /1.0/users/`), over a fresh database; quiet, then with \
         one `sh -c 'while :; do :; done'` per CPU. Latency as each client timed it, over every \
         answer; acknowledged: 2xx; missing: acknowledged but not in the database afterwards; \
         refused but present: answered 503 but in the database. Server CPU: the serving \
         process's user and system time over the run, per answer.\n",
        overload::WRITERS,
        overload::SECONDS
    )?;
    writeln!(
        report,
        "| runtime | CPU burners | writes/s | p50 | p99 | max | 2xx | 503 | 500 | other | no answer | missing | refused but present | server CPU per answer |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    for (name, runtime) in runtimes {
        for busy in [false, true] {
            let db = dir.join(format!(
                "overload-{}.db",
                if matches!(runtime, Runtime::Spin(_)) {
                    "spin"
                } else {
                    "host"
                }
            ));
            let (_, host) = Host::start(runtime, &manifest, &db, true)?;
            let burners = busy.then(overload::Burners::start).transpose()?;
            let cpus = burners.as_ref().map_or(0, overload::Burners::count);
            let run = format!("ovl{nanos}{}", u8::from(busy));
            let o = overload::run(&[host.addr], &db, &[host.pid()?], &run)?;
            drop(burners);
            drop(host);
            let answered = o.latencies_ms.len().max(1) as f64;
            writeln!(
                report,
                "| {name} | {cpus} | {} | {:.2} ms |",
                o.cells(),
                o.server_cpu_s * 1000.0 / answered
            )?;
            eprintln!(
                "overload, {name}, {cpus} CPU burners: {o:?}",
                o = (o.statuses, o.failed)
            );
        }
    }
    Ok(())
}

/// One row of the runtimes table: a request at 1 and 16 connections, and its ratios to the
/// floor component's.
fn runtime_row(
    report: &mut String,
    runtime: &str,
    label: &str,
    (one, sixteen): &(load::Measured, load::Measured),
    (floor_one, floor_sixteen): &(load::Measured, load::Measured),
) -> Result<()> {
    writeln!(
        report,
        "| {runtime} | {label} | {} | {:.2}× | {:.2}× | {} |",
        load::cells(one, sixteen),
        one.p50_ms / floor_one.p50_ms,
        floor_sixteen.rps / sixteen.rps,
        one.errors + sixteen.errors
    )?;
    Ok(())
}

/// One endpoint at 1 and at 16 connections, after a warm-up.
fn run_endpoint(host: &Host, dir: &Path, e: &Endpoint) -> Result<(load::Measured, load::Measured)> {
    let script = e.script(dir)?;
    load::wrk(&host.base(), &script, 1, 1, "warmup")?;
    let one = load::wrk(&host.base(), &script, 1, SECONDS, "c1")?;
    let sixteen = load::wrk(&host.base(), &script, 16, SECONDS, "c16")?;
    Ok((one, sixteen))
}

/// Every endpoint at 1 and at 16 connections.
fn run_all(
    host: &Host,
    dir: &Path,
    endpoints: &[Endpoint],
) -> Result<Vec<(load::Measured, load::Measured)>> {
    endpoints
        .iter()
        .map(|e| run_endpoint(host, dir, e))
        .collect()
}

/// One request the benchmark makes.
struct Endpoint {
    label: String,
    method: &'static str,
    /// Lua expressions for wrk (a random user each time, a fresh cid each time).
    wrk_path: String,
    wrk_body: Option<String>,
    /// The same request with fixed values, for capturing its statements.
    path: String,
    body: Option<String>,
    /// A text parameter to make unique on each floor replay.
    unique: Option<String>,
    /// Also measured over 10,000 recordings.
    scale: bool,
    /// An API token's secret, sent as `Authorization: Bearer`.
    bearer: Option<String>,
}

impl Endpoint {
    /// A GET whose wrk path is a Lua expression (`path` stands for it when capturing SQL).
    fn get(label: &str, wrk_path: &str, path: &str) -> Self {
        Self {
            label: label.into(),
            method: "GET",
            wrk_path: wrk_path.into(),
            wrk_body: None,
            path: path.into(),
            body: None,
            unique: None,
            scale: false,
            bearer: None,
        }
    }

    /// A GET of one fixed path; `scale`: also measured over 10,000 recordings.
    fn fixed(path: &str, scale: bool) -> Self {
        Self {
            scale,
            ..Self::get(&format!("GET {path}"), &format!("\"{path}\""), path)
        }
    }

    /// Its wrk script, written in `dir`.
    fn script(&self, dir: &Path) -> Result<PathBuf> {
        let name = self.label.split_whitespace().next().unwrap_or("req");
        load::script(
            dir,
            name,
            self.method,
            &self.wrk_path,
            self.wrk_body.as_deref(),
            self.bearer.as_deref(),
        )
    }
}

/// Ids and keys that exist in a seeded database.
struct Targets {
    queue: i64,
    search_campaign: i64,
    search_key: String,
    /// `from` and `until` of a week from the search campaign's start (all its recordings).
    week: (String, String),
}

impl Targets {
    fn find(db: &Path) -> Result<Self> {
        let conn = rusqlite::Connection::open(db)?;
        let queue = conn.query_row(
            "SELECT queue_id FROM recording_campaigns WHERE activated = 1 \
             AND start_date <= datetime('now') AND end_date >= datetime('now') ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )?;
        let (search_campaign, search_key) = conn.query_row(
            "SELECT campaign_id, caller FROM recordings WHERE rowid = (SELECT MAX(rowid) / 2 FROM recordings)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let week = conn.query_row(
            "SELECT date(start_date), date(start_date, '+7 days') FROM recording_campaigns WHERE id = ?",
            [search_campaign],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Self {
            queue,
            search_campaign,
            search_key,
            week,
        })
    }

    fn endpoints(&self) -> Vec<Endpoint> {
        let hook = format!(
            "/1.0/recording_campaigns/?activated=true&queue_id={}&running=true",
            self.queue
        );
        let search = format!(
            "/1.0/recording_campaigns/{}/search?key={}",
            self.search_campaign, self.search_key
        );
        let recordings = format!("/1.0/recording_campaigns/{}/", self.search_campaign);
        let week = format!(
            "{recordings}?from={}&until={}&_page=1&_pagesize=20",
            self.week.0, self.week.1
        );
        vec![
            Endpoint::get("GET /1.0/users/<id>", "\"/1.0/users/\" .. math.random(1, 10000)", "/1.0/users/5000"),
            Endpoint::fixed("/1.0/users/?_page=100&_pagesize=50", false),
            Endpoint::fixed(&hook, true),
            Endpoint::fixed(&search, true),
            Endpoint::fixed(&week, true),
            Endpoint {
                label: format!("POST {recordings} (new cids)"),
                method: "POST",
                wrk_path: format!("\"{recordings}\""),
                wrk_body: Some(
                    "'{\"cid\": \"bench-' .. run .. '-' .. tid .. '-' .. counter .. '\", \"agent_no\": \"1000\", \"caller\": \"0231000001\", \"start_time\": \"2013-05-28 16:05:59\"}'".into(),
                ),
                path: recordings.clone(),
                body: Some("{\"cid\": \"floor-capture\", \"agent_no\": \"1000\", \"caller\": \"0231000001\", \"start_time\": \"2013-05-28 16:05:59\"}".into()),
                unique: Some("floor-capture".into()),
                scale: false,
                bearer: None,
            },
            Endpoint {
                label: "PUT /1.0/users/<id>".into(),
                method: "PUT",
                wrk_path: "\"/1.0/users/\" .. math.random(1, 10000)".into(),
                wrk_body: Some("'{\"firstname\": \"Bench\", \"lastname\": \"L' .. counter .. '\"}'".into()),
                path: "/1.0/users/4000".into(),
                body: Some("{\"firstname\": \"Bench\", \"lastname\": \"Floor\"}".into()),
                // A new lastname each replay: the same one again would change no row (the
                // update skips rows it would not change), and the floor would write nothing.
                unique: Some("Floor".into()),
                scale: false,
                bearer: None,
            },
        ]
    }
}

/// Capture each endpoint's statements through an in-process host with a statement log, then
/// time them bare.
fn floors(manifest: &Path, db: &Path, endpoints: &[Endpoint]) -> Result<Vec<f64>> {
    let log: testhost::sqlite::StatementLog = Arc::new(Mutex::new(Vec::new()));
    let app = App::load(manifest)?
        .with_database(db)
        .with_statement_log(log.clone());
    let runtime = tokio::runtime::Runtime::new()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    runtime.spawn(testhost::serve(app, listener));
    let mut out = Vec::new();
    for e in endpoints {
        log.lock().unwrap().clear();
        let (status, body) = http(addr, e.method, &e.path, e.body.as_deref())?;
        if status >= 300 {
            bail!(
                "{} {}: {status} {}",
                e.method,
                e.path,
                String::from_utf8_lossy(&body)
            );
        }
        let statements = log.lock().unwrap().clone();
        let iterations = if e.method == "GET" { 2000 } else { 300 };
        out.push(floor::median_ms(
            db,
            &statements,
            iterations,
            e.unique.as_deref(),
            e.method != "GET",
        )?);
    }
    Ok(out)
}

/// What serves the app: `testhost up` with its SQLite connection mode, or `spin up`.
#[derive(Clone, Copy)]
enum Runtime<'a> {
    TestHost(&'static str),
    Spin(&'a Path),
}

/// The Spin CLI for the Spin rows, or a line in the report saying there are none.
fn spin_cli(root: &Path, report: &mut String) -> Result<Option<PathBuf>> {
    let spin = testhost::spin_up::find(root);
    if spin.is_none() {
        writeln!(
            report,
            "\n(No Spin CLI found: set `SPIN`, or put `spin` on the `PATH`, for the Spin rows.)"
        )?;
    }
    Ok(spin)
}

/// The runtimes a section runs under: the test host, and Spin when there is one.
fn runtimes_with(spin: Option<&Path>) -> Vec<(&'static str, Runtime<'_>)> {
    let mut runtimes = vec![("test host", TEST_HOST)];
    runtimes.extend(spin.map(|spin| ("Spin", Runtime::Spin(spin))));
    runtimes
}

/// The test host as Spin opens connections: a new one for every request.
const TEST_HOST: Runtime<'static> = Runtime::TestHost("new");

/// A runtime serving a manifest, in a process of its own.
struct Host {
    process: Process,
    addr: SocketAddr,
}

enum Process {
    TestHost(Child),
    Spin(Running),
}

impl Host {
    /// Start it and wait for its first answer; returns the time that took, in ms.
    fn start(runtime: Runtime, manifest: &Path, db: &Path, fresh: bool) -> Result<(f64, Host)> {
        Self::start_with(runtime, manifest, db, fresh, &[])
    }

    /// [`Host::start`] with these application variables (`SPIN_VARIABLE_*`).
    fn start_with(
        runtime: Runtime,
        manifest: &Path,
        db: &Path,
        fresh: bool,
        variables: &[(&str, &str)],
    ) -> Result<(f64, Host)> {
        if fresh {
            remove_database(db);
        }
        Self::start_on(
            runtime,
            manifest,
            &Database::File(db.to_path_buf()),
            &KeyValueStore::File(key_value_file(db)),
            db,
            variables,
        )
    }

    /// [`Host::start_with`] over `database` (a file or a libSQL server) and `key_value` (a
    /// file or a Redis server); its runtime config and logs are named after `base`.
    fn start_on(
        runtime: Runtime,
        manifest: &Path,
        database: &Database,
        key_value: &KeyValueStore,
        base: &Path,
        variables: &[(&str, &str)],
    ) -> Result<(f64, Host)> {
        let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let started = Instant::now();
        let runtime_config = format!(
            "{}{}",
            database.runtime_config()?,
            key_value.runtime_config("default")?
        );
        let process = match runtime {
            Runtime::TestHost(connections) => {
                let log = std::fs::File::create(base.with_extension("host.log"))?;
                let config = base.with_extension("runtime-config.toml");
                std::fs::write(&config, &runtime_config)?;
                Process::TestHost(
                    Command::new(env!("CARGO_BIN_EXE_testhost"))
                        .args(["up", "--listen", &addr.to_string(), "--runtime-config-file"])
                        .arg(&config)
                        .arg("--from")
                        .arg(manifest)
                        .args(["--sqlite-connections", connections])
                        .envs(variables.iter().map(|(name, value)| {
                            (format!("SPIN_VARIABLE_{}", name.to_uppercase()), *value)
                        }))
                        .stdout(Stdio::from(log.try_clone()?))
                        .stderr(Stdio::from(log))
                        .spawn()?,
                )
            }
            Runtime::Spin(spin) => Process::Spin(
                SpinUp {
                    spin: spin.to_path_buf(),
                    app: AppSource::Manifest(manifest.to_path_buf()),
                    dir: base.with_extension("spin"),
                    runtime_config,
                    variables: variables
                        .iter()
                        .map(|(name, value)| (name.to_string(), value.to_string()))
                        .collect(),
                    listen: addr,
                }
                .start()?,
            ),
        };
        let host = Host { process, addr };
        loop {
            if let Ok((status, _)) = http(addr, "GET", "/1.0/users/1", None) {
                if status == 200 || status == 404 {
                    return Ok((started.elapsed().as_secs_f64() * 1000.0, host));
                }
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("{} did not answer within 2 minutes", manifest.display());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The serving process's peak resident memory (under Spin, `spin up`'s child, `spin
    /// trigger http`).
    fn peak_rss_mb(&self) -> Result<f64> {
        let pid = self.pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .context("no VmHWM")?;
        Ok(kb / 1024.0)
    }

    /// The serving process: `testhost up`, or under Spin `spin up`'s child, `spin trigger
    /// http`.
    fn pid(&self) -> Result<u32> {
        Ok(match &self.process {
            Process::TestHost(child) => child.id(),
            Process::Spin(running) => {
                let children =
                    std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", running.pid()))?;
                children
                    .split_whitespace()
                    .next()
                    .context("spin up has no child")?
                    .parse()?
            }
        })
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // A `Running` stops itself.
        if let Process::TestHost(child) = &mut self.process {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One HTTP/1.1 request on its own connection, with a JSON body.
/// A `users:read` API token made on `host` (from loopback, trusted): its secret.
fn bench_token(host: &Host) -> Result<String> {
    let body = r#"{"name": "bench", "scopes": ["users:read"]}"#;
    let (status, answer) = http(host.addr, "POST", "/1.0/tokens/", Some(body))?;
    anyhow::ensure!(status == 201, "making a token: {status}");
    let made: serde_json::Value = serde_json::from_slice(&answer)?;
    made["secret"]
        .as_str()
        .map(str::to_string)
        .context("no secret")
}

fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Result<(u16, Vec<u8>)> {
    let body = body.unwrap_or("");
    http_with(addr, method, path, "application/json", body.as_bytes())
}

/// One HTTP/1.1 request on its own connection, with a body of this type: its status and
/// body.
fn http_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no response")?;
    let status = std::str::from_utf8(&raw[..head_end])?
        .split(' ')
        .nth(1)
        .context("no status")?
        .parse()?;
    Ok((status, raw[head_end + 4..].to_vec()))
}
