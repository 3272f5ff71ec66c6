//! The recording campaign: its representation, its validation rules, and all its SQL.

use common::{
    body::{self, field, Field, Kind},
    dates,
    db::{Db, Param, Row, Value as SqlValue},
    error::Refusal,
    listing::{Listing, Selection},
    pagination::Pagination,
    params,
    query::{any, flag, parse_flag, whole, Query},
    resource::{new_id, Changes},
    ApiError, List,
};
use serde::Serialize;

/// A campaign as the API shows it; the queue's keys appear when it has a queue.
#[derive(Serialize, Default, Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: i64,
    pub campaign_name: String,
    pub activated: bool,
    pub base_filename: String,
    pub queue_id: Option<i64>,
    pub start_date: String,
    pub end_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_number: Option<String>,
    /// Days a recording is kept after its end; shown only when set, so a 2013 client sees
    /// its campaigns as before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<i64>,
    /// The row's version, for its `ETag`; not part of the representation.
    #[serde(skip)]
    pub version: i64,
}

// What a body may write: the keys of `FIELDS` that are not read-only.
common::assign!(Campaign {
    campaign_name,
    activated,
    base_filename,
    queue_id,
    start_date,
    end_date,
    retention_days,
});

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

/// Searched: name, base file name (`migrations/0014_lists.sql`). Filtered by [`Filters`].
const LISTING: Listing = Listing {
    alias: "c",
    search: "recording_campaigns_search",
    order: &["id", "campaign_name", "start_date", "end_date"],
    default_order: &["id"],
    filters: &[],
};

/// The list's filters, combined with AND, and its search and order.
#[derive(Default, Debug)]
pub struct Filters {
    selection: Selection,
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
        LISTING.check(
            q,
            &[
                ("campaign_name", any),
                ("queue_id", whole),
                ("queue_number", any),
                ("activated", flag),
                ("base_filename", any),
                ("running", flag),
            ],
        )?;
        let text = |name| q.get(name).map(str::to_string);
        Ok(Self {
            selection: LISTING.select(q),
            campaign_name: text("campaign_name"),
            queue_id: q.get("queue_id").and_then(body::parse_whole),
            queue_number: text("queue_number"),
            activated: q.get("activated").and_then(parse_flag),
            base_filename: text("base_filename"),
            running: q.get("running").and_then(parse_flag),
        })
    }
}

/// The list's `FROM` with its search and filters, from fixed fragments, and its bound
/// parameters. The recording hook's query (`queue_id`, `activated`, `running`) is a search of
/// the `recording_campaigns_queue` index.
fn filter_sql(f: &Filters) -> (String, Vec<SqlValue>) {
    let mut selection = f.selection.clone();
    let (clauses, values) = (&mut selection.clauses, &mut selection.values);
    if let Some(name) = &f.campaign_name {
        clauses.push("c.campaign_name = ?".into());
        values.push(name.param());
    }
    if let Some(queue) = f.queue_id {
        clauses.push("c.queue_id = ?".into());
        values.push(queue.param());
    }
    if let Some(number) = &f.queue_number {
        clauses.push("c.queue_id IN (SELECT id FROM queues WHERE number = ?)".into());
        values.push(number.param());
    }
    if let Some(activated) = f.activated {
        clauses.push("c.activated = ?".into());
        values.push(activated.param());
    }
    if let Some(base) = &f.base_filename {
        clauses.push("c.base_filename = ?".into());
        values.push(base.param());
    }
    if let Some(running) = f.running {
        clauses.push(
            if running {
                "c.start_date <= ? AND c.end_date >= ?"
            } else {
                "NOT (c.start_date <= ? AND c.end_date >= ?)"
            }
            .into(),
        );
        let now = dates::now();
        values.push(now.param());
        values.push(now.param());
    }
    let from = selection.from(FROM);
    (from, selection.values)
}

pub fn list(
    db: &Db,
    filters: &Filters,
    page: Option<Pagination>,
) -> Result<List<Campaign>, ApiError> {
    let (from, values) = filter_sql(filters);
    let order = &filters.selection.order;
    let (total, rows) = db.list(COLUMNS, &from, order, &values, page)?;
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

/// Create from the checked keys of a body; missing dates are today at 00:00:00. Checked by
/// reads, then written by one statement, which the schema refuses when a concurrent creation
/// got in between (a unique name, triggers for the dates and overlaps), answered as the
/// checks would have.
pub fn create(db: &Db, changes: &Changes) -> Result<i64, ApiError> {
    let today = dates::today_midnight();
    let blank = Campaign {
        start_date: today.clone(),
        end_date: today,
        ..Campaign::default()
    };
    let mut campaign = body::apply(&blank, changes)?;
    validate(db, &mut campaign, None)?;
    let sql = format!(
        "INSERT INTO recording_campaigns ({}) VALUES ({}) RETURNING id",
        common::text::join(&COLUMN_NAMES, ", "),
        common::text::join(&["?"; COLUMN_NAMES.len()], ", ")
    );
    let created = db.write(&sql, &columns(&campaign)).map_err(refused)?;
    new_id(&created)
}

/// Apply the keys sent over `before`, validate the result, and store the keys sent, in one
/// statement; the version grows when a column changes. `guard`: only while the campaign is
/// at that version (`If-Match`). `None` when nothing was written (gone, or past `guard`).
pub fn update(
    db: &Db,
    before: &Campaign,
    changes: &Changes,
    guard: Option<i64>,
) -> Result<Option<()>, ApiError> {
    let mut campaign = body::apply(before, changes)?;
    validate(db, &mut campaign, Some(before.id))?;
    let new = columns(&campaign);
    let sent: Vec<usize> = (0..COLUMN_NAMES.len())
        .filter(|&i| changes.contains_key(COLUMN_NAMES[i]))
        .collect();
    if sent.is_empty() {
        return Ok(Some(()));
    }
    let sets: Vec<String> = sent
        .iter()
        .map(|&i| format!("{} = ?", COLUMN_NAMES[i]))
        .collect();
    let kept: Vec<String> = sent
        .iter()
        .map(|&i| format!("{} IS ?", COLUMN_NAMES[i]))
        .collect();
    let sql = format!(
        "UPDATE recording_campaigns SET {}, version = version + NOT ({}) WHERE id = ?{} \
         RETURNING id",
        common::text::join(&sets, ", "),
        common::text::join(&kept, " AND "),
        if guard.is_some() {
            " AND version = ?"
        } else {
            ""
        }
    );
    let mut params: Vec<SqlValue> = sent.iter().map(|&i| new[i].clone()).collect();
    params.extend(sent.iter().map(|&i| new[i].clone()));
    params.push(before.id.param());
    params.extend(guard.map(|v| v.param()));
    let written = db.write(&sql, &params).map_err(refused)?;
    Ok((!written.is_empty()).then_some(()))
}

/// 412 `campaign_not_empty` while it has recordings; deleted by one statement, which keeps it
/// while recordings have come meanwhile. `false` when nothing was deleted (gone, past `guard`,
/// or recordings came).
pub fn delete(db: &Db, id: i64, guard: Option<i64>) -> Result<bool, ApiError> {
    if db.exists(
        "SELECT COUNT(*) FROM recordings WHERE campaign_id = ?",
        &params![id],
    )? {
        return Err(ApiError::precondition_failed("campaign_not_empty"));
    }
    let mut sql = "DELETE FROM recording_campaigns WHERE id = ?".to_string();
    let mut params = vec![id.param()];
    if let Some(version) = guard {
        sql.push_str(" AND version = ?");
        params.push(version.param());
    }
    sql.push_str(" AND NOT EXISTS (SELECT 1 FROM recordings WHERE campaign_id = ?) RETURNING id");
    params.push(id.param());
    Ok(!db.write(&sql, &params)?.is_empty())
}

/// A write the schema refused, answered as [`validate`] would have.
fn refused(e: ApiError) -> ApiError {
    match e {
        ApiError::Refused(Refusal::Unique(_), _) => {
            ApiError::BadRequest(vec!["duplicated_name".into()])
        }
        ApiError::Refused(Refusal::Rule(code), _) => ApiError::BadRequest(vec![code]),
        ApiError::Refused(Refusal::ForeignKey, _) => ApiError::incorrect_parameters(&["queue_id"]),
        e => e,
    }
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

/// The stored columns, as the body names them, in the order of [`columns`].
const COLUMN_NAMES: [&str; 7] = [
    "campaign_name",
    "activated",
    "base_filename",
    "queue_id",
    "start_date",
    "end_date",
    "retention_days",
];

/// The stored columns' values, in the order of [`COLUMN_NAMES`].
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
