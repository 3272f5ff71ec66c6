//! The handlers every table-backed family shares (users, voicemails, agents, queues): list,
//! get, create, update and delete by integer id, the body and pagination rules applied the
//! same way everywhere. A family describes its resource by implementing [`Resource`].

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};
use spin_sdk::http::Method;

use crate::{
    body, conditional,
    db::{Db, Param},
    events,
    http::{action, id, Action, Request},
    pagination::Pagination,
    query::{Query, Rule},
    table::Table,
    ApiError, List, Reply,
};

/// The checked keys of a request body, in the order sent.
pub type Changes = Map<String, Value>;

pub trait Resource: Table + Serialize + DeserializeOwned + Default + 'static {
    /// Where the collection lives, without a trailing slash (`/1.0/voicemails`).
    const PATH: &'static str;
    /// The family its change events name (`users` → `users_created`...), if it emits any
    /// ([`events`]).
    const EVENTS: Option<&'static str> = None;
    /// The keys a POST must hold.
    const REQUIRED: &'static [&'static str] = &[];
    /// The query parameters its list takes besides `_page` and `_pagesize`, with their rules.
    const FILTERS: &'static [(&'static str, Rule)] = &[];

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

    /// What else must hold before a write (references); `id` is `None` on create. Runs inside
    /// the write's transaction.
    fn check(
        _db: &Db,
        _resource: &Self,
        _changes: &Changes,
        _id: Option<i64>,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Store a new resource; returns its id.
    fn insert(db: &Db, resource: &Self, _changes: &Changes) -> Result<i64, ApiError> {
        db.insert(&Self::insert_sql(), &resource.values())
    }

    /// Store `after` over `before`, and whatever follows from `changes`. The row's version
    /// grows when a stored column changes (see [`update_row`]).
    fn update(
        db: &Db,
        id: i64,
        _before: &Self,
        after: &Self,
        _changes: &Changes,
    ) -> Result<(), ApiError> {
        update_row(db, id, after)
    }

    /// Delete an existing resource (412 when something still needs it). `query` carries the
    /// request's options (`?deleteVoicemail`).
    fn delete(db: &Db, id: i64, resource: &Self, query: &Query) -> Result<(), ApiError>;
}

/// Write a resource's stored columns over its row, adding one to its version, unless every
/// column already holds its value (then nothing is written, and the `ETag` stays).
pub fn update_row<R: Table>(db: &Db, id: i64, resource: &R) -> Result<(), ApiError> {
    let values = resource.values();
    let unchanged: Vec<String> = R::COLUMNS.iter().map(|c| format!("\"{c}\" IS ?")).collect();
    let sql = format!("{} AND NOT ({})", R::update_sql(), unchanged.join(" AND "));
    let mut params = values.clone();
    params.push(id.param());
    params.extend(values);
    db.execute(&sql, &params)
}

/// A list of every row, `{total, items}`, in id order, with no filters.
pub fn list_by_id<R: Resource>(db: &Db, page: Option<Pagination>) -> Result<List<R>, ApiError> {
    let order = format!("{}.id", R::ALIAS);
    let (total, rows) = db.list(&R::select(), &R::from(), &order, &[], page)?;
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
    let mut rules = Pagination::RULES.to_vec();
    rules.extend_from_slice(R::FILTERS);
    req.query.check(&rules)?;
    let page = Pagination::from_query(&req.query)?;
    Ok(Reply::ok(&R::list(&Db::open()?, &req.query, page)?))
}

/// 200 with the resource and its `ETag`; 304 when `If-None-Match` names the current tag.
fn get<R: Resource>(req: &Request, item: i64) -> Result<Reply, ApiError> {
    let resource = R::get(&Db::open()?, item)?.ok_or(ApiError::NotFound)?;
    Ok(conditional::read(req, resource.version(), || {
        Reply::ok(&resource)
    }))
}

/// 201 with `Location`, the created resource as stored, and its `ETag`.
fn create<R: Resource>(req: &Request) -> Result<Reply, ApiError> {
    let sent = req.json_object()?;
    let changes = body::check(&sent, R::FIELDS)?;
    body::require(&sent, R::REQUIRED)?;
    let resource = body::apply(&R::default(), &changes)?;
    let db = Db::open()?;
    let (item, created) = db.transaction(|| {
        check_unique(&db, &resource, &changes, None)?;
        R::check(&db, &resource, &changes, None)?;
        let item = R::insert(&db, &resource, &changes)?;
        let created =
            R::get(&db, item)?.ok_or_else(|| ApiError::internal("created, then not found"))?;
        Ok((item, created))
    })?;
    if let Some(family) = R::EVENTS {
        events::emit(family, "created", item, &created);
    }
    Ok(Reply::json(201, &created)
        .with_location(location::<R>(req, item))
        .with_header("etag", conditional::etag(created.version())))
}

/// 200 with `Location` and the new `ETag`; the body's keys are checked before the resource
/// is looked up; `If-Match` inside the transaction.
fn update<R: Resource>(req: &Request, item: i64) -> Result<Reply, ApiError> {
    let changes = body::check(&req.json_object()?, R::FIELDS)?;
    let db = Db::open()?;
    let (before, stored) = db.transaction(|| {
        let before = conditional::existing(req, R::get(&db, item)?, Table::version)?;
        let after = body::apply(&before, &changes)?;
        check_unique(&db, &after, &changes, Some(item))?;
        R::check(&db, &after, &changes, Some(item))?;
        R::update(&db, item, &before, &after, &changes)?;
        let stored = R::get(&db, item)?.ok_or_else(|| ApiError::internal("updated, then gone"))?;
        Ok((before.version(), stored))
    })?;
    let version = stored.version();
    if let Some(family) = R::EVENTS.filter(|_| version != before) {
        events::emit(family, "edited", item, &stored);
    }
    Ok(Reply::empty(200)
        .with_location(location::<R>(req, item))
        .with_header("etag", conditional::etag(version)))
}

fn delete<R: Resource>(req: &Request, item: i64) -> Result<Reply, ApiError> {
    let db = Db::open()?;
    let deleted = db.transaction(|| {
        let resource = conditional::existing(req, R::get(&db, item)?, Table::version)?;
        R::delete(&db, item, &resource, &req.query)?;
        Ok(resource)
    })?;
    if let Some(family) = R::EVENTS {
        events::emit(family, "deleted", item, &deleted);
    }
    Ok(Reply::empty(200))
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
    let fields = serde_json::to_value(resource).map_err(ApiError::internal)?;
    reject_keys(changes, |key| {
        match R::UNIQUE.iter().find(|(k, _)| *k == key) {
            Some((_, others)) => {
                let value = match &fields[key] {
                    Value::String(s) => s.param(),
                    Value::Number(n) => n.as_i64().param(),
                    _ => None::<i64>.param(),
                };
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
