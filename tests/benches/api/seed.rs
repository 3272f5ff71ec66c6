//! Fill a database at a realistic scale, straight into SQLite (fast), over the schema the
//! components themselves created (the same migrations).

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use rusqlite::{params, Connection};

#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub users: i64,
    pub agents: i64,
    pub queues: i64,
    pub campaigns: i64,
    pub recordings: i64,
}

impl Scale {
    /// The volume: 10,000 users (half with a line, a quarter with a voicemail),
    /// 1,000 agents, 100 queues, 10,000 campaigns, 1,000,000 recordings.
    pub const FULL: Scale = Scale {
        users: 10_000,
        agents: 1_000,
        queues: 100,
        campaigns: 10_000,
        recordings: 1_000_000,
    };

    pub fn with_recordings(self, recordings: i64) -> Self {
        Self { recordings, ..self }
    }
}

/// A small deterministic generator, so every run seeds the same data.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, below: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % below as u64) as i64
    }
}

/// How many distinct callers recordings come from: a search by caller finds a handful.
pub const CALLERS: i64 = 200_000;

pub fn caller(n: i64) -> String {
    format!("0{:09}", 231_000_000 + n)
}

/// Seed `db` (whose schema exists). Campaigns of a queue follow each other without
/// overlapping, three days each, one of them running now; recordings fall inside their
/// campaign.
pub fn seed(db: &Path, scale: Scale) -> Result<()> {
    let started = Instant::now();
    let mut conn = Connection::open(db)?;
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;")?;
    let tx = conn.transaction()?;
    let mut rng = Lcg(42);
    {
        let mut q = tx.prepare("INSERT INTO queues (name, displayname, number, context) VALUES (?1, ?2, ?3, 'default')")?;
        for i in 0..scale.queues {
            q.execute(params![
                format!("queue_{i}"),
                format!("Queue {i}"),
                format!("3{i:03}")
            ])?;
        }
        let mut a = tx.prepare("INSERT INTO agents (firstname, lastname, number, context) VALUES (?1, 'Agent', ?2, 'default')")?;
        for i in 0..scale.agents {
            a.execute(params![format!("Agent{i}"), format!("{}", 1000 + i)])?;
        }
        let mut vm = tx.prepare("INSERT INTO voicemails (fullname, mailbox, password) VALUES (?1, ?2, '0000') RETURNING id")?;
        let mut u = tx.prepare(
            "INSERT INTO users (firstname, lastname, callerid, username, password, language, voicemailid) \
             VALUES (?1, ?2, ?3, ?4, 'secret', 'fr_FR', ?5) RETURNING id",
        )?;
        let mut l = tx.prepare("INSERT INTO lines (user_id, number) VALUES (?1, ?2)")?;
        for i in 0..scale.users {
            let (first, last) = (format!("First{i}"), format!("Last{i}"));
            let voicemail: Option<i64> = if i % 4 == 0 {
                Some(vm.query_row(
                    params![format!("{first} {last}"), format!("{}", 50_000 + i)],
                    |r| r.get(0),
                )?)
            } else {
                None
            };
            let id: i64 = u.query_row(
                params![
                    first,
                    last,
                    format!("{first} {last}"),
                    format!("user{i}"),
                    voicemail
                ],
                |r| r.get(0),
            )?;
            if i % 2 == 0 {
                l.execute(params![id, format!("{}", 40_000 + i)])?;
            }
        }
        let now = chrono_like_now(&tx)?;
        let per_queue = (scale.campaigns / scale.queues).max(1);
        let mut c = tx.prepare(
            "INSERT INTO recording_campaigns (campaign_name, activated, base_filename, queue_id, start_date, end_date) \
             VALUES (?1, ?2, ?3, ?4, datetime(?5, ?6 || ' days'), datetime(?5, ?7 || ' days')) RETURNING id, start_date",
        )?;
        let mut campaigns = Vec::with_capacity(scale.campaigns as usize);
        for i in 0..scale.campaigns {
            let queue = i % scale.queues + 1;
            let k = i / scale.queues;
            // Slot k of its queue: [3k, 3k + 3) days from (now - 3 * per_queue / 2 days).
            let start = 3 * k - 3 * per_queue / 2;
            let (id, start_date): (i64, String) = c.query_row(
                params![
                    format!("campaign_{i}"),
                    i % 10 != 9,
                    format!("campaign-{i}-"),
                    queue,
                    now,
                    start,
                    start + 3
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            campaigns.push((id, start_date));
        }
        let mut r = tx.prepare(
            "INSERT INTO recordings (cid, campaign_id, agent_id, caller, callee, client_id, filename, start_time, end_time) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, datetime(?8, ?9 || ' seconds'), datetime(?8, ?10 || ' seconds'))",
        )?;
        for n in 0..scale.recordings {
            let (campaign, start) = &campaigns[(n % scale.campaigns) as usize];
            let offset = rng.next(200_000);
            let cid = format!("{}.{n}", 1_369_000_000 + n);
            r.execute(params![
                cid,
                campaign,
                rng.next(scale.agents) + 1,
                caller(rng.next(CALLERS)),
                format!("3{:03}", rng.next(scale.queues)),
                format!("client-{}", rng.next(1000)),
                format!("{cid}.wav"),
                start,
                offset,
                offset + 30 + rng.next(600),
            ])?;
        }
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    eprintln!(
        "seeded {} with {scale:?} in {:.1?}",
        db.display(),
        started.elapsed()
    );
    Ok(())
}

fn chrono_like_now(conn: &Connection) -> Result<String> {
    Ok(conn.query_row("SELECT datetime('now')", [], |r| r.get(0))?)
}
