//! The queue resource: its representation, the keys a body may hold, and all its SQL.

use common::{
    body::{field, non_empty_text, Field, Kind},
    db::{Db, Param, Row, Value as SqlValue},
    pagination::Pagination,
    params,
    query::Query,
    resource::{Changes, Resource},
    ApiError,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
pub struct Queue {
    pub id: i64,
    pub name: String,
    pub displayname: String,
    pub number: String,
    pub context: String,
    pub data_quality: i64,
    pub hitting_callee: i64,
    pub hitting_caller: i64,
    pub retries: i64,
    pub ring: i64,
    pub transfer_user: i64,
    pub transfer_call: i64,
    pub write_caller: i64,
    pub write_calling: i64,
    pub url: String,
    pub announceoverride: String,
    pub timeout: i64,
    pub preprocess_subroutine: Option<String>,
    pub announce_holdtime: i64,
    pub waittime: i64,
    pub waitratio: f64,
}

impl Queue {
    pub const PATH: &'static str = "/1.0/CallCenter/queues";
}

const SELECT: &str = "SELECT id, name, displayname, number, context, data_quality, \
    hitting_callee, hitting_caller, retries, ring, transfer_user, transfer_call, write_caller, \
    write_calling, url, announceoverride, timeout, preprocess_subroutine, announce_holdtime, \
    waittime, waitratio FROM queues";

fn read(row: &Row) -> Result<Queue, ApiError> {
    Ok(Queue {
        id: row.int("id")?,
        name: row.text("name")?,
        displayname: row.text("displayname")?,
        number: row.text("number")?,
        context: row.text("context")?,
        data_quality: row.int("data_quality")?,
        hitting_callee: row.int("hitting_callee")?,
        hitting_caller: row.int("hitting_caller")?,
        retries: row.int("retries")?,
        ring: row.int("ring")?,
        transfer_user: row.int("transfer_user")?,
        transfer_call: row.int("transfer_call")?,
        write_caller: row.int("write_caller")?,
        write_calling: row.int("write_calling")?,
        url: row.text("url")?,
        announceoverride: row.text("announceoverride")?,
        timeout: row.int("timeout")?,
        preprocess_subroutine: row.opt_text("preprocess_subroutine")?,
        announce_holdtime: row.int("announce_holdtime")?,
        waittime: row.int("waittime")?,
        waitratio: row.real("waitratio")?,
    })
}

/// The stored columns, in the order of the INSERT and UPDATE statements.
fn columns(q: &Queue) -> [SqlValue; 20] {
    params![
        q.name,
        q.displayname,
        q.number,
        q.context,
        q.data_quality,
        q.hitting_callee,
        q.hitting_caller,
        q.retries,
        q.ring,
        q.transfer_user,
        q.transfer_call,
        q.write_caller,
        q.write_calling,
        q.url,
        q.announceoverride,
        q.timeout,
        q.preprocess_subroutine,
        q.announce_holdtime,
        q.waittime,
        q.waitratio,
    ]
}

impl Resource for Queue {
    const PATH: &'static str = Queue::PATH;
    const FIELDS: &'static [Field] = &[
        field("id", Kind::ReadOnly),
        field("name", Kind::Custom(non_empty_text)),
        field("displayname", Kind::Text),
        field("number", Kind::Text),
        field("context", Kind::Text),
        field("data_quality", Kind::Int),
        field("hitting_callee", Kind::Int),
        field("hitting_caller", Kind::Int),
        field("retries", Kind::Int),
        field("ring", Kind::Int),
        field("transfer_user", Kind::Int),
        field("transfer_call", Kind::Int),
        field("write_caller", Kind::Int),
        field("write_calling", Kind::Int),
        field("url", Kind::Text),
        field("announceoverride", Kind::Text),
        field("timeout", Kind::Int),
        field("preprocess_subroutine", Kind::OptText),
        field("announce_holdtime", Kind::Int),
        field("waittime", Kind::Int),
        field("waitratio", Kind::Real),
    ];
    const REQUIRED: &'static [&'static str] = &["name"];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[(
        "name",
        "SELECT COUNT(*) FROM queues WHERE name = ? AND id IS NOT ?",
    )];
    /// A bare array sorted by `number` compared as text, as in 2013.
    type List = Vec<Queue>;

    fn list(db: &Db, _: &Query, page: Option<Pagination>) -> Result<Vec<Queue>, ApiError> {
        let rows = db.query(
            &format!("{SELECT} ORDER BY number, id LIMIT ? OFFSET ?"),
            &Pagination::limit_offset(page),
        )?;
        rows.map(read)
    }

    fn get(db: &Db, id: i64) -> Result<Option<Queue>, ApiError> {
        db.query_one(&format!("{SELECT} WHERE id = ?"), &params![id], read)
    }

    fn insert(db: &Db, q: &Queue, _: &Changes) -> Result<i64, ApiError> {
        db.insert(
            "INSERT INTO queues (name, displayname, number, context, data_quality, \
             hitting_callee, hitting_caller, retries, ring, transfer_user, transfer_call, \
             write_caller, write_calling, url, announceoverride, timeout, preprocess_subroutine, \
             announce_holdtime, waittime, waitratio) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &columns(q),
        )
    }

    fn update(db: &Db, id: i64, _: &Queue, after: &Queue, _: &Changes) -> Result<(), ApiError> {
        let mut values = columns(after).to_vec();
        values.push(id.param());
        db.execute(
            "UPDATE queues SET name = ?, displayname = ?, number = ?, context = ?, \
             data_quality = ?, hitting_callee = ?, hitting_caller = ?, retries = ?, ring = ?, \
             transfer_user = ?, transfer_call = ?, write_caller = ?, write_calling = ?, url = ?, \
             announceoverride = ?, timeout = ?, preprocess_subroutine = ?, \
             announce_holdtime = ?, waittime = ?, waitratio = ? WHERE id = ?",
            &values,
        )
    }

    /// The queue's campaigns stay, with `queue_id` null (the foreign key's ON DELETE SET NULL).
    fn delete(db: &Db, id: i64, _: &Queue, _: &Query) -> Result<(), ApiError> {
        db.execute("DELETE FROM queues WHERE id = ?", &params![id])
    }
}
