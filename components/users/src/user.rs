//! The user resource: its representation, the keys a body may hold, and all its SQL.

use common::{
    body::{self, FromBody, Kind},
    db::{Db, Param, Value as SqlValue},
    listing::{Column, Listing},
    pagination::Pagination,
    params,
    query::Query,
    resource::{delete_row, list_rows, new_id, reject_keys, update_row, Changes, Resource},
    table::{Stored, Table},
    ApiError, List,
};
use serde::Serialize;
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

/// The users whose ids run from `first` to `last`, in id order (an import's, which one
/// statement stored: their ids follow one another).
pub fn between(db: &Db, first: i64, last: i64) -> Result<Vec<User>, ApiError> {
    let sql = format!(
        "{}{} WHERE u.id BETWEEN ? AND ? ORDER BY u.id",
        User::select(),
        <User as Table>::from()
    );
    db.query(&sql, &params![first, last])?.map(User::read)
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Line {
    pub number: String,
}

/// As [`line`] left it: `{"number": "44500"}`.
impl FromBody for Line {
    fn from_body(value: &Value) -> Option<Self> {
        let number = value.get("number")?.as_str()?.to_string();
        Some(Line { number })
    }
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
/// as its digits, `44500.0` too).
fn line(value: &Value) -> Option<Value> {
    match value {
        Value::Null => Some(Value::Null),
        Value::Object(map) if map.len() == 1 => {
            let number = match map.get("number")? {
                Value::String(s) if !s.is_empty() => s.clone(),
                Value::Number(n) => body::whole(n)?.to_string(),
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

    /// Searched: both names in both orders, the line's number, username, caller ids, mobile
    /// number, the voicemail's email, description (`migrations/0014_lists.sql`). Ordered by
    /// the columns indexed for it there.
    const LISTING: Listing = Listing {
        alias: "u",
        search: "users_search",
        order: &[
            "id",
            "firstname",
            "lastname",
            "username",
            "callerid",
            "mobilephonenumber",
        ],
        default_order: &["id"],
        filters: &[
            ("firstname", Column::Text),
            ("lastname", Column::Text),
            ("callerid", Column::Text),
            ("username", Column::Text),
            ("musiconhold", Column::Text),
            ("outcallerid", Column::Text),
            ("mobilephonenumber", Column::Text),
            ("userfield", Column::Text),
            ("timezone", Column::Text),
            ("language", Column::Text),
            ("description", Column::Text),
            ("enableclient", Column::Flag),
            ("ctiprofileid", Column::Whole),
            ("voicemailid", Column::Whole),
            ("agentid", Column::Whole),
            ("entityid", Column::Whole),
        ],
    };

    fn list(db: &Db, query: &Query, page: Option<Pagination>) -> Result<List<User>, ApiError> {
        list_rows(db, query, page)
    }

    const REFERENCES: &'static [&'static str] = &["voicemailid", "agentid"];

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

    /// The user and its line, in one statement: the line's number rides in `set_line`, which
    /// a trigger turns into the line (`migrations/0010_writes_in_one_statement.sql`).
    fn insert(db: &Db, user: &User, _: &Changes) -> Result<i64, ApiError> {
        let sql = User::insert_sql().replace(") VALUES (", ", set_line) VALUES (?, ");
        let mut values = user.values();
        values.push(user.line.as_ref().map(|l| l.number.clone()).param());
        new_id(&db.write(&sql, &values)?)
    }

    /// The keys sent, the user's line, and, when `firstname` or `lastname` is sent and the
    /// user has a voicemail, the voicemail's `fullname`, in one statement (triggers do the
    /// rest, as for [`User::insert`]).
    fn update(
        db: &Db,
        id: i64,
        before: &User,
        after: &User,
        changes: &Changes,
        guard: Option<i64>,
    ) -> Result<Option<()>, ApiError> {
        let mut extra = Vec::new();
        if changes.contains_key("line") && after.line != before.line {
            let number = after.line.as_ref().map_or("", |l| l.number.as_str());
            extra.push(("set_line", number.param()));
        }
        let renamed = changes.contains_key("firstname") || changes.contains_key("lastname");
        if renamed && after.voicemailid.is_some() {
            extra.push(("rename_voicemail", 1i64.param()));
        }
        update_row(db, id, (before, after), changes, &extra, guard)
    }

    /// 412 while the user has a voicemail, unless `?deleteVoicemail`, which deletes it too
    /// (unless another user has it as well), in the same statement (a trigger). The user's
    /// lines go with it.
    fn delete(
        db: &Db,
        id: i64,
        user: &User,
        query: &Query,
        guard: Option<i64>,
    ) -> Result<bool, ApiError> {
        if user.voicemailid.is_none() {
            // Given one since: the next attempt reads it.
            return delete_row::<User>(db, id, guard, " AND voicemailid IS NULL");
        }
        if !query.has("deleteVoicemail") {
            return Err(ApiError::precondition_failed(
                "Cannot remove a user with a voicemail. Delete the voicemail or dissociate it from the user.",
            ));
        }
        let mut sql = "UPDATE users SET delete_with_voicemail = 1 WHERE id = ?".to_string();
        let mut params = vec![id.param()];
        if let Some(version) = guard {
            sql.push_str(" AND version = ?");
            params.push(version.param());
        }
        sql.push_str(" RETURNING id");
        Ok(!db.write(&sql, &params)?.is_empty())
    }
}
