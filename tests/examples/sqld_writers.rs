//! Many autocommit writers against one sqld, through the libSQL client Spin links: does the
//! server keep writing? `cargo run -p testhost --example sqld_writers -- <writers> <seconds>
//! [automatic]` starts a fresh sqld (`SQLD`, `sqld` on the `PATH`, or `../shared/bin/sqld`),
//! checkpointing on a clock as the README says to start it, or with SQLite's automatic
//! checkpoints (`automatic`, sqld's default). Each writer inserts one row at a time, each
//! over a new client as a Spin request does. It prints the writes made, and stops early,
//! exit status 2, when no write has landed for 10 s: the server has wedged (README, "Scaling
//! out": with automatic checkpoints sqld 0.24.33 did, within a minute or two at 64 writers).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use testhost::sqld::{self, Checkpoints, Sqld};

/// How long without a single write before the server is taken for wedged.
const WEDGED_AFTER: Duration = Duration::from_secs(10);

async fn connect(url: &str) -> anyhow::Result<libsql::Connection> {
    let db = libsql::Builder::new_remote(url.to_string(), String::new())
        .build()
        .await?;
    Ok(db.connect()?)
}

/// One autocommit insert, its `RETURNING` rows read to the end as Spin's host does.
async fn insert(url: &str, name: String) -> anyhow::Result<()> {
    let conn = connect(url).await?;
    let mut rows = conn
        .query("INSERT INTO t (name) VALUES (?) RETURNING id", [name])
        .await?;
    while rows.next().await?.is_some() {}
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(writers), Some(seconds)) = (args.first(), args.get(1)) else {
        anyhow::bail!("usage: sqld_writers <writers> <seconds> [automatic]");
    };
    let (writers, seconds): (usize, u64) = (writers.parse()?, seconds.parse()?);
    let checkpoints = match args.get(2).map(String::as_str) {
        Some("automatic") => Checkpoints::Automatic,
        _ => Checkpoints::OnAClock,
    };
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = sqld::find(&workspace).ok_or_else(|| anyhow::anyhow!("no sqld found"))?;
    let dir = std::env::temp_dir().join(format!("sqld-writers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = Sqld::start_with(&binary, &dir, checkpoints)?;
    let url = server.url();
    connect(&url)
        .await?
        .execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)",
            (),
        )
        .await?;

    let (written, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    for writer in 0..writers {
        let (url, written, failed) = (url.clone(), written.clone(), failed.clone());
        tokio::spawn(async move {
            for i in 0u64.. {
                match insert(&url, format!("w{writer}-{i}")).await {
                    Ok(()) => written.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("{e}");
                        }
                        0
                    }
                };
            }
        });
    }

    let start = Instant::now();
    let (mut last, mut last_change) = (0, Instant::now());
    while start.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = written.load(Ordering::Relaxed);
        if now != last {
            (last, last_change) = (now, Instant::now());
        } else if last_change.elapsed() >= WEDGED_AFTER {
            println!(
                "{checkpoints:?} checkpoints, {writers} writers: WEDGED after {:.0} s, {now} \
                 writes, {} failed",
                start.elapsed().as_secs_f64(),
                failed.load(Ordering::Relaxed)
            );
            drop(server);
            std::process::exit(2);
        }
    }
    println!(
        "{checkpoints:?} checkpoints, {writers} writers: {last} writes in {seconds} s ({:.0} a \
         second), {} failed",
        last as f64 / seconds as f64,
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}
