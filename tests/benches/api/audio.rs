//! Recording audio through each runtime: a 50 MiB audio uploaded (`PUT .../audio`) and
//! downloaded (`GET .../audio`) [`TIMES`] times on a fresh database and key-value store (an
//! SQLite file, or a Redis server), beside the floors: the same chunks written and read
//! straight into the store, with rusqlite into a key-value file of Spin's schema, or with the
//! `redis` crate into a Redis server (what each store itself costs, without HTTP or the
//! component).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Result};

use crate::{http, http_with};

/// The audio's size.
pub const BYTES: usize = 50 << 20;

/// How many uploads and downloads are timed (the median is reported).
pub const TIMES: usize = 5;

/// The component's chunk size (components/audio/src/audio.rs).
const CHUNK: usize = 1 << 20;

/// Median seconds of an upload and of a download, through the app at `addr`.
pub fn through(addr: SocketAddr) -> Result<(f64, f64)> {
    let post = |path: &str, body: &str| -> Result<Vec<u8>> {
        match http(addr, "POST", path, Some(body))? {
            (201, answer) => Ok(answer),
            (status, _) => bail!("POST {path}: {status}"),
        }
    };
    post(
        "/1.0/CallCenter/agents/",
        r#"{"number": "2123", "firstname": "A"}"#,
    )?;
    let campaign = post(
        "/1.0/recording_campaigns/",
        r#"{"campaign_name": "audio", "activated": true, "base_filename": "a"}"#,
    )?;
    let campaign = String::from_utf8(campaign)?;
    post(
        &format!("/1.0/recording_campaigns/{campaign}/"),
        r#"{"cid": "a1", "agent_no": "2123"}"#,
    )?;
    let path = format!("/1.0/recording_campaigns/{campaign}/a1/audio");
    let audio = bytes(BYTES);
    let mut up = Vec::new();
    let mut down = Vec::new();
    for _ in 0..TIMES {
        let started = Instant::now();
        let (status, _) = http_with(addr, "PUT", &path, "audio/wav", &audio)?;
        up.push(started.elapsed().as_secs_f64());
        if status != 200 && status != 201 {
            bail!("upload: {status}");
        }
        let started = Instant::now();
        let (status, body) = http(addr, "GET", &path, None)?;
        down.push(started.elapsed().as_secs_f64());
        // By content, not length: a download of other bytes is no download.
        if status != 200 || body != audio {
            bail!(
                "download: {status}, {} bytes, not the audio uploaded",
                body.len()
            );
        }
    }
    Ok((median(up), median(down)))
}

/// Median seconds of writing, then of reading, the audio's chunks straight into a key-value
/// file of Spin's schema, one statement a chunk, as the store does.
pub fn sqlite_floor(file: &Path) -> Result<(f64, f64)> {
    let _ = std::fs::remove_file(file);
    let mut conn = rusqlite::Connection::open(file)?;
    conn.execute(
        "CREATE TABLE spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, \
         value BLOB NOT NULL, PRIMARY KEY (store, key))",
        [],
    )?;
    floor(&mut conn)
}

/// Median seconds of writing, then of reading, the audio's chunks straight into a Redis
/// server, one `SET` or `GET` a chunk, as Spin's Redis store does.
pub fn redis_floor(url: &str) -> Result<(f64, f64)> {
    let mut redis = redis::Client::open(url)?.get_connection()?;
    let times = floor(&mut redis)?;
    // The server is the app's next: it starts empty.
    redis::cmd("FLUSHALL").exec(&mut redis)?;
    Ok(times)
}

/// A store the floor writes chunks into and reads them back from, one statement or command
/// a chunk.
trait Chunks {
    fn put(&mut self, key: &str, chunk: &[u8]) -> Result<()>;
    fn get(&mut self, key: &str) -> Result<Vec<u8>>;
}

impl Chunks for rusqlite::Connection {
    fn put(&mut self, key: &str, chunk: &[u8]) -> Result<()> {
        self.execute(
            "INSERT INTO spin_key_value (store, key, value) VALUES ('default', ?, ?) \
             ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            rusqlite::params![key, chunk],
        )?;
        Ok(())
    }

    fn get(&mut self, key: &str) -> Result<Vec<u8>> {
        Ok(self.query_row(
            "SELECT value FROM spin_key_value WHERE store = 'default' AND key = ?",
            [key],
            |r| r.get(0),
        )?)
    }
}

impl Chunks for redis::Connection {
    fn put(&mut self, key: &str, chunk: &[u8]) -> Result<()> {
        Ok(redis::cmd("SET").arg(key).arg(chunk).exec(self)?)
    }

    fn get(&mut self, key: &str) -> Result<Vec<u8>> {
        Ok(redis::cmd("GET").arg(key).query(self)?)
    }
}

/// Median seconds of writing, then of reading, the audio's chunks, [`TIMES`] times.
fn floor(store: &mut impl Chunks) -> Result<(f64, f64)> {
    let audio = bytes(BYTES);
    let mut up = Vec::new();
    let mut down = Vec::new();
    for round in 0..TIMES {
        let started = Instant::now();
        for (n, chunk) in audio.chunks(CHUNK).enumerate() {
            store.put(&format!("audio/{round}/{n}"), chunk)?;
        }
        up.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let read = (0..BYTES.div_ceil(CHUNK))
            .map(|n| store.get(&format!("audio/{round}/{n}")))
            .collect::<Result<Vec<_>>>()?;
        down.push(started.elapsed().as_secs_f64());
        if read.concat() != audio {
            bail!("the floor read back other bytes");
        }
    }
    Ok((median(up), median(down)))
}

/// Pseudo-random bytes (audio compresses poorly; so do these).
fn bytes(n: usize) -> Vec<u8> {
    let mut state = 0x2013_0528_u64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
