//! `GET /1.0/users/export`: every user as CSV, in the columns an import takes (`import.rs`),
//! by id, sent a page of rows at a time as they are read, so that a directory of 100,000 users
//! never sits in memory whole. Pages are read one after another, not as one snapshot: a user
//! written during an export may show as it was or as it became.

use common::{
    csv,
    db::{self, Db, Param, Value as SqlValue},
    http::{Body, Reply, Request, Stream},
    negotiation,
    table::Table,
    ApiError,
};

use crate::import::{user_columns, VOICEMAIL_KEYS};
use crate::user::User;

/// Users a page.
const PAGE: i64 = 1000;

/// 200 `text/csv`, chunked; 406 when `Accept` allows no CSV (`text/csv`, `text/*`, `*/*`:
/// a browser following a link sends `text/html, ..., */*;q=0.8`).
pub fn export(req: &Request, _: Body) -> Result<Reply, ApiError> {
    if !negotiation::accepts(req.header("accept"), "text/csv") {
        return Err(ApiError::NotAcceptable);
    }
    let db = db::open()?;
    let mut header = String::new();
    csv::write_record(&mut header, &columns());
    let mut after = Some(0);
    let pages = std::iter::from_fn(move || {
        let from = after?;
        match page(&db, from) {
            Ok((text, last)) => {
                after = last;
                last.map(|_| Ok(text.into_bytes()))
            }
            Err(e) => {
                after = None;
                Some(Err(e
                    .detail()
                    .unwrap_or("reading the users failed")
                    .to_string()))
            }
        }
    });
    let pieces = std::iter::once(Ok(header.into_bytes())).chain(pages);
    let stream = Stream {
        length: None,
        pieces: Box::new(pieces),
    };
    Ok(Reply::streamed(200, stream)
        .with_header("content-type", "text/csv; charset=utf-8")
        .with_header("content-disposition", "attachment; filename=\"users.csv\""))
}

/// The header: the user's columns, `line_number`, then `voicemail_<key>`s.
fn columns() -> Vec<String> {
    let user = user_columns().map(|(_, column)| column.to_string());
    let voicemail = VOICEMAIL_KEYS.iter().map(|k| format!("voicemail_{k}"));
    user.chain(["line_number".to_string()])
        .chain(voicemail)
        .collect()
}

/// The rows of the users after id `after`, up to [`PAGE`], and the last one's id (`None`: no
/// more users).
fn page(db: &Db, after: i64) -> Result<(String, Option<i64>), ApiError> {
    let sql = format!(
        "{}, v.mailbox AS v_mailbox, v.fullname AS v_fullname, v.password AS v_password, \
         v.email AS v_email, v.attach AS v_attach, v.skipcheckpass AS v_skipcheckpass, \
         v.deleteaftersend AS v_deleteaftersend{} LEFT JOIN voicemails v ON v.id = u.voicemailid \
         WHERE u.id > ? ORDER BY u.id LIMIT ?",
        User::select(),
        <User as Table>::from()
    );
    let rows = db.query(&sql, &[after.param(), PAGE.param()])?;
    let mut text = String::new();
    let mut last = None;
    for row in rows.iter() {
        let user = User::read(&row)?;
        let values = user.values();
        let mut cells: Vec<String> = user_columns().map(|(i, _)| cell(&values[i])).collect();
        cells.push(
            user.line
                .as_ref()
                .map_or_else(String::new, |l| l.number.clone()),
        );
        match row.opt_text("v_mailbox")? {
            Some(mailbox) => {
                cells.push(mailbox);
                cells.push(row.text("v_fullname")?);
                cells.push(row.text("v_password")?);
                cells.push(row.opt_text("v_email")?.unwrap_or_default());
                for key in ["v_attach", "v_skipcheckpass", "v_deleteaftersend"] {
                    cells.push(row.int(key)?.to_string());
                }
            }
            None => cells.extend(std::iter::repeat_n(String::new(), VOICEMAIL_KEYS.len())),
        }
        csv::write_record(&mut text, &cells);
        last = Some(user.id);
    }
    Ok((text, last))
}

/// A stored value as a cell: text as it is, whole numbers (and booleans, 0 or 1) written
/// out, NULL empty. A user has no real number (writing one would link float printing).
fn cell(value: &SqlValue) -> String {
    match value {
        SqlValue::Text(s) => s.clone(),
        SqlValue::Integer(n) => n.to_string(),
        SqlValue::Real(_) | SqlValue::Null | SqlValue::Blob(_) => String::new(),
    }
}
