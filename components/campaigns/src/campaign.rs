//! The recording campaign: its representation, its validation rules, and all its SQL.

use common::{
    body::{self, field, Field, Kind},
    dates,
    db::{Db, Param, Row, Value as SqlValue},
    pagination::Pagination,
    params,
    query::{any, flag, parse_flag, whole, Query},
    resource::Changes,
    ApiError, List,
};
use serde::{Deserialize, Serialize};

/// A campaign as the API shows it; the queue's keys appear when it has a queue.
#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: i64,
    pub campaign_name: String,
    pub activated: bool,
    pub base_filename: String,
    pub queue_id: Option<i64>,
    pub start_date: String,
    pub end_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_number: Option<String>,
    /// Days a recording is kept after its end; shown only when set, so a 2013 client sees
    /// its campaigns as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<i64>,
    /// The row's version, for its `ETag`; not part of the representation.
    #[serde(skip)]
    pub version: i64,
}

/// Dates are strings here; one that does not parse is `invalid_date_format`, not an
/// incorrect parameter.
pub const FIELDS: &[Field] = &[
    field("id", Kind::ReadOnly),
    field("campaign_name", Kind::Text),
    field("activated", Kind::Bool),
    field("base_filename", Kind::Text),
    field("queue_id", Kind::OptInt),
    field("start_date", Kind::Text),
    field("end_date", Kind::Text),
    field("queue_name", Kind::ReadOnly),
    field("queue_display_name", Kind::ReadOnly),
    field("queue_number", Kind::ReadOnly),
    field("retention_days", Kind::Custom(retention_days)),
];

/// `retention_days`: a positive whole number of days (a JSON number: the key is new, no 2013
/// client writes it as a string), or null (keep forever).
fn retention_days(value: &serde_json::Value) -> Option<serde_json::Value> {
    match value {
        serde_json::Value::Null => Some(serde_json::Value::Null),
        serde_json::Value::Number(_) => body::integer(value)
            .filter(|days| *days > 0)
            .map(serde_json::Value::from),
        _ => None,
    }
}

pub const REQUIRED: &[&str] = &["campaign_name", "activated", "base_filename"];

const COLUMNS: &str = "SELECT c.id, c.campaign_name, c.activated, c.base_filename, c.queue_id, \
    c.start_date, c.end_date, q.name AS queue_name, q.displayname AS queue_display_name, \
    q.number AS queue_number, c.retention_days, c.version";
const FROM: &str = " FROM recording_campaigns c LEFT JOIN queues q ON q.id = c.queue_id";

fn read(row: &Row) -> Result<Campaign, ApiError> {
    Ok(Campaign {
        id: row.int("id")?,
        campaign_name: row.text("campaign_name")?,
        activated: row.bool("activated")?,
        base_filename: row.text("base_filename")?,
        queue_id: row.opt_int("queue_id")?,
        start_date: row.text("start_date")?,
        end_date: row.text("end_date")?,
        queue_name: row.opt_text("queue_name")?,
        queue_display_name: row.opt_text("queue_display_name")?,
        queue_number: row.opt_text("queue_number")?,
        retention_days: row.opt_int("retention_days")?,
        version: row.int("version")?,
    })
}

/// The list's filters, combined with AND.
#[derive(Default, Debug)]
pub struct Filters {
    campaign_name: Option<String>,
    queue_id: Option<i64>,
    queue_number: Option<String>,
    activated: Option<bool>,
    base_filename: Option<String>,
    /// `true`: start ≤ now ≤ end; `false`: not so.
    running: Option<bool>,
}

impl Filters {
    /// Any other parameter, or a value of the wrong kind, is an incorrect parameter; every one
    /// is named, in the order sent, with those of the pagination.
    pub fn from_query(q: &Query) -> Result<Self, ApiError> {
        let [page, size] = Pagination::RULES;
        q.check(&[
            page,
            size,
            ("campaign_name", any),
            ("queue_id", whole),
            ("queue_number", any),
            ("activated", flag),
            ("base_filename", any),
            ("running", flag),
        ])?;
        let text = |name| q.get(name).map(str::to_string);
        Ok(Self {
            campaign_name: text("campaign_name"),
            queue_id: q.get("queue_id").and_then(body::parse_whole),
            queue_number: text("queue_number"),
            activated: q.get("activated").and_then(parse_flag),
            base_filename: text("base_filename"),
            running: q.get("running").and_then(parse_flag),
        })
    }
}

/// The WHERE clause of the list, from fixed fragments, and its bound parameters. The
/// recording hook's query (`queue_id`, `activated`, `running`) is a search of the
/// `recording_campaigns_queue` index.
fn filter_sql(f: &Filters) -> (String, Vec<SqlValue>) {
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    if let Some(name) = &f.campaign_name {
        clauses.push("c.campaign_name = ?");
        values.push(name.param());
    }
    if let Some(queue) = f.queue_id {
        clauses.push("c.queue_id = ?");
        values.push(queue.param());
    }
    if let Some(number) = &f.queue_number {
        clauses.push("c.queue_id IN (SELECT id FROM queues WHERE number = ?)");
        values.push(number.param());
    }
    if let Some(activated) = f.activated {
        clauses.push("c.activated = ?");
        values.push(activated.param());
    }
    if let Some(base) = &f.base_filename {
        clauses.push("c.base_filename = ?");
        values.push(base.param());
    }
    if let Some(running) = f.running {
        clauses.push(if running {
            "c.start_date <= ? AND c.end_date >= ?"
        } else {
            "NOT (c.start_date <= ? AND c.end_date >= ?)"
        });
        let now = dates::now();
        values.push(now.param());
        values.push(now.param());
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, values)
}

pub fn list(
    db: &Db,
    filters: &Filters,
    page: Option<Pagination>,
) -> Result<List<Campaign>, ApiError> {
    let (filter, values) = filter_sql(filters);
    let (total, rows) = db.list(COLUMNS, &format!("{FROM}{filter}"), "c.id", &values, page)?;
    Ok(List {
        total,
        items: rows.map(read)?,
    })
}

pub fn get(db: &Db, id: i64) -> Result<Option<Campaign>, ApiError> {
    db.query_one(
        &format!("{COLUMNS}{FROM} WHERE c.id = ?"),
        &params![id],
        read,
    )
}

/// Create from the checked keys of a body; missing dates are today at 00:00:00. Checked and
/// written in one transaction, so two concurrent creations cannot both pass the checks.
pub fn create(db: &Db, changes: &Changes) -> Result<i64, ApiError> {
    let today = dates::today_midnight();
    let blank = Campaign {
        start_date: today.clone(),
        end_date: today,
        ..Campaign::default()
    };
    let mut campaign = body::apply(&blank, changes)?;
    db.transaction(|| {
        validate(db, &mut campaign, None)?;
        db.insert(
            "INSERT INTO recording_campaigns (campaign_name, activated, base_filename, queue_id, \
             start_date, end_date, retention_days) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &columns(&campaign),
        )
    })
}

/// Apply the keys sent over `before` and store the result, if it passes validation; the
/// version grows when a column changes. Runs in the caller's transaction.
pub fn update(db: &Db, before: &Campaign, changes: &Changes) -> Result<(), ApiError> {
    let mut campaign = body::apply(before, changes)?;
    validate(db, &mut campaign, Some(before.id))?;
    let values = columns(&campaign);
    let mut params = values.to_vec();
    params.push(before.id.param());
    params.extend(values);
    db.execute(
        "UPDATE recording_campaigns SET campaign_name = ?, activated = ?, base_filename = ?, \
         queue_id = ?, start_date = ?, end_date = ?, retention_days = ?, \
         version = version + 1 WHERE id = ? \
         AND NOT (campaign_name IS ? AND activated IS ? AND base_filename IS ? \
         AND queue_id IS ? AND start_date IS ? AND end_date IS ? AND retention_days IS ?)",
        &params,
    )
}

/// 412 `campaign_not_empty` while it has recordings. Runs in the caller's transaction.
pub fn delete(db: &Db, id: i64) -> Result<(), ApiError> {
    if db.exists(
        "SELECT COUNT(*) FROM recordings WHERE campaign_id = ?",
        &params![id],
    )? {
        return Err(ApiError::precondition_failed("campaign_not_empty"));
    }
    db.execute("DELETE FROM recording_campaigns WHERE id = ?", &params![id])
}

/// The 2013 rules, in their order: `empty_name`; `start_greater_than_end`, or else
/// `concurrent_campaigns` (another campaign of the same queue whose interval strictly
/// intersects this one; touching is allowed); `duplicated_name`; `invalid_date_format`.
/// Then a `queue_id` that names no queue. Dates are rewritten in the stored form.
fn validate(db: &Db, c: &mut Campaign, id: Option<i64>) -> Result<(), ApiError> {
    let mut codes = Vec::new();
    let named = !c.campaign_name.trim().is_empty();
    if !named {
        codes.push("empty_name");
    }
    let (start, end) = (dates::parse(&c.start_date), dates::parse(&c.end_date));
    if let (Some(start), Some(end)) = (start, end) {
        c.start_date = dates::format(start);
        c.end_date = dates::format(end);
        if start > end {
            codes.push("start_greater_than_end");
        } else if let Some(queue) = c.queue_id {
            let overlapping = db.count(
                "SELECT COUNT(*) FROM recording_campaigns \
                 WHERE queue_id = ? AND id IS NOT ? AND start_date < ? AND end_date > ?",
                &params![queue, id, c.end_date, c.start_date],
            )?;
            if overlapping > 0 {
                codes.push("concurrent_campaigns");
            }
        }
    }
    let taken = db.count(
        "SELECT COUNT(*) FROM recording_campaigns WHERE campaign_name = ? AND id IS NOT ?",
        &params![c.campaign_name, id],
    )?;
    if named && taken > 0 {
        codes.push("duplicated_name");
    }
    if start.is_none() || end.is_none() {
        codes.push("invalid_date_format");
    }
    if !codes.is_empty() {
        return Err(ApiError::BadRequest(
            codes.into_iter().map(String::from).collect(),
        ));
    }
    if let Some(queue) = c.queue_id {
        if !db.exists("SELECT COUNT(*) FROM queues WHERE id = ?", &params![queue])? {
            return Err(ApiError::incorrect_parameters(&["queue_id"]));
        }
    }
    Ok(())
}

/// The stored columns, in the order of the INSERT and UPDATE statements.
fn columns(c: &Campaign) -> [SqlValue; 7] {
    params![
        c.campaign_name,
        c.activated,
        c.base_filename,
        c.queue_id,
        c.start_date,
        c.end_date,
        c.retention_days,
    ]
}
