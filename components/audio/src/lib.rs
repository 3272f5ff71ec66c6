//! `/1.0/recording_campaigns/<campaign>/<cid>/audio`: a recording's audio (beyond the 2013
//! API), routed here by `spin.toml` as `/1.0/recording_campaigns/:campaign/:cid/audio`, so
//! Spin gives the campaign and the cid in the `spin-path-match-campaign` and
//! `spin-path-match-cid` headers. The recording itself is the campaigns component's; here
//! are its audio's bytes and the audio columns of its row.
//!
//! | method | answer |
//! |---|---|
//! | `GET`, `HEAD` | the audio, whole or by range |
//! | `PUT` | upload it (201, or 200 when it replaces one) |
//! | `DELETE` | remove it |

mod audio;
mod sniff;

use common::{
    conditional, db, events,
    http::{action, id, media, Action, Body, Request, Service},
    negotiation,
    query::decode_path,
    range::{self, Ranged},
    ApiError, Reply,
};
use spin_sdk::http::{IncomingRequest, Method, ResponseOutparam};
use spin_sdk::http_component;

/// How this component serves: audio and JSON, behind the API's admission, its changes told to
/// the webhooks after each response.
const SERVICE: Service = Service {
    component: "audio",
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
    // Only the route's own path: nothing follows it.
    if !req.segments().is_empty() {
        return Err(ApiError::NotFound);
    }
    let parameter = |name| req.header(name).unwrap_or("");
    let campaign = id(parameter("spin-path-match-campaign"))?;
    let cid = decode_path(parameter("spin-path-match-cid"));
    Ok(match &req.method {
        Get | Head => media(move |req, _| get_audio(req, campaign, &cid)),
        Put => media(move |req, body| put_audio(req, body, campaign, &cid)),
        Delete => action(move |_| delete_audio(campaign, &cid)),
        _ => return Err(ApiError::MethodNotAllowed("GET, HEAD, PUT, DELETE")),
    })
}

/// 201 the first time, 200 when it replaces, `{"content_type", "bytes", "sha256"}`. 415 for a
/// type that is neither `audio/*` nor `application/octet-stream`; 413 past `audio_max_bytes`
/// (at once when `Content-Length` says so), and nothing changes; 404 when the recording does
/// not exist. Written in chunks of `audio_chunk_bytes`.
fn put_audio(
    req: &Request,
    mut body: Body,
    campaign_id: i64,
    cid: &str,
) -> Result<Reply, ApiError> {
    let content_type = req
        .header("content-type")
        .map(negotiation::media_type)
        .filter(|t| {
            t == negotiation::OCTET_STREAM
                || t.strip_prefix("audio/")
                    .is_some_and(|s| !s.is_empty() && s != "*")
        })
        .ok_or(ApiError::UnsupportedMediaType)?;
    negotiation::check_accept(req.header("accept"), negotiation::JSON)?;
    let settings = audio::Settings::from_variables();
    let announced = req
        .header("content-length")
        .and_then(|n| n.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > settings.max_bytes) {
        return Err(ApiError::PayloadTooLarge);
    }
    let db = db::open()?;
    let upload = audio::upload(&db, campaign_id, cid, content_type, &mut body, &settings)?;
    let (status, action) = if upload.replaced {
        (200, "edited")
    } else {
        (201, "created")
    };
    events::emit("audio", action, cid, &upload.audio);
    Ok(Reply::json(status, &upload.audio))
}

/// The audio, whole (200) or one range of it (206, `Range: bytes=...`; 416 when no byte of it
/// exists), with its `ETag` (its SHA-256) and `Accept-Ranges`; 304 when `If-None-Match` names
/// it; 406 when `Accept` does not allow its type; 404 when there is none. `HEAD`: the same
/// head, no body.
fn get_audio(req: &Request, campaign_id: i64, cid: &str) -> Result<Reply, ApiError> {
    let found = audio::find(&db::open()?, campaign_id, cid)?.ok_or(ApiError::NotFound)?;
    let audio = found.ok_or(ApiError::NotFound)?;
    // Its own type, else bytes: a generated client's way to ask for a body it cannot type.
    let served_as = negotiation::first_accepted(
        req.header("accept"),
        &[&audio.content_type, negotiation::OCTET_STREAM],
    )
    .ok_or(ApiError::NotAcceptable)?
    .to_string();
    let tag = format!("\"{}\"", audio.sha256);
    if conditional::none_match_fails(req, &tag) {
        return Ok(Reply::empty(304)
            .with_header("etag", tag)
            .with_header("accept-ranges", "bytes"));
    }
    let (status, first, length) = match range::parse(req.header("range"), audio.bytes) {
        Ranged::Whole => (200, 0, audio.bytes),
        Ranged::Part { first, last } => (206, first, last - first + 1),
        Ranged::Unsatisfiable => return Err(ApiError::RangeNotSatisfiable(audio.bytes)),
    };
    let mut reply = Reply::streamed(status, audio::stream(&audio, first, length)?)
        .with_header("content-type", served_as)
        .with_header("etag", tag)
        .with_header("accept-ranges", "bytes");
    if status == 206 {
        let last = first + length - 1;
        let range = format!("bytes {first}-{last}/{}", audio.bytes);
        reply = reply.with_header("content-range", range);
    }
    Ok(reply)
}

/// 200 `"Deleted: True"`, or 404 when the recording has no audio.
fn delete_audio(campaign_id: i64, cid: &str) -> Result<Reply, ApiError> {
    let deleted = audio::delete(&db::open()?, campaign_id, cid)?;
    events::emit("audio", "deleted", cid, &deleted);
    Ok(Reply::ok(&"Deleted: True"))
}
