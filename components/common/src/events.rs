//! Change events, and their delivery to the webhooks that subscribe to them (README, "Change
//! events: webhooks").
//!
//! A handler calls [`emit`] once its write has committed (never for a write that failed);
//! a component that emits events runs [`deliver_pending`] once the client has its response (its
//! `Service`'s `after_response`). Each
//! matching active subscription then gets a signed `POST` (all of an event's at once:
//! `webhook_post.rs`), retried twice with a short back-off, every attempt's outcome recorded;
//! the component's instance lives on until the deliveries are done (Spin keeps it until
//! `handle` returns).

use std::cell::RefCell;
use std::time::Duration;

use serde::Serialize;

pub use crate::webhook_post::Outcome;
use crate::{
    clock::sleep,
    dates,
    db::{self, Db},
    error::ApiError,
    params, random,
    table::Stored,
    webhook_post::{send_all, Post},
};

/// The waits before the second and the third attempt.
const BACKOFF: [Duration; 2] = [Duration::from_millis(200), Duration::from_millis(800)];

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
    /// JSON text.
    resource_id: String,
    /// JSON text.
    data: String,
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
        resource_id: json_text(&resource_id),
        data: json_text(data),
    };
    PENDING.with(|pending| pending.borrow_mut().push(event));
}

/// `data` as JSON text, by the writer the responses use (`serde_json::to_value` and `json!`
/// would add a second writer per resource, and one of `Value`); the delivery's body is put
/// together from it (`delivery`).
fn json_text(data: &impl Serialize) -> String {
    serde_json::to_string(data).unwrap_or_else(|_| "null".into())
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
    let db = db::open()?;
    let rows = db.query(
        "SELECT id, url, events, secret FROM webhooks WHERE active = 1 ORDER BY id",
        &[],
    )?;
    let subscribers = rows.map(|row| {
        Ok(Subscriber {
            id: row.int("id")?,
            url: row.text("url")?,
            events: Stored::from_sql(row.value("events")?).unwrap_or_default(),
            secret: row.text("secret")?,
        })
    })?;
    for event in events {
        let deliveries: Vec<(&Subscriber, Delivery)> = subscribers
            .iter()
            .filter(|s| s.events.iter().any(|e| e == "*" || *e == event.name))
            .map(|s| (s, delivery(s, event)))
            .collect();
        if !deliveries.is_empty() {
            deliver_event(&db, &deliveries)?;
        }
    }
    Ok(())
}

/// The delivery of `event` to `subscriber`, its body as sent.
fn delivery(subscriber: &Subscriber, event: &Event) -> Delivery {
    let id = random::hex(16);
    let at = dates::now();
    let text = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let body = format!(
        "{{\"event\":{},\"id\":{},\"at\":{},\"resource\":{},\"resource_id\":{},\"data\":{}}}",
        text(&event.name),
        text(&id),
        text(&at),
        text(event.resource),
        event.resource_id,
        event.data
    );
    Delivery {
        webhook_id: subscriber.id,
        id,
        event: event.name.clone(),
        at,
        body,
    }
}

/// Attempt the deliveries of one event, to all its subscriptions at once, until each
/// succeeds, three times at most; and record each round's attempts once the round is over, in
/// one write (the deliveries themselves with the first). So an event costs the database one
/// to three writes however many subscriptions it has, and takes as long as its slowest
/// receiver. Sent one after the other, each recorded alone, the deliveries to a few failing
/// subscriptions made every request's event four writes each and seconds of work, whose
/// writes the requests that followed queued behind (README, "Change events: webhooks").
fn deliver_event(db: &Db, deliveries: &[(&Subscriber, Delivery)]) -> Result<(), ApiError> {
    let mut left: Vec<&(&Subscriber, Delivery)> = deliveries.iter().collect();
    for attempt in 0..=BACKOFF.len() {
        if attempt > 0 {
            sleep(BACKOFF[attempt - 1]);
        }
        let posts: Vec<Post> = left
            .iter()
            .map(|(s, d)| post(&s.url, &s.secret, d))
            .collect();
        let outcomes = send_all(&posts);
        let round: Vec<(&Delivery, &Outcome)> =
            left.iter().map(|(_, d)| d).zip(&outcomes).collect();
        if attempt == 0 {
            record_deliveries(db, &round)?;
        } else {
            record_attempts(db, &round)?;
        }
        left = left
            .into_iter()
            .zip(&outcomes)
            .filter(|(_, outcome)| !outcome.succeeded())
            .map(|(delivery, _)| delivery)
            .collect();
        if left.is_empty() {
            break;
        }
    }
    Ok(())
}

fn post<'a>(url: &'a str, secret: &'a str, delivery: &'a Delivery) -> Post<'a> {
    Post {
        url,
        secret,
        event: &delivery.event,
        delivery_id: &delivery.id,
        body: &delivery.body,
    }
}

/// `(?, ?, ...)` (`width` marks) once for each of `rows` rows: the rows of a `VALUES`.
fn value_rows(rows: usize, width: usize) -> String {
    let row = format!("({})", crate::text::join(&vec!["?"; width], ", "));
    crate::text::join(&vec![row; rows], ", ")
}

/// Keep deliveries in their subscriptions' histories with their first attempts, in one
/// statement: each attempt rides in `first_attempt`, which a trigger turns into its row, as
/// another drops what falls out of the history (the latest 50 are kept): `migrations/0010`
/// and `0011`. A delivery whose subscription has gone meanwhile is not kept.
fn record_deliveries(db: &Db, round: &[(&Delivery, &Outcome)]) -> Result<(), ApiError> {
    let mut values = Vec::new();
    for (delivery, first) in round {
        let first = serde_json::to_string(first).map_err(ApiError::internal)?;
        values.extend(params![
            delivery.webhook_id,
            delivery.id,
            delivery.event,
            delivery.at,
            delivery.body,
            first
        ]);
    }
    let sql = format!(
        "INSERT INTO webhook_deliveries (webhook_id, id, event, at, body, first_attempt) \
         SELECT * FROM (VALUES {}) AS d \
         WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = d.column1)",
        value_rows(round.len(), 6)
    );
    db.write(&sql, &values).map(drop)
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

/// Send a stored `delivery` to `url` once, signed with `secret`, and record the outcome.
pub fn attempt_delivery(
    db: &Db,
    url: &str,
    secret: &str,
    delivery: &Delivery,
) -> Result<Outcome, ApiError> {
    let outcome = send_all(&[post(url, secret, delivery)])
        .pop()
        .ok_or_else(|| ApiError::internal("a post without an outcome"))?;
    record_attempts(db, &[(delivery, &outcome)])?;
    Ok(outcome)
}

/// Add attempts to their deliveries' records, in one statement (none for a delivery that has
/// gone meanwhile).
fn record_attempts(db: &Db, round: &[(&Delivery, &Outcome)]) -> Result<(), ApiError> {
    let mut values = Vec::new();
    for (delivery, outcome) in round {
        values.extend(params![
            delivery.webhook_id,
            delivery.id,
            outcome.at,
            outcome.status.map(i64::from),
            outcome.error,
            outcome.duration_ms
        ]);
    }
    let sql = format!(
        "INSERT INTO webhook_attempts (webhook_id, delivery_id, at, status, error, duration_ms) \
         SELECT * FROM (VALUES {}) AS a WHERE EXISTS (SELECT 1 FROM webhook_deliveries \
         WHERE webhook_id = a.column1 AND id = a.column2)",
        value_rows(round.len(), 6)
    );
    db.write(&sql, &values).map(drop)
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
}
