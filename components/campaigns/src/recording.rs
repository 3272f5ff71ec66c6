//! The recording of a call in a campaign: its representation, and the SQL that reads one and
//! writes it (its lists and searches: `recording_list.rs`).

use common::{
    body::{self, field, non_empty_text, Field, Kind},
    dates,
    db::{Db, Param, Row},
    error::Refusal,
    params, ApiError,
};
use serde::Serialize;
use serde_json::Value;

use common::stored_audio::{self, Audio, Leftover};

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

/// A recording as a client posts it: the agent by number (or id), dates in any accepted form.
#[derive(Default, Debug, Clone)]
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

common::assign!(NewRecording {
    cid,
    agent_id,
    agent_no,
    caller,
    callee,
    client_id,
    filename,
    start_time,
    end_time,
});

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

/// An agent's number: a string, or an integer taken as its digits (`2123.0` too, the same
/// number to JSON and to JSON Schema's `integer`).
fn agent_number(value: &Value) -> Option<Value> {
    match value {
        Value::String(_) => Some(value.clone()),
        Value::Number(n) => body::whole(n).map(|n| Value::String(n.to_string())),
        _ => None,
    }
}

pub const COLUMNS: &str =
    "SELECT r.cid, r.campaign_id, r.agent_id, a.number AS agent_no, r.caller, \
    r.callee, r.client_id, r.filename, r.start_time, r.end_time, r.version, r.audio_content_type, \
    r.audio_bytes, r.audio_sha256, r.audio_generation, r.audio_chunk_bytes";
const FROM: &str = " FROM recordings r JOIN agents a ON a.id = r.agent_id";

/// List order: start time, then cid.
pub const ORDER: &str = "r.start_time, r.cid";

pub fn read(row: &Row) -> Result<Recording, ApiError> {
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
        audio: stored_audio::read(row)?,
        version: row.int("version")?,
    })
}

/// One recording of a campaign, by cid.
pub fn get(db: &Db, campaign_id: i64, cid: &str) -> Result<Option<Recording>, ApiError> {
    db.query_one(
        &format!("{COLUMNS}{FROM} WHERE r.cid = ? AND r.campaign_id = ?"),
        &params![cid, campaign_id],
        read,
    )
}

pub fn check_campaign(db: &Db, campaign_id: i64) -> Result<(), ApiError> {
    if db.exists(
        "SELECT COUNT(*) FROM recording_campaigns WHERE id = ?",
        &params![campaign_id],
    )? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
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
    sql.push_str(&format!(" RETURNING {}", stored_audio::COLUMNS));
    let deleted = db.write(&sql, &params)?;
    let Some(row) = deleted.first() else {
        return Ok(None);
    };
    Ok(Some(
        stored_audio::read(&row)?.iter().map(Leftover::of).collect(),
    ))
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
             RETURNING {}",
            stored_audio::COLUMNS
        ),
        &params![campaign_id, cutoff, batch],
    )?;
    let mut leftovers = Vec::new();
    for row in deleted.iter() {
        leftovers.extend(stored_audio::read(&row)?.iter().map(Leftover::of));
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
