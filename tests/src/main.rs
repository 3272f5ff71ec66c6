//! `testhost build` and `testhost up`, mirroring `spin build` and `spin up`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use testhost::runtime_config::RuntimeConfig;
use testhost::sqlite::Connections;
use testhost::{App, Manifest};

const USAGE: &str = "usage:
  testhost build [--from spin.toml]
  testhost up [--from spin.toml] [--listen 127.0.0.1:3000] [--db PATH] [--sqlite-connections new|reuse]
              [--runtime-config-file PATH] [--log-dir DIR]

  --runtime-config-file, --log-dir: as `spin up` takes them (the file's `[sqlite_database.default]`
  of type \"spin\" or \"libsql\", and `[key_value_store.<label>]` of type \"spin\" or \"redis\");
  `--db` (a file) wins over the file's database.

  --sqlite-connections: `new` (the default) opens a connection for every `open`, as Spin does;
  `reuse` hands idle connections to the next requests (faster; for benchmarks).";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let mut manifest = PathBuf::from("spin.toml");
    let mut listen: SocketAddr = "127.0.0.1:3000".parse()?;
    let mut db: Option<PathBuf> = None;
    let mut connections = Connections::New;
    let mut runtime_config: Option<PathBuf> = None;
    let mut log_dir: Option<PathBuf> = None;
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--from" | "-f" => manifest = value()?.into(),
            "--listen" => listen = value()?.parse().context("--listen wants ADDRESS:PORT")?,
            "--db" => db = Some(value()?.into()),
            "--runtime-config-file" => runtime_config = Some(value()?.into()),
            "--log-dir" => log_dir = Some(value()?.into()),
            "--sqlite-connections" => {
                connections = match value()?.as_str() {
                    "new" => Connections::New,
                    "reuse" => Connections::Reuse,
                    other => bail!("--sqlite-connections: `new` or `reuse`, not `{other}`"),
                }
            }
            _ => bail!("unknown argument {flag}\n{USAGE}"),
        }
    }
    match command.as_str() {
        "build" => Manifest::load(&manifest)?.build(),
        "up" => {
            let mut app = App::load(&manifest)?.with_connections(connections);
            if let Some(path) = runtime_config {
                app = app.with_runtime_config(&RuntimeConfig::load(&path)?)?;
            }
            if let Some(dir) = log_dir {
                app = app.with_log_dir(&dir)?;
            }
            if let Some(db) = db {
                app = app.with_database(&db);
            }
            up(app, listen)
        }
        _ => bail!("{USAGE}"),
    }
}

#[tokio::main]
async fn up(app: App, listen: SocketAddr) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    // The line `spin up` prints, which scripts (and tests/src/spin_up.rs) wait for.
    println!("Serving http://{}", listener.local_addr()?);
    println!("Database: {}", app.database());
    tokio::select! {
        r = testhost::serve(app, listener) => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
