//! Change events, and their delivery to the webhooks that subscribe to them (README, "Change
//! events: webhooks").
//!
//! A handler calls [`emit`] once its write has committed (never for a write that failed);
//! [`crate::http::serve`] calls [`deliver_pending`] once the client has its response. Each
//! matching active subscription then gets a signed `POST`, retried twice with a short
//! back-off, every attempt's outcome recorded; the component's instance lives on until the
//! deliveries are done (Spin keeps it until `handle` returns).

use std::cell::RefCell;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;
use spin_sdk::wit::wasi::http0_2_0::{outgoing_handler, types as wasi_http};

use crate::{dates, db::Db, http::random_hex, params, ApiError};

/// How long one attempt may take, connection to response head.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// The waits before the second and the third attempt.
const BACKOFF: [Duration; 2] = [Duration::from_millis(200), Duration::from_millis(800)];

/// How many deliveries a subscription's history keeps (the latest).
pub const HISTORY: i64 = 50;

/// The families that emit events, as the events name them.
pub const FAMILIES: &[&str] = &[
    "users",
    "voicemails",
    "agents",
    "queues",
    "campaigns",
    "recordings",
    "audio",
];

/// What a write did to a family's resource.
pub const ACTIONS: &[&str] = &["created", "edited", "deleted"];

/// One change, as a delivery's body tells it.
struct Event {
    name: String,
    resource: &'static str,
    resource_id: Value,
    data: Value,
}

thread_local! {
    /// The events of the request being served (a component instance serves one request).
    static PENDING: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
}

/// Queue `<resource>_<action>` (`users_created`) about `resource_id`, with `data` (the
/// representation after the change; before it, for a deletion), for delivery after the
/// response. Call it only once the write has committed.
pub fn emit(
    resource: &'static str,
    action: &str,
    resource_id: impl Serialize,
    data: &impl Serialize,
) {
    let event = Event {
        name: format!("{resource}_{action}"),
        resource,
        resource_id: serde_json::to_value(resource_id).unwrap_or(Value::Null),
        data: serde_json::to_value(data).unwrap_or(Value::Null),
    };
    PENDING.with(|pending| pending.borrow_mut().push(event));
}

/// Whether `name` is an event some family emits.
pub fn is_event(name: &str) -> bool {
    FAMILIES.iter().any(|family| {
        ACTIONS
            .iter()
            .any(|action| name.strip_prefix(family) == Some(&format!("_{action}")))
    })
}

/// Deliver the events this request emitted to the subscriptions that want them. Failures go
/// to the log: the client has its answer already.
pub fn deliver_pending() {
    let events = PENDING.with(|pending| std::mem::take(&mut *pending.borrow_mut()));
    if events.is_empty() {
        return;
    }
    if let Err(e) = deliver(&events) {
        eprintln!("webhooks: {e}");
    }
}

/// An active subscription.
struct Subscriber {
    id: i64,
    url: String,
    events: Vec<String>,
    secret: String,
}

fn deliver(events: &[Event]) -> Result<(), ApiError> {
    let db = Db::open()?;
    let rows = db.query(
        "SELECT id, url, events, secret FROM webhooks WHERE active = 1 ORDER BY id",
        &[],
    )?;
    let subscribers = rows.map(|row| {
        Ok(Subscriber {
            id: row.int("id")?,
            url: row.text("url")?,
            events: serde_json::from_str(&row.text("events")?).unwrap_or_default(),
            secret: row.text("secret")?,
        })
    })?;
    for event in events {
        for subscriber in &subscribers {
            let wanted = subscriber
                .events
                .iter()
                .any(|e| e == "*" || *e == event.name);
            if wanted {
                deliver_one(&db, subscriber, event)?;
            }
        }
    }
    Ok(())
}

/// Attempt a delivery of `event` to `subscriber` until it succeeds, three times at most, and
/// record each attempt once it is over (the delivery itself with the first): nothing is
/// written while the receiver is awaited, so the writes of the requests that follow do not
/// queue behind this one's.
fn deliver_one(db: &Db, subscriber: &Subscriber, event: &Event) -> Result<(), ApiError> {
    let delivery = Delivery {
        webhook_id: subscriber.id,
        id: random_hex(16),
        event: event.name.clone(),
        at: dates::now(),
        body: String::new(),
    };
    let body = json!({
        "event": event.name,
        "id": delivery.id,
        "at": delivery.at,
        "resource": event.resource,
        "resource_id": event.resource_id,
        "data": event.data,
    })
    .to_string();
    let delivery = Delivery { body, ..delivery };
    for attempt in 0..=BACKOFF.len() {
        if attempt > 0 {
            sleep(BACKOFF[attempt - 1]);
        }
        let outcome = attempt_once(&subscriber.url, &subscriber.secret, &delivery);
        if attempt == 0 {
            record_delivery(db, &delivery, &outcome)?;
        } else {
            record_attempt(db, &delivery, &outcome)?;
        }
        if outcome.succeeded() {
            break;
        }
    }
    Ok(())
}

/// Keep a delivery in its subscription's history (the latest [`HISTORY`]) with its first
/// attempt, in one statement (the attempt rides in `first_attempt`, which a trigger turns
/// into its row: `migrations/0010_writes_in_one_statement.sql`); then drop what falls out of
/// the history, a statement of its own (the next delivery does it, if this one cannot).
fn record_delivery(db: &Db, delivery: &Delivery, first: &Outcome) -> Result<(), ApiError> {
    let first = serde_json::to_string(first).map_err(ApiError::internal)?;
    db.write(
        "INSERT INTO webhook_deliveries (webhook_id, id, event, at, body, first_attempt) \
         SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?)",
        &params![
            delivery.webhook_id,
            delivery.id,
            delivery.event,
            delivery.at,
            delivery.body,
            first,
            delivery.webhook_id
        ],
    )?;
    db.write(
        "DELETE FROM webhook_deliveries WHERE webhook_id = ? AND rowid NOT IN \
         (SELECT rowid FROM webhook_deliveries WHERE webhook_id = ? ORDER BY rowid DESC LIMIT ?)",
        &params![delivery.webhook_id, delivery.webhook_id, HISTORY],
    )
    .map(drop)
}

/// A delivery as stored: what to send again.
pub struct Delivery {
    pub webhook_id: i64,
    pub id: String,
    pub event: String,
    /// When the event was delivered first.
    pub at: String,
    pub body: String,
}

/// One attempt's outcome: the receiver's status, or why there was none.
#[derive(Serialize, Debug)]
pub struct Outcome {
    pub at: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: f64,
}

impl Outcome {
    /// A 2xx from the receiver.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Send a stored `delivery` to `url` once, signed with `secret`, and record the outcome.
pub fn attempt_delivery(
    db: &Db,
    url: &str,
    secret: &str,
    delivery: &Delivery,
) -> Result<Outcome, ApiError> {
    let outcome = attempt_once(url, secret, delivery);
    record_attempt(db, delivery, &outcome)?;
    Ok(outcome)
}

/// Send `delivery` to `url` once, signed with `secret`: the outcome.
fn attempt_once(url: &str, secret: &str, delivery: &Delivery) -> Outcome {
    let at = dates::now();
    let started = Instant::now();
    let sent = post(url, secret, delivery);
    Outcome {
        at,
        status: sent.as_ref().ok().copied(),
        error: sent.err(),
        duration_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
    }
}

/// Add an attempt to a delivery's record (none when the delivery has gone meanwhile).
fn record_attempt(db: &Db, delivery: &Delivery, outcome: &Outcome) -> Result<(), ApiError> {
    db.write(
        "INSERT INTO webhook_attempts (webhook_id, delivery_id, at, status, error, duration_ms) \
         SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhook_deliveries \
         WHERE webhook_id = ? AND id = ?)",
        &params![
            delivery.webhook_id,
            delivery.id,
            outcome.at,
            outcome.status.map(i64::from),
            outcome.error,
            outcome.duration_ms,
            delivery.webhook_id,
            delivery.id,
        ],
    )
    .map(drop)
}

/// `sha256=<hex HMAC-SHA256 of body with secret>`: the `X-Xivo-Signature` header.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// POST the delivery's body; the receiver's status, or what went wrong. The response body is
/// not read.
fn post(url: &str, secret: &str, delivery: &Delivery) -> Result<u16, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("bad url: {e}"))?;
    let scheme = match uri.scheme_str() {
        Some("https") => wasi_http::Scheme::Https,
        Some("http") => wasi_http::Scheme::Http,
        _ => return Err("bad url: not http or https".into()),
    };
    let authority = uri.authority().ok_or("bad url: no host")?.to_string();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let body = delivery.body.as_bytes();
    let headers = wasi_http::Fields::from_list(&[
        ("content-type".into(), b"application/json".to_vec()),
        ("content-length".into(), body.len().to_string().into_bytes()),
        ("x-xivo-event".into(), delivery.event.clone().into_bytes()),
        ("x-xivo-delivery".into(), delivery.id.clone().into_bytes()),
        (
            "x-xivo-signature".into(),
            signature(secret, body).into_bytes(),
        ),
    ])
    .map_err(|e| format!("headers: {e:?}"))?;
    let request = wasi_http::OutgoingRequest::new(headers);
    let set = request.set_method(&wasi_http::Method::Post).is_ok()
        && request.set_scheme(Some(&scheme)).is_ok()
        && request.set_authority(Some(&authority)).is_ok()
        && request.set_path_with_query(Some(path)).is_ok();
    if !set {
        return Err("bad url".into());
    }
    let outgoing = request.body().map_err(|_| "no request body")?;
    let nanos = u64::try_from(TIMEOUT.as_nanos()).unwrap_or(u64::MAX);
    let options = wasi_http::RequestOptions::new();
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let future = outgoing_handler::handle(request, Some(options)).map_err(|e| format!("{e:?}"))?;
    let written = write_body(outgoing, body);
    // The response head, the request's failure, or the timeout, whichever comes first.
    let ready = future.subscribe();
    let deadline = wasi::clocks::monotonic_clock::subscribe_duration(nanos);
    wasi::io::poll::poll(&[&ready, &deadline]);
    match (future.get(), written) {
        // The runtime's own reason first: a refused host, for one, closes the body
        // stream while the body is still being written.
        (Some(Ok(Err(e))), _) => Err(format!("{e:?}")),
        (_, Err(e)) => Err(e),
        (None, Ok(())) => Err(format!("no answer within {} s", TIMEOUT.as_secs())),
        (Some(Err(())), Ok(())) => Err("the response was taken already".into()),
        (Some(Ok(Ok(response))), Ok(())) => Ok(response.status()),
    }
}

fn write_body(outgoing: wasi_http::OutgoingBody, body: &[u8]) -> Result<(), String> {
    {
        let stream = outgoing.write().map_err(|_| "request body not writable")?;
        for piece in body.chunks(4096) {
            stream
                .blocking_write_and_flush(piece)
                .map_err(|e| format!("sending the body: {e:?}"))?;
        }
    }
    wasi_http::OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))
}

fn sleep(duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    wasi::clocks::monotonic_clock::subscribe_duration(nanos).block();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names() {
        for name in [
            "users_created",
            "recordings_deleted",
            "audio_edited",
            "queues_edited",
        ] {
            assert!(is_event(name), "{name}");
        }
        for name in [
            "users",
            "users_",
            "webhooks_created",
            "users_updated",
            "*",
            "",
        ] {
            assert!(!is_event(name), "{name}");
        }
    }

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        let mac = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            mac,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
