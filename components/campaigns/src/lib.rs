//! `/1.0/recording_campaigns/`: recording campaigns, and under each one its recordings.
//!
//! The paths, as the seed page distinguishes them:
//!
//! | path below the route | GET | POST | PUT | DELETE |
//! |---|---|---|---|---|
//! | `""`, `/` | list campaigns | create a campaign | | |
//! | `/5` | campaign 5 | add a recording | update campaign 5 | delete campaign 5 |
//! | `/5/` | list its recordings | add a recording | update campaign 5 | delete campaign 5 |
//! | `/5/search`, `/5/search/` | search its recordings | | | delete recording `search` |
//! | `/5/purge`, `/5/purge/` | recording `purge` | delete expired recordings | | delete recording `purge` |
//! | `/5/<cid>` | recording `<cid>` | | | delete recording `<cid>` |
//!
//! A recording's audio (`/5/<cid>/audio`) is the audio component's (`components/audio`).

mod campaign;
mod recording;
mod recording_list;

use common::{
    body, conditional, db, events,
    http::{action, id, Action, Request, Service},
    pagination::Pagination,
    query::{any, date, decode_path},
    resource::again_while_changed,
    stored_audio, ApiError, List, Reply,
};
use spin_sdk::http::{IncomingRequest, Method, ResponseOutparam};
use spin_sdk::http_component;

use recording::NewRecording;
use recording_list::TimeRange;

/// How this component serves: JSON, behind the API's admission, its changes told to the webhooks after each response.
const SERVICE: Service = Service {
    component: "campaigns",
    offers: common::negotiation::JSON,
    admit: Some(common::auth::admit),
    router: route,
    after_response: Some(common::events::deliver_pending),
};

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    common::http::serve(&SERVICE, req, out).await
}

fn route(req: &Request) -> Result<Action, ApiError> {
    use Method::*;
    Ok(match (req.segments().as_slice(), &req.method) {
        ([] | [""], Get) => action(list_campaigns),
        ([] | [""], Post) => action(create_campaign),
        ([] | [""], _) => return Err(ApiError::MethodNotAllowed("GET, POST")),
        ([c], Get) => {
            let c = id(c)?;
            action(move |req| get_campaign(req, c))
        }
        ([c] | [c, ""], Put) => {
            let c = id(c)?;
            action(move |req| update_campaign(req, c))
        }
        ([c] | [c, ""], Delete) => {
            let c = id(c)?;
            action(move |req| delete_campaign(req, c))
        }
        ([c] | [c, ""], Post) => {
            let c = id(c)?;
            action(move |req| add_recording(req, c))
        }
        ([c, ""], Get) => {
            let c = id(c)?;
            action(move |req| list_recordings(req, c))
        }
        ([_] | [_, ""], _) => return Err(ApiError::MethodNotAllowed("GET, POST, PUT, DELETE")),
        ([c, cid] | [c, cid, ""], Delete) => {
            let (c, cid) = (id(c)?, decode_path(cid));
            action(move |req| delete_recording(req, c, &cid))
        }
        ([c, "purge"] | [c, "purge", ""], Post) => {
            let c = id(c)?;
            action(move |_| purge_recordings(c))
        }
        ([c, "search"] | [c, "search", ""], Get) => {
            let c = id(c)?;
            action(move |req| search_recordings(req, c))
        }
        ([c, cid] | [c, cid, ""], Get) => {
            let (c, cid) = (id(c)?, decode_path(cid));
            action(move |req| get_recording(req, c, &cid))
        }
        ([_, "search"] | [_, "search", ""], _) => {
            return Err(ApiError::MethodNotAllowed("GET, DELETE"))
        }
        ([_, "purge"] | [_, "purge", ""], _) => {
            return Err(ApiError::MethodNotAllowed("GET, POST, DELETE"))
        }
        ([_, _] | [_, _, ""], _) => return Err(ApiError::MethodNotAllowed("GET, DELETE")),
        _ => return Err(ApiError::NotFound),
    })
}

fn list_campaigns(req: &Request) -> Result<Reply, ApiError> {
    let filters = campaign::Filters::from_query(&req.query)?;
    let page = Pagination::from_query(&req.query)?;
    Ok(Reply::ok(&campaign::list(&db::open()?, &filters, page)?))
}

/// `{"total": 1, "items": [campaign]}`, as in 2013, with the campaign's `ETag`; 304 when
/// `If-None-Match` names it.
fn get_campaign(req: &Request, campaign_id: i64) -> Result<Reply, ApiError> {
    let found = campaign::get(&db::open()?, campaign_id)?.ok_or(ApiError::NotFound)?;
    let version = found.version;
    Ok(conditional::read(req, version, || {
        Reply::ok(&List {
            total: 1,
            items: vec![found],
        })
    }))
}

/// 201, the new id as a JSON integer, and `Location`.
fn create_campaign(req: &Request) -> Result<Reply, ApiError> {
    let sent = req.json_object()?;
    let changes = body::check(&sent, campaign::FIELDS)?;
    body::require(&sent, campaign::REQUIRED)?;
    let db = db::open()?;
    let created = campaign::create(&db, &changes)?;
    if let Some(campaign) = campaign::get(&db, created)? {
        events::emit("campaigns", "created", created, &campaign);
    }
    let location = req.url(&format!("/1.0/recording_campaigns/{created}"));
    Ok(Reply::json(201, &created).with_location(location))
}

/// 200 `"Updated: <id>"` and the new `ETag`. 404 before anything else is looked at (with
/// `If-Match`, which nothing matches then: the body, 400, then 412); then the body (400), then
/// `If-Match` (412).
fn update_campaign(req: &Request, campaign_id: i64) -> Result<Reply, ApiError> {
    let db = db::open()?;
    let before = again_while_changed(|| {
        let Some(before) = campaign::get(&db, campaign_id)? else {
            // With `If-Match` (which nothing matches), 412; the body first, as for a
            // campaign that exists.
            if req.header("if-match").is_some() {
                body::check(&req.json_object()?, campaign::FIELDS)?;
            }
            conditional::check_if_match(req, None)?;
            return Err(ApiError::NotFound);
        };
        let changes = body::check(&req.json_object()?, campaign::FIELDS)?;
        conditional::check_if_match(req, Some(before.version))?;
        let guard = conditional::write_guard(req, before.version);
        let written = campaign::update(&db, &before, &changes, guard)?;
        Ok(written.map(|()| before.version))
    })?;
    let after = campaign::get(&db, campaign_id)?;
    if let Some(after) = after.as_ref().filter(|a| a.version != before) {
        events::emit("campaigns", "edited", campaign_id, after);
    }
    let version = after.map_or(0, |c| c.version);
    Ok(Reply::ok(&format!("Updated: {campaign_id}"))
        .with_header("etag", conditional::etag(version)))
}

/// 200 `"Deleted: True"`; 412 `["campaign_not_empty"]` while it has recordings.
fn delete_campaign(req: &Request, campaign_id: i64) -> Result<Reply, ApiError> {
    let db = db::open()?;
    let deleted = again_while_changed(|| {
        let existing = conditional::existing(req, campaign::get(&db, campaign_id)?, |c| c.version)?;
        let guard = conditional::write_guard(req, existing.version);
        Ok(campaign::delete(&db, campaign_id, guard)?.then_some(existing))
    })?;
    events::emit("campaigns", "deleted", campaign_id, &deleted);
    Ok(Reply::ok(&"Deleted: True"))
}

fn list_recordings(req: &Request, campaign_id: i64) -> Result<Reply, ApiError> {
    let [page, size] = Pagination::RULES;
    req.query.check(&[
        page,
        size,
        ("caller", any),
        ("agent_no", any),
        ("cid", any),
        ("from", date),
        ("until", date),
    ])?;
    let page = Pagination::from_query(&req.query)?;
    let filters = recording_list::Filters {
        caller: req.query.get("caller"),
        agent_no: req.query.get("agent_no"),
        cid: req.query.get("cid"),
        time: TimeRange::from_query(&req.query),
    };
    let db = db::open()?;
    Ok(Reply::ok(&recording_list::list(
        &db,
        campaign_id,
        &filters,
        page,
    )?))
}

/// `caller` or the agent's number equal to `key`; without `key`, the whole list; both within
/// `from` and `until` when given.
fn search_recordings(req: &Request, campaign_id: i64) -> Result<Reply, ApiError> {
    let [page, size] = Pagination::RULES;
    req.query
        .check(&[page, size, ("key", any), ("from", date), ("until", date)])?;
    let page = Pagination::from_query(&req.query)?;
    let time = TimeRange::from_query(&req.query);
    let db = db::open()?;
    let found = match req.query.get("key") {
        Some(key) => recording_list::search(&db, campaign_id, key, &time, page)?,
        None => {
            let all = recording_list::Filters {
                time,
                ..Default::default()
            };
            recording_list::list(&db, campaign_id, &all, page)?
        }
    };
    Ok(Reply::ok(&found))
}

/// How many expired recordings a recording POST deletes on its way (retention): few, so the
/// hook stays fast, but more than it adds, so a campaign that the hook feeds stays clean.
const PURGE_ON_ADD: i64 = 10;

/// How many expired recordings `POST .../purge` deletes at most, so that one request stays
/// short and holds the write lock briefly; `remaining` tells the client to call again.
const PURGE_BATCH: i64 = 1000;

/// 201 `"Added: True"`; the campaign of the URL, whatever the body says. A campaign with a
/// retention then loses a few expired recordings, in a statement of their own: one that
/// fails is logged, and the next recording's purge does its work.
fn add_recording(req: &Request, campaign_id: i64) -> Result<Reply, ApiError> {
    let db = db::open()?;
    let campaign = campaign::get(&db, campaign_id)?.ok_or(ApiError::NotFound)?;
    let sent = req.json_object()?;
    let changes = body::check(&sent, recording::FIELDS)?;
    body::require(&sent, &["cid"])?;
    let new: NewRecording = body::apply(&NewRecording::default(), &changes)?;
    let cid = new.cid.clone();
    recording::add(&db, campaign_id, new)?;
    if let Some(added) = recording::get(&db, campaign_id, &cid)? {
        events::emit("recordings", "created", &added.cid, &added);
    }
    if let Some(days) = campaign.retention_days {
        match recording::purge(&db, campaign_id, days, PURGE_ON_ADD) {
            Ok(purged) => stored_audio::remove(&db, &purged.leftovers),
            Err(e) => eprintln!("retention on a recording's way: {e}"),
        }
    }
    Ok(Reply::json(201, &"Added: True"))
}

/// `{"deleted": N, "remaining": M}`: one batch of the campaign's expired recordings deleted.
fn purge_recordings(campaign_id: i64) -> Result<Reply, ApiError> {
    let db = db::open()?;
    let campaign = campaign::get(&db, campaign_id)?.ok_or(ApiError::NotFound)?;
    let purged = match campaign.retention_days {
        Some(days) => recording::purge(&db, campaign_id, days, PURGE_BATCH)?,
        None => recording::Purged::default(),
    };
    stored_audio::remove(&db, &purged.leftovers);
    Ok(Reply::ok(&purged))
}

/// One recording, with its `ETag` (beyond the 2013 API: the tag a conditional DELETE needs);
/// 304 when `If-None-Match` names it.
fn get_recording(req: &Request, campaign_id: i64, cid: &str) -> Result<Reply, ApiError> {
    let found = recording::get(&db::open()?, campaign_id, cid)?.ok_or(ApiError::NotFound)?;
    Ok(conditional::read(req, found.version, || Reply::ok(&found)))
}

/// 200 `"Deleted: True"`, or 404; `If-Match` (412) checked on the recording read, and again
/// by the one statement that deletes. Its audio goes too.
fn delete_recording(req: &Request, campaign_id: i64, cid: &str) -> Result<Reply, ApiError> {
    let db = db::open()?;
    let (existing, leftovers) = again_while_changed(|| {
        let existing =
            conditional::existing(req, recording::get(&db, campaign_id, cid)?, |r| r.version)?;
        let guard = conditional::write_guard(req, existing.version);
        let deleted = recording::delete(&db, &existing, guard)?;
        Ok(deleted.map(|leftovers| (existing, leftovers)))
    })?;
    events::emit("recordings", "deleted", cid, &existing);
    stored_audio::remove(&db, &leftovers);
    Ok(Reply::ok(&"Deleted: True"))
}
