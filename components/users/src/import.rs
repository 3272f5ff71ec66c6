//! Users in bulk as CSV: `POST /1.0/users/import` (all rows or none, every error named by its
//! row) and the columns it shares with `GET /1.0/users/export` (`export.rs`).
//!
//! A row is a user: the user's keys as a body names them, `line_number` for its line, and
//! `voicemail_<key>` for a voicemail made with it (`voicemail_mailbox` required then). An
//! empty cell is a key not sent: its default. `agentid` is not a column: agents are tied to
//! users through the API, so that an export imports into a database without those agents.
//! Rows are numbered as a spreadsheet numbers them: the header is row 1.

use common::{
    body::{self, boolean},
    csv,
    db::{Db, Param},
    events,
    http::{Body, Reply, Request},
    negotiation::{media_type, OCTET_STREAM},
    resource::{Changes, Resource},
    table::Table,
    ApiError,
};
use serde_json::{json, Map, Value};

use crate::user::User;

/// The user's keys a row may hold, with their place among the stored columns: every stored
/// column, in the order `table!` declares them, but the references to other resources (the
/// voicemail is made from the row itself; agents are tied to users through the API).
pub fn user_columns() -> impl Iterator<Item = (usize, &'static str)> {
    User::COLUMNS
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, column)| !<User as Resource>::REFERENCES.contains(column))
}

/// The voicemail's keys, each a column `voicemail_<key>`.
pub const VOICEMAIL_KEYS: &[&str] = &[
    "mailbox",
    "fullname",
    "password",
    "email",
    "attach",
    "skipcheckpass",
    "deleteaftersend",
];

/// The most rows (besides the header) and bytes an import takes; past them, 413.
const MAX_ROWS: usize = 10_000;
const MAX_BYTES: usize = 8 * 1024 * 1024;
/// The most cells a row may hold: more than every column named twice (past it, 413: the
/// reading stops there).
const MAX_CELLS: usize = 64;

/// One row, checked: the user, and its voicemail as the schema's trigger takes it.
struct Row {
    user: User,
    voicemail: Option<Map<String, Value>>,
}

/// 201 with the new users' ids in row order; 400 with every row's errors; 413 past the limits;
/// 415 unless the body is `text/csv`, or `application/octet-stream` (a file's bytes, as generated
/// clients send a body they cannot type). Each user made is an event, as for any creation.
pub fn import(req: &Request, mut body: Body) -> Result<Reply, ApiError> {
    match req.header("content-type").map(media_type) {
        Some(t) if t == "text/csv" || t == OCTET_STREAM => {}
        _ => return Err(ApiError::UnsupportedMediaType),
    }
    let mut bytes = Vec::new();
    while let Some(piece) = body.read(64 * 1024)? {
        bytes.extend_from_slice(&piece);
        if bytes.len() > MAX_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
    }
    let text =
        String::from_utf8(bytes).map_err(|_| ApiError::bad_request("The CSV is not UTF-8 text"))?;
    let records = csv::parse(&text, MAX_ROWS + 1, MAX_CELLS).map_err(|refused| match refused {
        csv::Refused::Quote(line) => {
            ApiError::bad_request(format!("line {line}: a misplaced quote"))
        }
        csv::Refused::TooLarge => ApiError::PayloadTooLarge,
    })?;
    let Some((header, records)) = records.split_first() else {
        return Err(ApiError::bad_request("row 1: no header"));
    };
    let db = common::db::open()?;
    let rows = check_all(&db, header, records)?;
    let ids = store(&db, &rows)?;
    // Stored: the answer is 201 whatever happens to the events (a 500 now would have the
    // client send the rows again).
    if let Err(e) = announce(&db, &ids) {
        eprintln!("imported users {ids:?}, but not announced: {e:?}");
    }
    Ok(Reply::json(201, &ids))
}

/// Every row checked, its mailbox against the others' and the stored ones: all the errors,
/// in row order, each naming its row; or the rows. A row of empty cells (spreadsheets save
/// them at the end) is no user.
fn check_all(db: &Db, header: &csv::Record, records: &[csv::Record]) -> Result<Vec<Row>, ApiError> {
    let names = &header.fields;
    let wrong: Vec<&str> = names
        .iter()
        .enumerate()
        .filter(|(i, name)| !is_column(name) || names[..*i].contains(name))
        .map(|(_, name)| name.as_str())
        .collect();
    if !wrong.is_empty() {
        return Err(at_row(header.row, ApiError::incorrect_parameters(&wrong)));
    }
    let mailbox_at = names.iter().position(|n| n == "voicemail_mailbox");
    let mut rows = Vec::with_capacity(records.len());
    let mut errors: Vec<(usize, String)> = Vec::new();
    let mut mailboxes: Vec<(usize, String)> = Vec::new();
    for record in records
        .iter()
        .filter(|r| r.fields.iter().any(|c| !c.is_empty()))
    {
        let number = record.row;
        // Checked against the others whether or not the rest of its row is right.
        let mailbox = mailbox_at.and_then(|i| record.fields.get(i));
        if let Some(mailbox) = mailbox.filter(|m| !m.trim().is_empty()) {
            mailboxes.push((number, mailbox.clone()));
        }
        match check_row(names, &record.fields) {
            Ok(row) => rows.push(row),
            Err(e) => match e.messages() {
                Some(messages) => errors.extend(messages.into_iter().map(|m| (number, m))),
                None => return Err(e),
            },
        }
    }
    let taken = taken_mailboxes(db, &mailboxes)?;
    for (i, (number, mailbox)) in mailboxes.iter().enumerate() {
        if taken.contains(mailbox) || mailboxes[..i].iter().any(|(_, m)| m == mailbox) {
            errors.push((
                *number,
                "Incorrect parameters sent: voicemail_mailbox".into(),
            ));
        }
    }
    if errors.is_empty() {
        return Ok(rows);
    }
    errors.sort_by_key(|(number, _)| *number);
    let messages = errors.into_iter().map(|(n, m)| format!("row {n}: {m}"));
    Err(ApiError::BadRequest(messages.collect()))
}

/// Which of these mailboxes voicemails hold already, in one statement.
fn taken_mailboxes(db: &Db, mailboxes: &[(usize, String)]) -> Result<Vec<String>, ApiError> {
    if mailboxes.is_empty() {
        return Ok(Vec::new());
    }
    let all: Vec<Value> = mailboxes.iter().map(|(_, m)| m.as_str().into()).collect();
    let rows = db.query(
        "SELECT mailbox FROM voicemails WHERE mailbox IN (SELECT value FROM json_each(?))",
        &[json_text(&Value::Array(all)).param()],
    )?;
    rows.map(|row| row.text("mailbox"))
}

fn is_column(name: &str) -> bool {
    user_columns().any(|(_, column)| column == name)
        || name == "line_number"
        || name
            .strip_prefix("voicemail_")
            .is_some_and(|key| VOICEMAIL_KEYS.contains(&key))
}

/// One row: its cells as a body would send them, checked as a creation checks them.
fn check_row(header: &[String], record: &[String]) -> Result<Row, ApiError> {
    if record.len() != header.len() {
        return Err(ApiError::bad_request(format!(
            "{} cells where the header names {}",
            record.len(),
            header.len()
        )));
    }
    let mut sent = Map::new();
    let mut voicemail = Map::new();
    for (name, cell) in header.iter().zip(record).filter(|(_, c)| !c.is_empty()) {
        let cell = Value::String(cell.clone());
        match name.strip_prefix("voicemail_") {
            Some(key) => voicemail.insert(key.to_string(), cell),
            None if name == "line_number" => sent.insert("line".into(), json!({ "number": cell })),
            None => sent.insert(name.clone(), cell),
        };
    }
    let user = body::check(&sent, User::FIELDS)
        .and_then(|changes: Changes| body::apply(&User::default(), &changes));
    let named = user.as_ref().map_or_else(|_| User::default(), User::clone);
    let voicemail = (!voicemail.is_empty())
        .then(|| voicemail_of(&named, &voicemail))
        .transpose();
    match (user, voicemail) {
        (Ok(user), Ok(voicemail)) => Ok(Row { user, voicemail }),
        (user, voicemail) => {
            let mut messages = Vec::new();
            for e in [user.err(), voicemail.err()].into_iter().flatten() {
                match e.messages() {
                    Some(more) => messages.extend(more),
                    None => return Err(e),
                }
            }
            Err(ApiError::BadRequest(messages))
        }
    }
}

/// The voicemail's keys checked (`mailbox` required; `fullname` the user's names unless
/// given; flags as bodies spell them), as the trigger of migration 0015 stores them.
fn voicemail_of(user: &User, sent: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    let text = |key: &str| sent.get(key).and_then(Value::as_str).map(str::to_string);
    let mut incorrect = Vec::new();
    let mut flag = |key: &str, column: &'static str| match sent.get(key) {
        None => 0,
        Some(value) => boolean(value).map_or_else(
            || {
                incorrect.push(column);
                0
            },
            i64::from,
        ),
    };
    let flags = [
        ("attach", flag("attach", "voicemail_attach")),
        (
            "skipcheckpass",
            flag("skipcheckpass", "voicemail_skipcheckpass"),
        ),
        (
            "deleteaftersend",
            flag("deleteaftersend", "voicemail_deleteaftersend"),
        ),
    ];
    if !incorrect.is_empty() {
        return Err(ApiError::incorrect_parameters(&incorrect));
    }
    let Some(mailbox) = text("mailbox").filter(|m| !m.trim().is_empty()) else {
        return Err(ApiError::bad_request(
            "Missing parameters: voicemail_mailbox",
        ));
    };
    let fullname = text("fullname").unwrap_or_else(|| {
        format!("{} {}", user.firstname, user.lastname)
            .trim()
            .to_string()
    });
    let mut voicemail = Map::new();
    voicemail.insert("mailbox".into(), mailbox.into());
    voicemail.insert("fullname".into(), fullname.into());
    voicemail.insert(
        "password".into(),
        text("password").unwrap_or_default().into(),
    );
    voicemail.insert(
        "email".into(),
        text("email").map_or(Value::Null, Value::from),
    );
    for (key, value) in flags {
        voicemail.insert(key.into(), value.into());
    }
    Ok(voicemail)
}

/// Every row in one statement (one JSON parameter), so all or none are stored; the new ids in
/// row order (ids grow in the order rows are inserted). A mailbox taken in between is refused
/// by the schema: nothing stored.
fn store(db: &Db, rows: &[Row]) -> Result<Vec<i64>, ApiError> {
    let all: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut item = Map::new();
            for (column, value) in User::COLUMNS.iter().zip(row.user.values()) {
                item.insert(column.to_string(), json_of(value));
            }
            let line = row.user.line.as_ref().map(|l| l.number.clone());
            item.insert("set_line".into(), line.map_or(Value::Null, Value::from));
            let voicemail = row.voicemail.clone().map(|v| json_text(&Value::Object(v)));
            let voicemail = voicemail.map_or(Value::Null, Value::from);
            item.insert("set_voicemail".into(), voicemail);
            Value::Object(item)
        })
        .collect();
    let columns: Vec<String> = User::COLUMNS
        .iter()
        .chain(&["set_line", "set_voicemail"])
        .map(|c| format!("\"{c}\""))
        .collect();
    let values: Vec<String> = User::COLUMNS
        .iter()
        .chain(&["set_line", "set_voicemail"])
        .map(|c| format!("json_extract(value, '$.{c}')"))
        .collect();
    let sql = format!(
        "INSERT INTO users ({}) SELECT {} FROM json_each(?) ORDER BY key RETURNING id",
        common::text::join(&columns, ", "),
        common::text::join(&values, ", ")
    );
    let stored = db
        .write(&sql, &[json_text(&Value::Array(all)).param()])
        .map_err(|e| match e {
            ApiError::Refused(..) => ApiError::incorrect_parameters(&["voicemail_mailbox"]),
            e => e,
        })?;
    let mut ids = stored.map(|row| row.int("id"))?;
    ids.sort_unstable();
    Ok(ids)
}

/// A stored value as JSON, for `json_extract` to give back. A user has no real number
/// (writing one would link float printing).
fn json_of(value: common::db::Value) -> Value {
    use common::db::Value as Sql;
    match value {
        Sql::Integer(n) => n.into(),
        Sql::Text(s) => s.into(),
        Sql::Real(_) | Sql::Null | Sql::Blob(_) => Value::Null,
    }
}

/// `users_created` for each new user, as for any creation. (A voicemail made with a user is
/// not announced on its own: the user's event names it, `voicemailid`.)
fn announce(db: &Db, ids: &[i64]) -> Result<(), ApiError> {
    let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
        return Ok(());
    };
    for user in crate::user::between(db, *first, *last)? {
        events::emit("users", "created", user.id, &user);
    }
    Ok(())
}

/// JSON text, by the writer the responses use (`Value`'s `Display` would link a second one).
fn json_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// `row N: message` for each of an error's messages.
fn at_row(row: usize, e: ApiError) -> ApiError {
    match e.messages() {
        Some(messages) => ApiError::BadRequest(
            messages
                .into_iter()
                .map(|m| format!("row {row}: {m}"))
                .collect(),
        ),
        None => e,
    }
}
