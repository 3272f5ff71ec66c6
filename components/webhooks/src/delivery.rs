//! A subscription's deliveries: the latest ones with their attempts, and sending one again.

use common::{
    db::{Db, Row},
    events::{self, Outcome},
    pagination::Pagination,
    params, ApiError, List,
};
use serde::Serialize;

/// A delivery as the API shows it.
#[derive(Serialize, Debug)]
pub struct Delivery {
    pub id: String,
    pub event: String,
    pub at: String,
    /// Every attempt, oldest first.
    pub attempts: Vec<Outcome>,
}

fn exists(db: &Db, webhook_id: i64) -> Result<bool, ApiError> {
    db.exists(
        "SELECT COUNT(*) FROM webhooks WHERE id = ?",
        &params![webhook_id],
    )
}

/// The subscription's deliveries, newest first (404 when there is no such subscription).
pub fn list(
    db: &Db,
    webhook_id: i64,
    page: Option<Pagination>,
) -> Result<List<Delivery>, ApiError> {
    if !exists(db, webhook_id)? {
        return Err(ApiError::NotFound);
    }
    let (total, rows) = db.list(
        "SELECT id, event, at",
        " FROM webhook_deliveries WHERE webhook_id = ?",
        "rowid DESC",
        &params![webhook_id],
        page,
    )?;
    let items = rows.map(|row| read(db, webhook_id, row))?;
    Ok(List { total, items })
}

fn read(db: &Db, webhook_id: i64, row: &Row) -> Result<Delivery, ApiError> {
    let id = row.text("id")?;
    let attempts = db
        .query(
            "SELECT at, status, error, duration_ms FROM webhook_attempts \
             WHERE webhook_id = ? AND delivery_id = ? ORDER BY rowid",
            &params![webhook_id, id],
        )?
        .map(|a| {
            Ok(Outcome {
                at: a.text("at")?,
                status: a.opt_int("status")?.and_then(|s| u16::try_from(s).ok()),
                error: a.opt_text("error")?,
                duration_ms: a.real("duration_ms")?,
            })
        })?;
    Ok(Delivery {
        id,
        event: row.text("event")?,
        at: row.text("at")?,
        attempts,
    })
}

/// Send a delivery again, once, now, to the subscription's current URL with its current
/// secret; the delivery with all its attempts (404 when there is no such delivery).
pub fn redeliver(db: &Db, webhook_id: i64, delivery_id: &str) -> Result<Delivery, ApiError> {
    let target = db.query_one(
        "SELECT w.url, w.secret, d.event, d.at, d.body FROM webhooks w \
         JOIN webhook_deliveries d ON d.webhook_id = w.id WHERE w.id = ? AND d.id = ?",
        &params![webhook_id, delivery_id],
        |row| {
            Ok((
                row.text("url")?,
                row.text("secret")?,
                events::Delivery {
                    webhook_id,
                    id: delivery_id.to_string(),
                    event: row.text("event")?,
                    at: row.text("at")?,
                    body: row.text("body")?,
                },
            ))
        },
    )?;
    let (url, secret, delivery) = target.ok_or(ApiError::NotFound)?;
    events::attempt_delivery(db, &url, &secret, &delivery)?;
    let row = db.query(
        "SELECT id, event, at FROM webhook_deliveries WHERE webhook_id = ? AND id = ?",
        &params![webhook_id, delivery_id],
    )?;
    let row = row.first().ok_or(ApiError::NotFound)?;
    read(db, webhook_id, &row)
}
