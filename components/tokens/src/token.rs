//! A token: its representation, its table (`api_tokens`, migration 0013), and what a new one
//! may hold. Its secret is made here and shown once; only its hash is stored
//! (`common::auth::bearer`).

use common::{
    auth::{bearer, scopes},
    body::{self, field, Field, Kind},
    clock,
    dates::{self, Moment},
    db::{Db, Row},
    listing::{Column, Listing},
    pagination::Pagination,
    params,
    query::Query,
    ApiError, List,
};
use serde::Serialize;
use serde_json::{Map, Value};

/// The most scopes a token holds, and the longest name.
const MAX_SCOPES: usize = 32;
const MAX_NAME_CHARS: usize = 200;

/// A token as the API shows it: never its secret. Times in the API's date form, UTC.
#[derive(Serialize, Debug)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    /// `null`: it never expires.
    pub expires_at: Option<String>,
    /// `null`: never used; else to the minute (it is written at most once a minute).
    pub last_used_at: Option<String>,
}

/// A token just made: the token, and its secret, shown this once.
#[derive(Serialize, Debug)]
pub struct Made {
    #[serde(flatten)]
    pub token: Token,
    pub secret: String,
}

/// What a creation asks for, checked.
pub struct NewToken {
    name: String,
    scopes: Vec<String>,
    expires_at: Option<i64>,
}

const FIELDS: &[Field] = &[
    field("name", Kind::Custom(name)),
    field("scopes", Kind::Custom(scope_list)),
    field("expires_at", Kind::Custom(future_date)),
];

impl NewToken {
    /// `{"name", "scopes", "expires_at"}`: `name` and `scopes` required, `expires_at` a date
    /// to come or absent or null (never). Wrong keys and values are 400, as everywhere.
    pub fn from_body(sent: &Map<String, Value>) -> Result<Self, ApiError> {
        let checked = body::check(sent, FIELDS)?;
        body::require(sent, &["name", "scopes"])?;
        let text = |key: &str| checked.get(key).and_then(Value::as_str).unwrap_or_default();
        let scopes =
            checked
                .get("scopes")
                .and_then(Value::as_array)
                .map_or_else(Vec::new, |list| {
                    list.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                });
        Ok(Self {
            name: text("name").to_string(),
            scopes,
            expires_at: checked.get("expires_at").and_then(Value::as_i64),
        })
    }

    /// 403 unless every scope asked for is covered by one of `own` (space-separated, as
    /// stored), and the new token expires no later than `own_expiry`: a token never makes a
    /// token that may do more, or for longer, than itself.
    pub fn check_within(&self, own: &str, own_expiry: Option<i64>) -> Result<(), ApiError> {
        if let Some(limit) = own_expiry {
            if self.expires_at.is_none_or(|at| at > limit) {
                return Err(ApiError::Forbidden(vec![format!(
                    "A token cannot make a token that outlives it: expires_at at most {}",
                    dates::format(Moment::from_unix(limit))
                )]));
            }
        }
        // Both lists were checked when written: a scope that does not parse grants nothing.
        let own = scopes::parse_all(own.split(' ')).unwrap_or_default();
        let asked = scopes::parse_all(self.scopes.iter().map(String::as_str)).unwrap_or_default();
        let beyond = scopes::uncovered(&own, &asked);
        if beyond.is_empty() {
            return Ok(());
        }
        let beyond: Vec<String> = beyond.iter().map(ToString::to_string).collect();
        Err(ApiError::Forbidden(vec![format!(
            "A token cannot give scopes it does not have: {}",
            common::text::join(&beyond, ", ")
        )]))
    }
}

/// A name: text, 1 to [`MAX_NAME_CHARS`] characters.
fn name(value: &Value) -> Option<Value> {
    let text = value.as_str()?;
    (!text.trim().is_empty() && text.chars().count() <= MAX_NAME_CHARS).then(|| value.clone())
}

/// A list of 1 to [`MAX_SCOPES`] scopes (`users:read`, `*:read`...), repeats dropped. Its
/// length is held as sent, as the document's `maxItems` is: a client that checks its request
/// against the document and the server agree.
fn scope_list(value: &Value) -> Option<Value> {
    let list = value.as_array().filter(|list| list.len() <= MAX_SCOPES)?;
    let mut kept: Vec<Value> = Vec::new();
    for item in list {
        scopes::Scope::parse(item.as_str()?)?;
        if !kept.contains(item) {
            kept.push(item.clone());
        }
    }
    (!kept.is_empty()).then_some(Value::Array(kept))
}

/// Null, or a date in any form the API reads that is still to come: its Unix seconds.
fn future_date(value: &Value) -> Option<Value> {
    match value {
        Value::Null => Some(Value::Null),
        Value::String(text) => {
            let at = dates::parse(text)?.unix();
            (at > now()).then(|| Value::from(at))
        }
        _ => None,
    }
}

fn now() -> i64 {
    i64::try_from(clock::unix_seconds()).unwrap_or(i64::MAX)
}

/// Unqualified, for `RETURNING` too (the search table has none of these names).
const COLUMNS: &str = "SELECT id, name, scopes, created_at, expires_at, last_used_at";
const FROM: &str = " FROM api_tokens t";

/// Searched: the name (`migrations/0014_lists.sql`).
pub const LISTING: Listing = Listing {
    alias: "t",
    search: "api_tokens_search",
    order: &["id", "name", "created_at", "expires_at", "last_used_at"],
    default_order: &["id"],
    filters: &[("name", Column::Text)],
};

fn read(row: &Row) -> Result<Token, ApiError> {
    let date = |at: i64| dates::format(Moment::from_unix(at));
    Ok(Token {
        id: row.int("id")?,
        name: row.text("name")?,
        scopes: row.text("scopes")?.split(' ').map(str::to_string).collect(),
        created_at: date(row.int("created_at")?),
        expires_at: row.opt_int("expires_at")?.map(date),
        last_used_at: row.opt_int("last_used_at")?.map(date),
    })
}

/// The tokens the query selects (expired ones too, until revoked: their owner sees them).
pub fn list(db: &Db, query: &Query, page: Option<Pagination>) -> Result<List<Token>, ApiError> {
    let (total, rows) = LISTING.select(query).list(db, COLUMNS, FROM, page)?;
    Ok(List {
        total,
        items: rows.map(read)?,
    })
}

pub fn get(db: &Db, id: i64) -> Result<Option<Token>, ApiError> {
    let rows = db.query(&format!("{COLUMNS}{FROM} WHERE t.id = ?"), &params![id])?;
    rows.first().map(|row| read(&row)).transpose()
}

/// Store a new token (its secret's hash only), in one statement; the token and its secret.
pub fn create(db: &Db, asked: &NewToken) -> Result<Made, ApiError> {
    let secret = bearer::new_secret();
    let rows = db.write(
        &format!(
            "INSERT INTO api_tokens (name, scopes, secret_hash, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING {}",
            &COLUMNS["SELECT ".len()..]
        ),
        &params![
            asked.name.as_str(),
            asked.scopes.join(" "),
            bearer::hash(&secret),
            now(),
            asked.expires_at
        ],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| ApiError::internal("a token was not stored"))?;
    Ok(Made {
        token: read(&row)?,
        secret,
    })
}

/// Delete a token (404 when there is none): from now on every instance refuses it.
pub fn revoke(db: &Db, id: i64) -> Result<(), ApiError> {
    let rows = db.write(
        "DELETE FROM api_tokens WHERE id = ? RETURNING id",
        &params![id],
    )?;
    if rows.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(())
}
