//! The user resource: its representation, the keys a body may hold, and all its SQL.

use common::{
    body::Kind,
    db::{Db, Value as SqlValue},
    pagination::Pagination,
    params,
    query::Query,
    resource::{list_by_id, reject_keys, update_row, Changes, Resource},
    table::{Stored, Table},
    ApiError, List,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

common::table! {
    /// A user as the API shows it: every key always present, `line` null when there is none.
    pub struct User in "users" as "u" {
        firstname: String = Kind::Text,
        lastname: String = Kind::Text,
        callerid: String = Kind::Text,
        username: String = Kind::Text,
        password: String = Kind::Text,
        musiconhold: String = Kind::Text,
        outcallerid: String = Kind::Text,
        mobilephonenumber: String = Kind::Text,
        userfield: String = Kind::Text,
        timezone: String = Kind::Text,
        language: String = Kind::Text,
        description: String = Kind::Text,
        enableclient: bool = Kind::Bool,
        ctiprofileid: Option<i64> = Kind::OptInt,
        voicemailid: Option<i64> = Kind::OptInt,
        agentid: Option<i64> = Kind::OptInt,
        entityid: Option<i64> = Kind::OptInt,
    }
    derived {
        // The user's first line (lowest id) is "the" line; a subquery, so that a user with
        // several lines is still one row.
        line: Option<Line> = Kind::Custom(line),
            from "(SELECT l.number FROM lines l WHERE l.user_id = u.id ORDER BY l.id LIMIT 1)",
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Line {
    pub number: String,
}

/// Stored as its number (`lines.number`).
impl Stored for Line {
    fn from_sql(value: &SqlValue) -> Option<Self> {
        String::from_sql(value).map(|number| Line { number })
    }
    fn to_sql(&self) -> SqlValue {
        self.number.to_sql()
    }
}

/// `line`: null, or `{"number": "44500"}` with a non-empty number (a JSON integer is taken
/// as its digits).
fn line(value: &Value) -> Option<Value> {
    match value {
        Value::Null => Some(Value::Null),
        Value::Object(map) if map.len() == 1 => {
            let number = match map.get("number")? {
                Value::String(s) if !s.is_empty() => s.clone(),
                Value::Number(n) if n.is_i64() => n.to_string(),
                _ => return None,
            };
            Some(serde_json::json!({ "number": number }))
        }
        _ => None,
    }
}

impl Resource for User {
    const PATH: &'static str = "/1.0/users";
    const EVENTS: Option<&'static str> = Some("users");
    type List = List<User>;

    fn list(db: &Db, _: &Query, page: Option<Pagination>) -> Result<List<User>, ApiError> {
        list_by_id(db, page)
    }

    /// A `voicemailid` or `agentid` that was sent must name an existing voicemail or agent.
    fn check(db: &Db, user: &User, changes: &Changes, _: Option<i64>) -> Result<(), ApiError> {
        reject_keys(changes, |key| match (key, user.voicemailid, user.agentid) {
            ("voicemailid", Some(v), _) => {
                Ok(!db.exists("SELECT COUNT(*) FROM voicemails WHERE id = ?", &params![v])?)
            }
            ("agentid", _, Some(a)) => {
                Ok(!db.exists("SELECT COUNT(*) FROM agents WHERE id = ?", &params![a])?)
            }
            _ => Ok(false),
        })
    }

    fn insert(db: &Db, user: &User, _: &Changes) -> Result<i64, ApiError> {
        let id = db.insert(&User::insert_sql(), &user.values())?;
        if let Some(line) = &user.line {
            db.execute(
                "INSERT INTO lines (user_id, number) VALUES (?, ?)",
                &params![id, line.number],
            )?;
        }
        Ok(id)
    }

    /// When `firstname` or `lastname` is sent and the user has a voicemail, the voicemail's
    /// `fullname` follows, in the same transaction.
    fn update(
        db: &Db,
        id: i64,
        before: &User,
        after: &User,
        changes: &Changes,
    ) -> Result<(), ApiError> {
        update_row(db, id, after)?;
        if after.line != before.line {
            set_line(db, id, after.line.as_ref(), before.line.is_some())?;
            // The line is part of the user as shown: its version grows with it.
            db.execute(
                "UPDATE users SET version = version + 1 WHERE id = ?",
                &params![id],
            )?;
        }
        let renamed = changes.contains_key("firstname") || changes.contains_key("lastname");
        if let (true, Some(voicemail)) = (renamed, after.voicemailid) {
            let fullname = format!("{} {}", after.firstname, after.lastname);
            db.execute(
                "UPDATE voicemails SET fullname = ?, version = version + 1 \
                 WHERE id = ? AND fullname IS NOT ?",
                &params![fullname, voicemail, fullname],
            )?;
        }
        Ok(())
    }

    /// 412 while the user has a voicemail, unless `?deleteVoicemail`, which deletes it too
    /// (unless another user has it as well). The user's lines go with it.
    fn delete(db: &Db, id: i64, user: &User, query: &Query) -> Result<(), ApiError> {
        if user.voicemailid.is_some() && !query.has("deleteVoicemail") {
            return Err(ApiError::precondition_failed(
                "Cannot remove a user with a voicemail. Delete the voicemail or dissociate it from the user.",
            ));
        }
        db.execute("DELETE FROM users WHERE id = ?", &params![id])?;
        if let Some(voicemail) = user.voicemailid {
            // A voicemail another user still has stays with that user.
            db.execute(
                "DELETE FROM voicemails WHERE id = ? \
                 AND NOT EXISTS (SELECT 1 FROM users WHERE voicemailid = ?)",
                &params![voicemail, voicemail],
            )?;
        }
        Ok(())
    }
}

/// The main line's number becomes `line`; `None` removes the user's lines.
fn set_line(db: &Db, user_id: i64, line: Option<&Line>, had_line: bool) -> Result<(), ApiError> {
    match (line, had_line) {
        (None, _) => db.execute("DELETE FROM lines WHERE user_id = ?", &params![user_id]),
        (Some(line), true) => db.execute(
            "UPDATE lines SET number = ? \
             WHERE id = (SELECT id FROM lines WHERE user_id = ? ORDER BY id LIMIT 1)",
            &params![line.number, user_id],
        ),
        (Some(line), false) => db.execute(
            "INSERT INTO lines (user_id, number) VALUES (?, ?)",
            &params![user_id, line.number],
        ),
    }
}
