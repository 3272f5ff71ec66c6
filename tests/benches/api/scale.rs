//! Recordings at scale (issue 14): a call center's broad questions (an agent's recordings, a
//! busy campaign's list, deep pages) over realistic spreads, not needles.
//!
//! The spread: each campaign is one queue's, running now, with 200,000 recordings over the
//! last 120 days, in time order as a hook posts them, taken by that queue's 20 agents (10,000
//! each), from callers who call a few times each. 1,000,000 recordings: 5 campaigns, 100
//! agents; 5,000,000: 25 campaigns, 500 agents (a center five times the size: same campaigns,
//! more of them).

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use rusqlite::{params, Connection};

use crate::seed::Lcg;

/// The shape of one seeded center.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    pub campaigns: i64,
    pub agents_per_campaign: i64,
    pub per_agent: i64,
    pub days: i64,
}

impl Spread {
    pub const fn with_campaigns(campaigns: i64) -> Self {
        Self {
            campaigns,
            agents_per_campaign: 20,
            per_agent: 10_000,
            days: 120,
        }
    }

    pub fn per_campaign(&self) -> i64 {
        self.agents_per_campaign * self.per_agent
    }

    pub fn recordings(&self) -> i64 {
        self.campaigns * self.per_campaign()
    }
}

/// Sequential requests measured per shape, after [`WARMUP`] unmeasured.
pub const REQUESTS: usize = 200;
pub const WARMUP: usize = 20;

/// Users for the floor component's `GET /1.0/users/<id>` (ids 1 to 10,000).
const USERS: i64 = 10_000;

/// Seed `db` (whose schema exists) with `spread`, straight into SQLite, through the same
/// triggers that keep the counts when the API inserts.
pub fn seed(db: &Path, spread: Spread) -> Result<()> {
    let started = Instant::now();
    let mut conn = Connection::open(db)?;
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -1000000;")?;
    let tx = conn.transaction()?;
    {
        let mut user =
            tx.prepare("INSERT INTO users (firstname, lastname) VALUES (?1, 'Floor')")?;
        for i in 0..USERS {
            user.execute(params![format!("User{i}")])?;
        }
        let mut queue = tx.prepare(
            "INSERT INTO queues (name, displayname, number, context) VALUES (?1, ?1, ?2, 'default')",
        )?;
        let mut agent = tx.prepare(
            "INSERT INTO agents (firstname, lastname, number, context) VALUES (?1, 'Agent', ?2, 'default')",
        )?;
        let mut campaign = tx.prepare(
            "INSERT INTO recording_campaigns (campaign_name, activated, base_filename, queue_id, start_date, end_date) \
             VALUES (?1, 1, ?1, ?2, datetime('now', ?3), datetime('now', '+30 days'))",
        )?;
        for c in 0..spread.campaigns {
            queue.execute(params![format!("queue_{c}"), format!("3{c:03}")])?;
            campaign.execute(params![
                format!("campaign_{c}"),
                c + 1,
                format!("-{} days", spread.days)
            ])?;
            for a in 0..spread.agents_per_campaign {
                let n = c * spread.agents_per_campaign + a;
                agent.execute(params![format!("Agent{n}"), agent_number(n)])?;
            }
        }
        let first: String = tx.query_row(
            "SELECT datetime('now', ?1)",
            [format!("-{} days", spread.days)],
            |r| r.get(0),
        )?;
        let mut recording = tx.prepare(
            "INSERT INTO recordings (cid, campaign_id, agent_id, caller, callee, client_id, filename, start_time, end_time) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, datetime(?8, ?9 || ' seconds'), datetime(?8, ?10 || ' seconds'))",
        )?;
        let mut rng = Lcg(14);
        // Each campaign's calls, every campaign at once, in time order.
        let per_campaign = spread.per_campaign();
        let step = spread.days * 86_400 / per_campaign;
        let callers = spread.recordings() / 4;
        // Each of a campaign's agents takes exactly `per_agent` calls, in shuffled turns.
        let turns: Vec<Vec<i64>> = (0..spread.campaigns)
            .map(|_| {
                let mut t: Vec<i64> = (0..per_campaign)
                    .map(|i| i % spread.agents_per_campaign)
                    .collect();
                for i in (1..t.len()).rev() {
                    t.swap(i, rng.next(i as i64 + 1) as usize);
                }
                t
            })
            .collect();
        for i in 0..per_campaign {
            for c in 0..spread.campaigns {
                let at = i * step + rng.next(step.max(1));
                let agent = c * spread.agents_per_campaign + turns[c as usize][i as usize] + 1;
                let cid = format!("{}.{}", 1_700_000_000 + at, i * spread.campaigns + c);
                recording.execute(params![
                    cid,
                    c + 1,
                    agent,
                    caller(rng.next(callers)),
                    format!("3{c:03}"),
                    format!("client-{}", rng.next(1000)),
                    format!("{cid}.wav"),
                    first,
                    at,
                    at + 30 + rng.next(600),
                ])?;
            }
        }
    }
    tx.commit()?;
    // No ANALYZE: a deployment's database has no statistics either, so the plans measured
    // are the ones it gets.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    eprintln!(
        "seeded {} with {spread:?} ({} recordings) in {:.1?}",
        db.display(),
        spread.recordings(),
        started.elapsed()
    );
    Ok(())
}

pub fn agent_number(n: i64) -> String {
    format!("{}", 10_000 + n)
}

fn caller(n: i64) -> String {
    format!("0{:09}", 300_000_000 + n)
}

/// The request shapes measured: label and path, over campaign 1 (queue 1, agents 10000 to
/// 10019).
pub fn shapes(db: &Path, spread: Spread) -> Result<Vec<(String, String)>> {
    let conn = Connection::open(db)?;
    // A caller of campaign 1 who called a few times, found as a client would know one.
    let caller: String = conn.query_row(
        "SELECT caller FROM recordings WHERE campaign_id = 1 GROUP BY caller HAVING COUNT(*) > 1 LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    let agent = agent_number(0);
    let last_agent_page = spread.per_agent / 20;
    let last_page = spread.per_campaign() / 20;
    let week: (String, String) = conn.query_row(
        "SELECT date('now', '-14 days'), date('now', '-7 days')",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let c = "/1.0/recording_campaigns/1";
    let page = |p: i64| format!("_page={p}&_pagesize=20");
    Ok(vec![
        (
            "running campaign of a queue (the hook's query)".into(),
            "/1.0/recording_campaigns/?activated=true&queue_id=1&running=true".into(),
        ),
        (
            "search by a caller with no match".into(),
            format!("{c}/search?key=0999999999"),
        ),
        (
            "search by a caller (a few matches)".into(),
            format!("{c}/search?key={caller}"),
        ),
        (
            "search by an agent's number, page 1".into(),
            format!("{c}/search?key={agent}&{}", page(1)),
        ),
        (
            format!("search by an agent's number, page {last_agent_page} (the last)"),
            format!("{c}/search?key={agent}&{}", page(last_agent_page)),
        ),
        (
            "list by agent, page 1".into(),
            format!("{c}/?agent_no={agent}&{}", page(1)),
        ),
        (
            format!("list by agent, page {last_agent_page} (the last)"),
            format!("{c}/?agent_no={agent}&{}", page(last_agent_page)),
        ),
        ("campaign list, page 1".into(), format!("{c}/?{}", page(1))),
        (
            "campaign list, page 100".into(),
            format!("{c}/?{}", page(100)),
        ),
        (
            "campaign list, page 5000".into(),
            format!("{c}/?{}", page(5000)),
        ),
        (
            format!("campaign list, page {last_page} (the last)"),
            format!("{c}/?{}", page(last_page)),
        ),
        (
            "a week of the campaign, page 1".into(),
            format!("{c}/?from={}&until={}&{}", week.0, week.1, page(1)),
        ),
        (
            "a week of the campaign, page 50".into(),
            format!("{c}/?from={}&until={}&{}", week.0, week.1, page(50)),
        ),
    ])
}
