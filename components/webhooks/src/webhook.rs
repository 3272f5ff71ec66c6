//! A subscription to change events: its representation, table and rules.

use common::{
    body::{non_empty_text, Kind},
    db::Db,
    events,
    listing::{Column, Listing},
    outbound,
    pagination::Pagination,
    query::Query,
    resource::{list_rows, Resource},
    ApiError, List,
};
use serde_json::Value;

common::table! {
    /// A subscription as the API shows it: never its secret.
    pub struct Webhook in "webhooks" as "w" {
        url: String = Kind::Custom(allowed_url),
        events: Vec<String> = Kind::Custom(event_names) => vec!["*".to_string()],
        #[serde(skip_serializing)]
        secret: String = Kind::Custom(non_empty_text),
        active: bool = Kind::Bool => true,
    }
}

impl Resource for Webhook {
    const PATH: &'static str = "/1.0/webhooks";
    const REQUIRED: &'static [&'static str] = &["url", "secret"];
    type List = List<Webhook>;

    /// Searched: the URL (`migrations/0014_lists.sql`).
    const LISTING: Listing = Listing {
        alias: "w",
        search: "webhooks_search",
        order: &["id", "url", "active"],
        default_order: &["id"],
        filters: &[("url", Column::Text), ("active", Column::Flag)],
    };

    fn list(db: &Db, query: &Query, page: Option<Pagination>) -> Result<List<Webhook>, ApiError> {
        list_rows(db, query, page)
    }

    // Updated by the default: a PUT without `secret` keeps the one it had (the
    // representation never shows it), as only the keys sent are written.

    // Deleted by the default: its deliveries and their attempts go with it (foreign keys,
    // `ON DELETE CASCADE`).
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
