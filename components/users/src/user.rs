//! The user resource: its representation, the keys a body may hold, and all its SQL.

use common::{
    body::{field, Field, Kind},
    db::{Db, Param, Row, Value as SqlValue},
    pagination::Pagination,
    params,
    query::Query,
    resource::{reject_keys, Changes, Resource},
    ApiError, List,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A user as the API shows it: every key always present, `line` null when there is none.
#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub firstname: String,
    pub lastname: String,
    pub callerid: String,
    pub username: String,
    pub password: String,
    pub musiconhold: String,
    pub outcallerid: String,
    pub mobilephonenumber: String,
    pub userfield: String,
    pub timezone: String,
    pub language: String,
    pub description: String,
    pub enableclient: bool,
    pub ctiprofileid: Option<i64>,
    pub voicemailid: Option<i64>,
    pub agentid: Option<i64>,
    pub entityid: Option<i64>,
    pub line: Option<Line>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Line {
    pub number: String,
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

/// The user's first line (lowest id) is "the" line; a subquery, so that a user with several
/// lines is still one row.
const COLUMNS: &str = "SELECT u.id, u.firstname, u.lastname, u.callerid, u.username, u.password, \
    u.musiconhold, u.outcallerid, u.mobilephonenumber, u.userfield, u.timezone, u.language, \
    u.description, u.enableclient, u.ctiprofileid, u.voicemailid, u.agentid, u.entityid, \
    (SELECT l.number FROM lines l WHERE l.user_id = u.id ORDER BY l.id LIMIT 1) AS line";
const FROM: &str = " FROM users u";

fn read(row: &Row) -> Result<User, ApiError> {
    Ok(User {
        id: row.int("id")?,
        firstname: row.text("firstname")?,
        lastname: row.text("lastname")?,
        callerid: row.text("callerid")?,
        username: row.text("username")?,
        password: row.text("password")?,
        musiconhold: row.text("musiconhold")?,
        outcallerid: row.text("outcallerid")?,
        mobilephonenumber: row.text("mobilephonenumber")?,
        userfield: row.text("userfield")?,
        timezone: row.text("timezone")?,
        language: row.text("language")?,
        description: row.text("description")?,
        enableclient: row.bool("enableclient")?,
        ctiprofileid: row.opt_int("ctiprofileid")?,
        voicemailid: row.opt_int("voicemailid")?,
        agentid: row.opt_int("agentid")?,
        entityid: row.opt_int("entityid")?,
        line: row.opt_text("line")?.map(|number| Line { number }),
    })
}

impl Resource for User {
    const PATH: &'static str = "/1.0/users";
    const FIELDS: &'static [Field] = &[
        field("id", Kind::ReadOnly),
        field("firstname", Kind::Text),
        field("lastname", Kind::Text),
        field("callerid", Kind::Text),
        field("username", Kind::Text),
        field("password", Kind::Text),
        field("musiconhold", Kind::Text),
        field("outcallerid", Kind::Text),
        field("mobilephonenumber", Kind::Text),
        field("userfield", Kind::Text),
        field("timezone", Kind::Text),
        field("language", Kind::Text),
        field("description", Kind::Text),
        field("enableclient", Kind::Bool),
        field("ctiprofileid", Kind::OptInt),
        field("voicemailid", Kind::OptInt),
        field("agentid", Kind::OptInt),
        field("entityid", Kind::OptInt),
        field("line", Kind::Custom(line)),
    ];

    type List = List<User>;

    fn list(db: &Db, _: &Query, page: Option<Pagination>) -> Result<List<User>, ApiError> {
        let (total, rows) = db.list(COLUMNS, FROM, "u.id", &[], page)?;
        Ok(List {
            total,
            items: rows.map(read)?,
        })
    }

    fn get(db: &Db, id: i64) -> Result<Option<User>, ApiError> {
        db.query_one(
            &format!("{COLUMNS}{FROM} WHERE u.id = ?"),
            &params![id],
            read,
        )
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
        let id = db.insert(
            "INSERT INTO users (firstname, lastname, callerid, username, password, musiconhold, \
             outcallerid, mobilephonenumber, userfield, timezone, language, description, \
             enableclient, ctiprofileid, voicemailid, agentid, entityid) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &columns(user),
        )?;
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
        let mut values = columns(after).to_vec();
        values.push(id.param());
        db.execute(
            "UPDATE users SET firstname = ?, lastname = ?, callerid = ?, username = ?, \
             password = ?, musiconhold = ?, outcallerid = ?, mobilephonenumber = ?, \
             userfield = ?, timezone = ?, language = ?, description = ?, enableclient = ?, \
             ctiprofileid = ?, voicemailid = ?, agentid = ?, entityid = ? WHERE id = ?",
            &values,
        )?;
        if after.line != before.line {
            set_line(db, id, after.line.as_ref(), before.line.is_some())?;
        }
        let renamed = changes.contains_key("firstname") || changes.contains_key("lastname");
        if let (true, Some(voicemail)) = (renamed, after.voicemailid) {
            db.execute(
                "UPDATE voicemails SET fullname = ? WHERE id = ?",
                &params![format!("{} {}", after.firstname, after.lastname), voicemail],
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

/// The stored columns, in the order of the INSERT and UPDATE statements.
fn columns(u: &User) -> [SqlValue; 17] {
    params![
        u.firstname,
        u.lastname,
        u.callerid,
        u.username,
        u.password,
        u.musiconhold,
        u.outcallerid,
        u.mobilephonenumber,
        u.userfield,
        u.timezone,
        u.language,
        u.description,
        u.enableclient,
        u.ctiprofileid,
        u.voicemailid,
        u.agentid,
        u.entityid,
    ]
}
