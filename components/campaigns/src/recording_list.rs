//! A campaign's recordings a page at a time: the list with its filters, and the search, each
//! planned so that a page costs its own rows at millions of recordings.

use common::{
    dates,
    db::{Db, Param, Value as SqlValue},
    pagination::Pagination,
    params, ApiError, List,
};

use crate::recording::{check_campaign, read, Recording, COLUMNS, ORDER};

/// The list's filters, combined with AND.
#[derive(Default)]
pub struct Filters<'a> {
    pub caller: Option<&'a str>,
    pub agent_no: Option<&'a str>,
    pub cid: Option<&'a str>,
    pub time: TimeRange,
}

/// `from` (inclusive) and `until` (exclusive) on `start_time`, in the stored form. A range
/// leaves out the recordings without a start time.
#[derive(Default, Clone)]
pub struct TimeRange {
    pub from: Option<String>,
    pub until: Option<String>,
}

impl TimeRange {
    /// From the query's `from` and `until`, already checked to be dates.
    pub fn from_query(query: &common::query::Query) -> Self {
        let at = |name| query.get(name).and_then(dates::normalise);
        Self {
            from: at("from"),
            until: at("until"),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.from.is_none() && self.until.is_none()
    }

    /// The range as SQL on `{column}`, and its values.
    fn sql(&self, column: &str) -> (String, Vec<SqlValue>) {
        let mut sql = String::new();
        let mut values = Vec::new();
        if let Some(from) = &self.from {
            sql.push_str(&format!(" AND {column} >= ?"));
            values.push(from.param());
        }
        if let Some(until) = &self.until {
            sql.push_str(&format!(" AND {column} < ?"));
            values.push(until.param());
        }
        (sql, values)
    }
}

/// A campaign's recordings (404 when there is no such campaign).
///
/// A page costs its own rows, whatever the number of matches: the keys of the page come from
/// an index scan in list order that stops after the page, then only those rows are read; the
/// total comes from the counts the triggers keep (`migrations/0008_recording_counts.sql`)
/// when the list is filtered by at most an agent or a time range (a range: its whole days
/// from the counts, the days it cuts into from the index), else from an index count without
/// the join; and a deep page of the whole campaign starts at the day its
/// first row falls on, found from the per-day counts, rather than after every earlier row.
pub fn list(
    db: &Db,
    campaign_id: i64,
    f: &Filters,
    page: Option<Pagination>,
) -> Result<List<Recording>, ApiError> {
    db.snapshot(|| list_in(db, campaign_id, f, page))
}

fn list_in(
    db: &Db,
    campaign_id: i64,
    f: &Filters,
    page: Option<Pagination>,
) -> Result<List<Recording>, ApiError> {
    check_campaign(db, campaign_id)?;
    let mut clauses = vec!["campaign_id = ?"];
    let mut values = vec![campaign_id.param()];
    if let Some(caller) = f.caller {
        clauses.push("caller = ?");
        values.push(caller.param());
    }
    if let Some(agent_no) = f.agent_no {
        clauses.push("agent_id = (SELECT id FROM agents WHERE number = ?)");
        values.push(agent_no.param());
    }
    if let Some(cid) = f.cid {
        clauses.push("cid = ?");
        values.push(cid.param());
    }
    let (time, time_values) = f.time.sql("start_time");
    values.extend(time_values);
    let filter = format!("{}{time}", common::text::join(&clauses, " AND "));
    // The kept counts answer when no filter but the agent or the time range is given.
    let counted = f.caller.is_none() && f.cid.is_none();
    let whole_campaign = counted && f.agent_no.is_none() && f.time.is_empty();
    let total = match (counted, f.agent_no, f.time.is_empty()) {
        (true, None, true) => db.count(
            "SELECT COALESCE(SUM(n), 0) FROM recording_day_counts WHERE campaign_id = ?",
            &params![campaign_id],
        )?,
        (true, None, false) => count_in_range(db, campaign_id, &f.time)?,
        (true, Some(agent_no), true) => db.count(
            "SELECT COALESCE((SELECT n FROM recording_agent_counts WHERE campaign_id = ? \
             AND agent_id = (SELECT id FROM agents WHERE number = ?)), 0)",
            &params![campaign_id, agent_no],
        )?,
        _ => db.count(
            &format!("SELECT COUNT(*) FROM recordings WHERE {filter}"),
            &values,
        )?,
    };
    let (limit, offset) = limit_offset(page);
    if offset >= total {
        return Ok(List {
            total,
            items: Vec::new(),
        });
    }
    if whole_campaign && offset >= SEEK_FROM {
        if let Some((day, skip)) = day_of(db, campaign_id, offset)? {
            // The rows before that day are `offset - skip`: start there.
            let keys = "SELECT rowid AS id FROM recordings WHERE campaign_id = ? \
                        AND start_time >= ? ORDER BY start_time, cid";
            let items = rows(db, keys, params![campaign_id, day].to_vec(), limit, skip)?;
            return Ok(List { total, items });
        }
    }
    let keys =
        format!("SELECT rowid AS id FROM recordings WHERE {filter} ORDER BY start_time, cid");
    let items = rows(db, &keys, values, limit, offset)?;
    Ok(List { total, items })
}

/// How many of a campaign's recordings start in `time`: the whole days inside it from the
/// per-day counts, the one or two days it cuts into from the index, in one statement.
fn count_in_range(db: &Db, campaign_id: i64, time: &TimeRange) -> Result<i64, ApiError> {
    if let (Some(from), Some(until)) = (&time.from, &time.until) {
        if from >= until {
            return Ok(0);
        }
    }
    // Stored times are `YYYY-MM-DD HH:MM:SS`: a day's rows sort from `YYYY-MM-DD` to
    // `YYYY-MM-DD~`, and rows without a start time are counted under the day ''.
    let day = |t: &String| t.get(..10).unwrap_or(t).to_string();
    let first_day = time.from.as_ref().map(day);
    let last_day = time.until.as_ref().map(day);
    let mut sql = String::from(
        "SELECT (SELECT COALESCE(SUM(n), 0) FROM recording_day_counts \
         WHERE campaign_id = ? AND day > ? AND day < ?)",
    );
    let mut values = params![
        campaign_id,
        first_day.clone().unwrap_or_default(),
        last_day.clone().unwrap_or_else(|| "~".into())
    ]
    .to_vec();
    let mut edge = |from: &str, until: &str| {
        sql.push_str(
            " + (SELECT COUNT(*) FROM recordings \
             WHERE campaign_id = ? AND start_time >= ? AND start_time < ?)",
        );
        values.extend(params![campaign_id, from, until]);
    };
    if let (Some(from), Some(first_day)) = (&time.from, &first_day) {
        let end_of_day = format!("{first_day}~");
        let until = match &time.until {
            Some(until) if *until < end_of_day => until.clone(),
            _ => end_of_day,
        };
        edge(from, &until);
    }
    if let (Some(until), Some(last_day)) = (&time.until, &last_day) {
        if first_day.as_ref() != Some(last_day) {
            edge(last_day, until);
        }
    }
    db.count(&sql, &values)
}

/// From this offset on, a page of a whole campaign starts at its day (below, the rows are
/// few enough to step over).
const SEEK_FROM: i64 = 2000;

/// The day (`YYYY-MM-DD`) of the campaign's row at `offset` in list order, and how many rows
/// of that day come before it; `None` when it falls among the rows without a start time (they
/// come first), or past the end.
fn day_of(db: &Db, campaign_id: i64, offset: i64) -> Result<Option<(String, i64)>, ApiError> {
    let days = db.query(
        "SELECT day, n FROM recording_day_counts WHERE campaign_id = ? ORDER BY day",
        &params![campaign_id],
    )?;
    let mut before = 0;
    for row in days.iter() {
        let n = row.int("n")?;
        if offset < before + n {
            let day = row.text("day")?;
            return Ok((!day.is_empty()).then_some((day, offset - before)));
        }
        before += n;
    }
    Ok(None)
}

/// A campaign's recordings whose caller, or whose agent's number, is exactly `key`, in the
/// time range: the two index searches merged in list order (each index is already in that
/// order), stopped after the page. The total: the caller's matches, plus the agent's (kept
/// counts when there is no time range), less those that are both.
pub fn search(
    db: &Db,
    campaign_id: i64,
    key: &str,
    time: &TimeRange,
    page: Option<Pagination>,
) -> Result<List<Recording>, ApiError> {
    db.snapshot(|| search_in(db, campaign_id, key, time, page))
}

fn search_in(
    db: &Db,
    campaign_id: i64,
    key: &str,
    time: &TimeRange,
    page: Option<Pagination>,
) -> Result<List<Recording>, ApiError> {
    check_campaign(db, campaign_id)?;
    let agent = db.query_one(
        "SELECT id FROM agents WHERE number = ?",
        &params![key],
        |row| row.int("id"),
    )?;
    let (range, range_values) = time.sql("start_time");
    let with_range = |mut values: Vec<SqlValue>| {
        values.extend(range_values.iter().cloned());
        values
    };
    let by_caller = format!(
        "SELECT rowid AS id, start_time, cid FROM recordings \
         WHERE campaign_id = ? AND caller = ?{range}"
    );
    let caller_values = with_range(params![campaign_id, key].to_vec());
    let callers = db.count(
        &format!("SELECT COUNT(*) FROM recordings WHERE campaign_id = ? AND caller = ?{range}"),
        &caller_values,
    )?;
    let (limit, offset) = limit_offset(page);
    let Some(agent) = agent else {
        let keys = format!("{by_caller} ORDER BY start_time, cid");
        let items = rows(db, &keys, caller_values, limit, offset)?;
        return Ok(List {
            total: callers,
            items,
        });
    };
    let agent_values = with_range(params![campaign_id, agent].to_vec());
    let agents = if time.is_empty() {
        db.count(
            "SELECT COALESCE((SELECT n FROM recording_agent_counts \
             WHERE campaign_id = ? AND agent_id = ?), 0)",
            &params![campaign_id, agent],
        )?
    } else {
        db.count(
            &format!(
                "SELECT COUNT(*) FROM recordings WHERE campaign_id = ? AND agent_id = ?{range}"
            ),
            &agent_values,
        )?
    };
    let by_agent = format!(
        "SELECT rowid AS id, start_time, cid FROM recordings \
         WHERE campaign_id = ? AND agent_id = ?{range}"
    );
    // The usual case: an agent's number that no caller has. Its index alone is cheaper to
    // step through than the merge (a deep page of an agent's recordings: 4x, measured).
    if callers == 0 {
        let keys = format!("{by_agent} ORDER BY start_time, cid");
        let items = rows(db, &keys, agent_values, limit, offset)?;
        return Ok(List {
            total: agents,
            items,
        });
    }
    let both = db.count(
        &format!(
            "SELECT COUNT(*) FROM recordings \
             WHERE campaign_id = ? AND caller = ? AND agent_id = ?{range}"
        ),
        &with_range(params![campaign_id, key, agent].to_vec()),
    )?;
    let keys = format!("{by_caller} UNION {by_agent} ORDER BY start_time, cid");
    let mut values = caller_values;
    values.extend(agent_values);
    let items = rows(db, &keys, values, limit, offset)?;
    Ok(List {
        total: callers + agents - both,
        items,
    })
}

/// `LIMIT` and `OFFSET` of a page (the whole list: no limit).
fn limit_offset(page: Option<Pagination>) -> (i64, i64) {
    match page {
        Some(p) => (p.size, (p.page - 1).saturating_mul(p.size)),
        None => (-1, 0),
    }
}

/// The recordings whose rowids `keys` gives (a query of an `id` column, in list order), from
/// `offset`, at most `limit` (-1: all): the page's keys first, from an index alone, then only
/// the page's rows and agents.
fn rows(
    db: &Db,
    keys: &str,
    mut values: Vec<SqlValue>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Recording>, ApiError> {
    values.extend(params![limit, offset]);
    db.query(
        &format!(
            "{COLUMNS} FROM ({keys} LIMIT ? OFFSET ?) p \
             JOIN recordings r ON r.rowid = p.id JOIN agents a ON a.id = r.agent_id \
             ORDER BY {ORDER}"
        ),
        &values,
    )?
    .map(read)
}
