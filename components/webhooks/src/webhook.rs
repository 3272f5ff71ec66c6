//! A subscription to change events: its representation, table and rules.

use common::{
    body::{non_empty_text, Kind},
    db::Db,
    events, outbound,
    pagination::Pagination,
    params,
    query::Query,
    resource::{list_by_id, update_row, Changes, Resource},
    ApiError, List,
};
use serde_json::Value;

common::table! {
    /// A subscription as the API shows it: never its secret.
    pub struct Webhook in "webhooks" as "w" {
        url: String = Kind::Custom(allowed_url),
        events: Vec<String> = Kind::Custom(event_names) => vec!["*".to_string()],
        #[serde(skip_serializing, default)]
        secret: String = Kind::Custom(non_empty_text),
        active: bool = Kind::Bool => true,
    }
}

impl Resource for Webhook {
    const PATH: &'static str = "/1.0/webhooks";
    const REQUIRED: &'static [&'static str] = &["url", "secret"];
    type List = List<Webhook>;

    fn list(db: &Db, _: &Query, page: Option<Pagination>) -> Result<List<Webhook>, ApiError> {
        list_by_id(db, page)
    }

    /// A PUT without `secret` keeps the one it had (the representation never shows it).
    fn update(
        db: &Db,
        id: i64,
        before: &Webhook,
        after: &Webhook,
        changes: &Changes,
    ) -> Result<(), ApiError> {
        let mut after = after.clone();
        if !changes.contains_key("secret") {
            after.secret.clone_from(&before.secret);
        }
        update_row(db, id, &after)
    }

    /// Its deliveries go with it.
    fn delete(db: &Db, id: i64, _: &Webhook, _: &Query) -> Result<(), ApiError> {
        db.execute(
            "DELETE FROM webhook_attempts WHERE webhook_id = ?",
            &params![id],
        )?;
        db.execute(
            "DELETE FROM webhook_deliveries WHERE webhook_id = ?",
            &params![id],
        )?;
        db.execute("DELETE FROM webhooks WHERE id = ?", &params![id])
    }
}

/// An http or https URL whose host the deployment lets the components call (the Spin
/// variable `webhook_allowed_hosts`, the value `spin.toml` gives `allowed_outbound_hosts`).
fn allowed_url(value: &Value) -> Option<Value> {
    let url = value.as_str()?;
    let allowed = spin_sdk::variables::get("webhook_allowed_hosts").unwrap_or_default();
    outbound::allows(&allowed, url).then(|| value.clone())
}

/// A non-empty list of event names (`users_created`...), or `["*"]` for all.
fn event_names(value: &Value) -> Option<Value> {
    let names = value.as_array()?;
    let known = |v: &Value| v.as_str().is_some_and(|n| n == "*" || events::is_event(n));
    (!names.is_empty() && names.iter().all(known)).then(|| value.clone())
}
