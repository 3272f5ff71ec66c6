//! `testhost build` and `testhost up`, mirroring `spin build` and `spin up`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use testhost::spin::Connections;
use testhost::{App, Manifest};

const USAGE: &str = "usage:
  testhost build [--from spin.toml]
  testhost up [--from spin.toml] [--listen 127.0.0.1:3000] [--db PATH] [--sqlite-connections new|reuse]

  --sqlite-connections: `new` (the default) opens a connection for every `open`, as Spin does;
  `reuse` hands idle connections to the next requests (faster; for benchmarks).";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let mut manifest = PathBuf::from("spin.toml");
    let mut listen: SocketAddr = "127.0.0.1:3000".parse()?;
    let mut db: Option<PathBuf> = None;
    let mut connections = Connections::New;
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--from" | "-f" => manifest = value()?.into(),
            "--listen" => listen = value()?.parse().context("--listen wants ADDRESS:PORT")?,
            "--db" => db = Some(value()?.into()),
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
        "up" => up(&manifest, listen, db, connections),
        _ => bail!("{USAGE}"),
    }
}

#[tokio::main]
async fn up(
    manifest: &std::path::Path,
    listen: SocketAddr,
    db: Option<PathBuf>,
    connections: Connections,
) -> Result<()> {
    let app = App::load(manifest)?.with_connections(connections);
    let db = db.unwrap_or_else(|| app.database().to_path_buf());
    let app = app.with_database(&db)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    println!(
        "Serving http://{} (database {})",
        listener.local_addr()?,
        app.database().display()
    );
    tokio::select! {
        r = testhost::serve(app, listener) => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
