//! The handlers every table-backed family shares (users, voicemails, agents, queues): list,
//! get, create, update and delete by integer id, the body and pagination rules applied the
//! same way everywhere. A family describes its resource by implementing [`Resource`].

use serde::Serialize;
use serde_json::{Map, Value};
use spin_sdk::http::Method;

use crate::{
    body::{self, Assign},
    conditional,
    db::{self, Db, Param, Rows},
    error::{ApiError, Refusal},
    events,
    http::{action, id, Action, Reply, Request},
    listing::Listing,
    pagination::{List, Pagination},
    query::Query,
    table::Table,
};

/// The checked keys of a request body, in the order sent.
pub type Changes = Map<String, Value>;

pub trait Resource: Table + Serialize + Assign + Clone + Default + 'static {
    /// Where the collection lives, without a trailing slash (`/1.0/voicemails`).
    const PATH: &'static str;
    /// The family its change events name (`users` → `users_created`...), if it emits any
    /// ([`events`]).
    const EVENTS: Option<&'static str> = None;
    /// The keys a POST must hold.
    const REQUIRED: &'static [&'static str] = &[];
    /// What its list takes besides the page: search, order, filters ([`Listing`]).
    const LISTING: Listing;

    /// The shape of its list (`{"total", "items"}`, or a bare array).
    type List: Serialize;

    fn list(db: &Db, query: &Query, page: Option<Pagination>) -> Result<Self::List, ApiError>;

    fn get(db: &Db, id: i64) -> Result<Option<Self>, ApiError> {
        let sql = format!(
            "{}{} WHERE {}.id = ?",
            Self::select(),
            Self::from(),
            Self::ALIAS
        );
        db.query_one(&sql, &[id.param()], Self::read)
    }

    /// Keys whose value no other resource may have, each with the statement that counts the
    /// others holding it (`... WHERE key = ? AND id IS NOT ?`). A taken value, when the key was
    /// sent, is an incorrect parameter, never a constraint error.
    const UNIQUE: &'static [(&'static str, &'static str)] = &[];

    /// Keys whose value names another resource (`voicemailid`): a write the schema refuses
    /// for a foreign key (the other resource deleted meanwhile) is an incorrect parameter,
    /// naming those of them that were sent.
    const REFERENCES: &'static [&'static str] = &[];

    /// What else must hold before a write (references); `id` is `None` on create. Runs before
    /// the write, which the schema guards against what changes in between (see [`create`]).
    fn check(
        _db: &Db,
        _resource: &Self,
        _changes: &Changes,
        _id: Option<i64>,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Store a new resource, in one statement ([`Db::write`]); returns its id.
    fn insert(db: &Db, resource: &Self, _changes: &Changes) -> Result<i64, ApiError> {
        new_id(&db.write(&Self::insert_sql(), &resource.values())?)
    }

    /// Store the keys of `changes` (as `after` has them) over the row, and whatever follows
    /// from them, in one statement (see [`update_row`]): `Some` once written, `None` when the
    /// row is gone or no longer at `guard`, the version `If-Match` named.
    fn update(
        db: &Db,
        id: i64,
        before: &Self,
        after: &Self,
        changes: &Changes,
        guard: Option<i64>,
    ) -> Result<Option<()>, ApiError> {
        update_row(db, id, (before, after), changes, &[], guard)
    }

    /// Delete an existing resource (412 when something still needs it), in one statement:
    /// `false` when the row is gone, no longer at `guard`, or needed after all. `query`
    /// carries the request's options (`?deleteVoicemail`).
    fn delete(
        db: &Db,
        id: i64,
        resource: &Self,
        query: &Query,
        guard: Option<i64>,
    ) -> Result<bool, ApiError> {
        let _ = (resource, query);
        delete_row::<Self>(db, id, guard, "")
    }
}

/// How many times a write is tried when its row changes between its read and its write in a
/// way that matters (`If-Match`, something that now needs it): each time all is read and
/// checked again, which then answers 412 or 404.
const ATTEMPTS: u32 = 5;

/// Write the stored columns `changes` names, as the second of `rows` (before, after) has
/// them, and `extra` columns, over the row, in one statement; its version grows when one of
/// those columns changes what it holds (decided by the statement, on the row as it is then,
/// so two edits of one row at once both land, one after the other). `guard`: only while the
/// row is at that version. `None` when no row was written: gone, or past `guard`. When the
/// changes hold what `before` held, nothing is written (and the `ETag` stays): the edit took
/// effect when it was read.
pub fn update_row<R: Table>(
    db: &Db,
    id: i64,
    (before, after): (&R, &R),
    changes: &Changes,
    extra: &[(&str, crate::db::Value)],
    guard: Option<i64>,
) -> Result<Option<()>, ApiError> {
    let (old, new) = (before.values(), after.values());
    let sent: Vec<usize> = (0..R::COLUMNS.len())
        .filter(|&i| changes.contains_key(R::COLUMNS[i]))
        .collect();
    let unchanged = sent.iter().all(|&i| same(&old[i..=i], &new[i..=i]));
    if unchanged && extra.is_empty() {
        return Ok(Some(()));
    }
    let mut sets: Vec<String> = sent
        .iter()
        .map(|&i| format!("\"{}\" = ?", R::COLUMNS[i]))
        .collect();
    sets.extend(extra.iter().map(|(c, _)| format!("{c} = ?")));
    let kept: Vec<String> = sent
        .iter()
        .map(|&i| format!("\"{}\" IS ?", R::COLUMNS[i]))
        .chain(std::iter::once("1".to_string()))
        .collect();
    let sql = format!(
        "UPDATE {} SET {}, version = version + NOT ({}) WHERE id = ?{} RETURNING id",
        R::NAME,
        crate::text::join(&sets, ", "),
        crate::text::join(&kept, " AND "),
        if guard.is_some() {
            " AND version = ?"
        } else {
            ""
        }
    );
    let values = || sent.iter().map(|&i| new[i].clone());
    let mut params: Vec<crate::db::Value> = values().collect();
    params.extend(extra.iter().map(|(_, v)| v.clone()));
    params.extend(values());
    params.push(id.param());
    params.extend(guard.map(|v| v.param()));
    Ok((!db.write(&sql, &params)?.is_empty()).then_some(()))
}

/// Delete a resource's row, and whatever the schema makes follow (cascades, triggers), in
/// one statement; `guard`: only while the row is at that version; `unless` (` AND NOT EXISTS
/// (...)`, with `?` for the id) keeps it while something still needs it. `false` when
/// nothing was deleted.
pub fn delete_row<R: Table>(
    db: &Db,
    id: i64,
    guard: Option<i64>,
    unless: &str,
) -> Result<bool, ApiError> {
    let sql = format!(
        "DELETE FROM {} WHERE id = ?{}{unless} RETURNING id",
        R::NAME,
        if guard.is_some() {
            " AND version = ?"
        } else {
            ""
        }
    );
    let mut params = vec![id.param()];
    params.extend(guard.map(|v| v.param()));
    params.extend((0..unless.matches('?').count()).map(|_| id.param()));
    Ok(!db.write(&sql, &params)?.is_empty())
}

/// Whether two rows' values are the same, as SQLite's `IS` would say.
fn same(a: &[crate::db::Value], b: &[crate::db::Value]) -> bool {
    use crate::db::Value::{Blob, Integer, Null, Real, Text};
    a.len() == b.len()
        && a.iter().zip(b).all(|pair| match pair {
            (Integer(x), Integer(y)) => x == y,
            (Real(x), Real(y)) => x == y,
            (Text(x), Text(y)) => x == y,
            (Blob(x), Blob(y)) => x == y,
            (Null, Null) => true,
            _ => false,
        })
}

/// The id an `INSERT ... RETURNING id` gave.
pub fn new_id(rows: &Rows) -> Result<i64, ApiError> {
    first_int(rows, "id")?.ok_or_else(|| ApiError::internal("an insert returned no id"))
}

/// The first row's integer column, if there is a row.
fn first_int(rows: &Rows, column: &str) -> Result<Option<i64>, ApiError> {
    rows.first().map(|row| row.int(column)).transpose()
}

/// The page of the rows the query selects ([`Listing`]), and how many it selects in all.
pub fn list_rows<R: Resource>(
    db: &Db,
    query: &Query,
    page: Option<Pagination>,
) -> Result<List<R>, ApiError> {
    let selection = R::LISTING.select(query);
    let (total, rows) = selection.list(db, &R::select(), &R::from(), page)?;
    Ok(List {
        total,
        items: rows.map(R::read)?,
    })
}

/// Route a request below `R::PATH`: the collection (`""` or `/`) or one item (`/<id>` or
/// `/<id>/`); anything else is 404, a method a path does not serve 405.
pub fn route<R: Resource + 'static>(req: &Request) -> Result<Action, ApiError> {
    match req.segments().as_slice() {
        [] | [""] => match req.method {
            Method::Get => Ok(action(list::<R>)),
            Method::Post => Ok(action(create::<R>)),
            _ => Err(ApiError::MethodNotAllowed("GET, POST")),
        },
        [item] | [item, ""] => {
            let item = id(item)?;
            match req.method {
                Method::Get => Ok(action(move |req| get::<R>(req, item))),
                Method::Put => Ok(action(move |req| update::<R>(req, item))),
                Method::Delete => Ok(action(move |req| delete::<R>(req, item))),
                _ => Err(ApiError::MethodNotAllowed("GET, PUT, DELETE")),
            }
        }
        _ => Err(ApiError::NotFound),
    }
}

fn list<R: Resource>(req: &Request) -> Result<Reply, ApiError> {
    R::LISTING.check(&req.query, &[])?;
    let page = Pagination::from_query(&req.query)?;
    Ok(Reply::ok(&R::list(&db::open()?, &req.query, page)?))
}

/// 200 with the resource and its `ETag`; 304 when `If-None-Match` names the current tag.
fn get<R: Resource>(req: &Request, item: i64) -> Result<Reply, ApiError> {
    let resource = R::get(&db::open()?, item)?.ok_or(ApiError::NotFound)?;
    Ok(conditional::read(req, resource.version(), || {
        Reply::ok(&resource)
    }))
}

/// 201 with `Location`, the created resource as stored, and its `ETag`.
///
/// The checks (unique keys, references) are reads, and the write one statement
/// ([`Db::write`]), so no lock is held between round trips; what changes in between (the same
/// mailbox taken, the voicemail deleted) the schema refuses, and the refusal is answered as
/// the check would have been ([`refused`]).
fn create<R: Resource>(req: &Request) -> Result<Reply, ApiError> {
    let sent = req.json_object()?;
    let changes = body::check(&sent, R::FIELDS)?;
    body::require(&sent, R::REQUIRED)?;
    let resource = body::apply(&R::default(), &changes)?;
    let db = db::open()?;
    check_unique(&db, &resource, &changes, None)?;
    R::check(&db, &resource, &changes, None)?;
    let item = R::insert(&db, &resource, &changes).map_err(|e| refused::<R>(e, &changes))?;
    let created =
        R::get(&db, item)?.ok_or_else(|| ApiError::internal("created, then not found"))?;
    if let Some(family) = R::EVENTS {
        events::emit(family, "created", item, &created);
    }
    Ok(Reply::json(201, &created)
        .with_location(location::<R>(req, item))
        .with_header("etag", conditional::etag(created.version())))
}

/// 200 with `Location` and the new `ETag`; the body's keys are checked before the resource
/// is looked up. The write sets only the keys sent, so edits of one resource at once all
/// land; with `If-Match`, only while the resource is at the version it named (a change in
/// between is found when all is read again: 412).
fn update<R: Resource>(req: &Request, item: i64) -> Result<Reply, ApiError> {
    let changes = body::check(&req.json_object()?, R::FIELDS)?;
    let db = db::open()?;
    let before = again_while_changed(|| {
        let before = conditional::existing(req, R::get(&db, item)?, Table::version)?;
        let after = body::apply(&before, &changes)?;
        check_unique(&db, &after, &changes, Some(item))?;
        R::check(&db, &after, &changes, Some(item))?;
        let guard = conditional::write_guard(req, before.version());
        let written = R::update(&db, item, &before, &after, &changes, guard)
            .map_err(|e| refused::<R>(e, &changes))?;
        Ok(written.map(|()| before.version()))
    })?;
    let stored = R::get(&db, item)?.ok_or(ApiError::NotFound)?;
    let version = stored.version();
    if let Some(family) = R::EVENTS.filter(|_| version != before) {
        events::emit(family, "edited", item, &stored);
    }
    Ok(Reply::empty(200)
        .with_location(location::<R>(req, item))
        .with_header("etag", conditional::etag(version)))
}

/// 200; `If-Match` (412), then 404, then what still needs the resource (412), each checked
/// again when the one statement that deletes finds things changed since they were read.
fn delete<R: Resource>(req: &Request, item: i64) -> Result<Reply, ApiError> {
    let db = db::open()?;
    let deleted = again_while_changed(|| {
        let resource = conditional::existing(req, R::get(&db, item)?, Table::version)?;
        let guard = conditional::write_guard(req, resource.version());
        let deleted = R::delete(&db, item, &resource, &req.query, guard)?;
        Ok(deleted.then_some(resource))
    })?;
    if let Some(family) = R::EVENTS {
        events::emit(family, "deleted", item, &deleted);
    }
    Ok(Reply::empty(200))
}

/// Run `attempt` (read, check, then one guarded write) until its write lands (`Some`), up to
/// [`ATTEMPTS`] times; past them, 503: the row kept changing under it.
pub fn again_while_changed<T>(
    mut attempt: impl FnMut() -> Result<Option<T>, ApiError>,
) -> Result<T, ApiError> {
    for _ in 0..ATTEMPTS {
        if let Some(done) = attempt()? {
            return Ok(done);
        }
    }
    Err(ApiError::service_unavailable(format!(
        "the row changed under each of {ATTEMPTS} writes"
    )))
}

/// A write the schema refused, answered as the check before it would have: a unique key
/// taken, or a reference to a resource deleted meanwhile, is an incorrect parameter.
fn refused<R: Resource>(e: ApiError, changes: &Changes) -> ApiError {
    let keys: Vec<&str> = match &e {
        ApiError::Refused(Refusal::Unique(column), _) => R::UNIQUE
            .iter()
            .map(|(key, _)| *key)
            .filter(|key| key == column)
            .collect(),
        ApiError::Refused(Refusal::ForeignKey, _) => R::REFERENCES
            .iter()
            .copied()
            .filter(|key| changes.contains_key(*key))
            .collect(),
        _ => Vec::new(),
    };
    if keys.is_empty() {
        e
    } else {
        ApiError::incorrect_parameters(&keys)
    }
}

fn location<R: Resource>(req: &Request, item: i64) -> String {
    req.url(&format!("{}/{item}", R::PATH))
}

/// The unique keys sent must not be taken by another resource.
fn check_unique<R: Resource>(
    db: &Db,
    resource: &R,
    changes: &Changes,
    id: Option<i64>,
) -> Result<(), ApiError> {
    if R::UNIQUE.is_empty() {
        return Ok(());
    }
    let values = resource.values();
    reject_keys(changes, |key| {
        match R::UNIQUE.iter().find(|(k, _)| *k == key) {
            Some((_, others)) => {
                let column = R::COLUMNS.iter().position(|c| *c == key);
                let value = column.map_or(crate::db::Value::Null, |i| values[i].clone());
                db.exists(others, &[value, id.param()])
            }
            None => Ok(false),
        }
    })
}

/// `Incorrect parameters sent: ...` for the keys of `changes` whose `problem` holds, in the
/// order sent; for unique keys and references checked against the database.
pub fn reject_keys(
    changes: &Changes,
    mut problem: impl FnMut(&str) -> Result<bool, ApiError>,
) -> Result<(), ApiError> {
    let mut incorrect = Vec::new();
    for key in changes.keys() {
        if problem(key)? {
            incorrect.push(key.as_str());
        }
    }
    if incorrect.is_empty() {
        Ok(())
    } else {
        Err(ApiError::incorrect_parameters(&incorrect))
    }
}
