//! The recording of a call in a campaign: its representation and all its SQL.

use common::{
    body::{field, non_empty_text, Field, Kind},
    dates,
    db::{Db, Param, Row, Value as SqlValue},
    error::Refusal,
    pagination::Pagination,
    params, ApiError, List,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audio::{self, Leftover};

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Recording {
    pub cid: String,
    pub campaign_id: i64,
    pub agent_id: i64,
    pub agent_no: String,
    pub caller: Option<String>,
    pub callee: Option<String>,
    pub client_id: Option<String>,
    pub filename: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Its audio, once uploaded (beyond the 2013 API). Without audio the key is left out,
    /// so that a recording looks to an old client exactly as it did in 2013.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<Audio>,
    /// The row's version, for its `ETag`; not part of the representation.
    #[serde(skip)]
    pub version: i64,
}

/// A recording's audio, as its recording shows it: `{"content_type", "bytes", "sha256"}`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Audio {
    pub content_type: String,
    pub bytes: u64,
    /// Hex, lower case.
    pub sha256: String,
    /// Where its chunks are in the key-value store ([`crate::audio`]); not shown.
    #[serde(skip)]
    pub generation: String,
    /// The size of its chunks (the last may be shorter), as they were written; not shown.
    #[serde(skip)]
    pub chunk_bytes: u64,
}

impl Audio {
    /// How many chunks hold it.
    pub fn chunks(&self) -> u64 {
        self.bytes.div_ceil(self.chunk_bytes.max(1))
    }
}

/// A recording as a client posts it: the agent by number (or id), dates in any accepted form.
#[derive(Serialize, Deserialize, Default, Debug)]
pub struct NewRecording {
    pub cid: String,
    pub agent_id: Option<i64>,
    pub agent_no: Option<String>,
    pub caller: Option<String>,
    pub callee: Option<String>,
    pub client_id: Option<String>,
    pub filename: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
}

/// `campaign_id` is read-only: the URL's campaign wins.
pub const FIELDS: &[Field] = &[
    field("cid", Kind::Custom(non_empty_text)),
    field("campaign_id", Kind::ReadOnly),
    field("agent_id", Kind::OptInt),
    field("agent_no", Kind::Custom(agent_number)),
    field("caller", Kind::OptText),
    field("callee", Kind::OptText),
    field("client_id", Kind::OptText),
    field("filename", Kind::OptText),
    field("start_time", Kind::Custom(dates::field)),
    field("end_time", Kind::Custom(dates::field)),
];

/// An agent's number: a string, or an integer taken as its digits.
fn agent_number(value: &Value) -> Option<Value> {
    match value {
        Value::String(_) => Some(value.clone()),
        Value::Number(n) if n.is_i64() => Some(Value::String(n.to_string())),
        _ => None,
    }
}

const COLUMNS: &str = "SELECT r.cid, r.campaign_id, r.agent_id, a.number AS agent_no, r.caller, \
    r.callee, r.client_id, r.filename, r.start_time, r.end_time, r.version, r.audio_content_type, \
    r.audio_bytes, r.audio_sha256, r.audio_generation, r.audio_chunk_bytes";
const FROM: &str = " FROM recordings r JOIN agents a ON a.id = r.agent_id";

/// List order: start time, then cid.
const ORDER: &str = "r.start_time, r.cid";

fn read(row: &Row) -> Result<Recording, ApiError> {
    Ok(Recording {
        cid: row.text("cid")?,
        campaign_id: row.int("campaign_id")?,
        agent_id: row.int("agent_id")?,
        agent_no: row.text("agent_no")?,
        caller: row.opt_text("caller")?,
        callee: row.opt_text("callee")?,
        client_id: row.opt_text("client_id")?,
        filename: row.opt_text("filename")?,
        start_time: row.opt_text("start_time")?,
        end_time: row.opt_text("end_time")?,
        audio: read_audio(row)?,
        version: row.int("version")?,
    })
}

/// A row's audio, if it has one. A chunk size of NULL is an audio written before chunk sizes
/// were kept (migration 0009), in chunks of [`audio::DEFAULT_CHUNK_BYTES`].
fn read_audio(row: &Row) -> Result<Option<Audio>, ApiError> {
    let Some(generation) = row.opt_text("audio_generation")? else {
        return Ok(None);
    };
    Ok(Some(Audio {
        content_type: row.text("audio_content_type")?,
        bytes: u64::try_from(row.int("audio_bytes")?).unwrap_or(0),
        sha256: row.text("audio_sha256")?,
        generation,
        chunk_bytes: row
            .opt_int("audio_chunk_bytes")?
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(audio::DEFAULT_CHUNK_BYTES),
    }))
}

/// One recording of a campaign, by cid.
pub fn get(db: &Db, campaign_id: i64, cid: &str) -> Result<Option<Recording>, ApiError> {
    db.query_one(
        &format!("{COLUMNS}{FROM} WHERE r.cid = ? AND r.campaign_id = ?"),
        &params![cid, campaign_id],
        read,
    )
}

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
    let filter = format!("{}{time}", clauses.join(" AND "));
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

fn check_campaign(db: &Db, campaign_id: i64) -> Result<(), ApiError> {
    if db.exists(
        "SELECT COUNT(*) FROM recording_campaigns WHERE id = ?",
        &params![campaign_id],
    )? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
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

/// Add a recording to an existing campaign: the agent must exist (`No such agent`), the cid
/// must be new. Checked by reads, then written by one statement ([`Db::write`]), which the
/// schema refuses when things changed in between: a cid taken is the same 400, a campaign or
/// an agent deleted meanwhile a foreign key (404 and `No such agent`).
pub fn add(db: &Db, campaign_id: i64, new: NewRecording) -> Result<(), ApiError> {
    let agent = match (&new.agent_no, new.agent_id) {
        (Some(number), _) => {
            db.query("SELECT id FROM agents WHERE number = ?", &params![number])?
        }
        (None, Some(id)) => db.query("SELECT id FROM agents WHERE id = ?", &params![id])?,
        (None, None) => return Err(ApiError::missing_parameters(&["agent_no"])),
    };
    let agent_id = match agent.first() {
        Some(row) => row.int("id")?,
        None => return Err(ApiError::bad_request("No such agent")),
    };
    if db.exists(
        "SELECT COUNT(*) FROM recordings WHERE cid = ?",
        &params![new.cid],
    )? {
        return Err(ApiError::incorrect_parameters(&["cid"]));
    }
    let written = db.write(
        "INSERT INTO recordings (cid, campaign_id, agent_id, caller, callee, client_id, filename, \
         start_time, end_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &params![
            new.cid,
            campaign_id,
            agent_id,
            new.caller,
            new.callee,
            new.client_id,
            new.filename,
            new.start_time,
            new.end_time,
        ],
    );
    match written {
        Err(ApiError::Refused(Refusal::Unique(_), _)) => {
            Err(ApiError::incorrect_parameters(&["cid"]))
        }
        Err(ApiError::Refused(Refusal::ForeignKey, _)) => {
            check_campaign(db, campaign_id)?;
            Err(ApiError::bad_request("No such agent"))
        }
        written => written.map(drop),
    }
}

/// The audio columns a statement returns, for [`read_audio`].
const AUDIO_COLUMNS: &str =
    "audio_content_type, audio_bytes, audio_sha256, audio_generation, audio_chunk_bytes";

/// Delete an existing recording, in one statement; `guard`: only while it is at that
/// version. Its audio, if any, becomes a leftover (a trigger, `migrations/0010_...`), whose
/// chunks the caller removes. `None` when nothing was deleted (gone, or past `guard`).
pub fn delete(
    db: &Db,
    existing: &Recording,
    guard: Option<i64>,
) -> Result<Option<Vec<Leftover>>, ApiError> {
    let mut sql = "DELETE FROM recordings WHERE campaign_id = ? AND cid = ?".to_string();
    let mut params = params![existing.campaign_id, existing.cid].to_vec();
    if let Some(version) = guard {
        sql.push_str(" AND version = ?");
        params.push(version.param());
    }
    sql.push_str(&format!(" RETURNING {AUDIO_COLUMNS}"));
    let deleted = db.write(&sql, &params)?;
    let Some(row) = deleted.first() else {
        return Ok(None);
    };
    Ok(Some(read_audio(&row)?.iter().map(Leftover::of).collect()))
}

/// Set (or, with `None`, remove) a recording's audio, in one statement, only while its audio
/// is still `was` (its generation) and, when setting, while the new audio's chunks are still
/// the upload's own (their leftovers row, which a later upload's clearing takes away); its
/// version moves on, and the audio it had becomes a leftover (a trigger). `false` when the
/// recording is gone or either condition failed.
pub fn set_audio(
    db: &Db,
    campaign_id: i64,
    cid: &str,
    audio: Option<&Audio>,
    was: Option<&str>,
) -> Result<bool, ApiError> {
    let written = db.write(
        "UPDATE recordings SET audio_content_type = ?, audio_bytes = ?, audio_sha256 = ?, \
         audio_generation = ?, audio_chunk_bytes = ?, version = version + 1 \
         WHERE campaign_id = ? AND cid = ? AND audio_generation IS ? \
         AND (? IS NULL OR EXISTS (SELECT 1 FROM audio_leftovers WHERE generation = ?)) \
         RETURNING cid",
        &params![
            audio.map(|a| a.content_type.as_str()),
            audio.map(|a| i64::try_from(a.bytes).unwrap_or(i64::MAX)),
            audio.map(|a| a.sha256.as_str()),
            audio.map(|a| a.generation.as_str()),
            audio.map(|a| i64::try_from(a.chunk_bytes).unwrap_or(i64::MAX)),
            campaign_id,
            cid,
            was,
            audio.map(|a| a.generation.as_str()),
            audio.map(|a| a.generation.as_str()),
        ],
    )?;
    Ok(!written.is_empty())
}

/// What one purge did: how many expired recordings it deleted, and how many are left.
#[derive(Serialize, Debug, PartialEq, Default)]
pub struct Purged {
    pub deleted: usize,
    pub remaining: i64,
    /// The audio of the deleted recordings, for the caller to remove after the commit.
    #[serde(skip)]
    pub leftovers: Vec<Leftover>,
}

/// Delete at most `batch` recordings of the campaign that ended more than `retention_days`
/// days ago (a recording without an end is kept), oldest first, by the
/// `recordings_campaign_end` index, so a purge costs its batch, not the campaign's size. One
/// statement deletes; their audio becomes leftovers (a trigger), for the caller to remove.
pub fn purge(
    db: &Db,
    campaign_id: i64,
    retention_days: i64,
    batch: i64,
) -> Result<Purged, ApiError> {
    let Some(cutoff) = dates::days_ago(retention_days) else {
        return Ok(Purged::default());
    };
    let deleted = db.write(
        &format!(
            "DELETE FROM recordings WHERE rowid IN (SELECT rowid FROM recordings \
             WHERE campaign_id = ? AND end_time < ? ORDER BY end_time LIMIT ?) \
             RETURNING {AUDIO_COLUMNS}"
        ),
        &params![campaign_id, cutoff, batch],
    )?;
    let mut leftovers = Vec::new();
    for row in deleted.iter() {
        leftovers.extend(read_audio(&row)?.iter().map(Leftover::of));
    }
    let remaining = db.count(
        "SELECT COUNT(*) FROM recordings WHERE campaign_id = ? AND end_time < ?",
        &params![campaign_id, cutoff],
    )?;
    Ok(Purged {
        deleted: deleted.len(),
        remaining,
        leftovers,
    })
}
