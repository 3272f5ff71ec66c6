//! `/1.0/CallCenter/agents/` and `/1.0/CallCenter/queues/`: call-center agents and queues,
//! one component for both, told apart by the route Spin matched.

mod agent;
mod queue;

use common::{
    db::Db,
    http::{Action, Request, Service},
    pagination::Pagination,
    query::Query,
    resource::{self, Resource},
    ApiError,
};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

/// How this component serves: JSON, behind the API's admission, its changes told to the webhooks after each response.
const SERVICE: Service = Service {
    component: "callcenter",
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
    // `spin-component-route`: the route of spin.toml that matched, without its `/...`.
    match req.header("spin-component-route") {
        Some(agent::Agent::PATH) => resource::route::<agent::Agent>(req),
        Some(queue::Queue::PATH) => resource::route::<queue::Queue>(req),
        _ => Err(ApiError::NotFound),
    }
}

/// A bare array, as in 2013 (agents and queues alike): sorted by `number` compared as text,
/// unless the query asks for another order; searched and filtered as it asks.
pub fn list_array<R: Resource>(
    db: &Db,
    query: &Query,
    page: Option<Pagination>,
) -> Result<Vec<R>, ApiError> {
    let selection = R::LISTING.select(query);
    let sql = format!(
        "{}{} ORDER BY {} LIMIT ? OFFSET ?",
        R::select(),
        selection.from(&R::from()),
        selection.order
    );
    let mut values = selection.values;
    values.extend(Pagination::limit_offset(page));
    db.query(&sql, &values)?.map(R::read)
}
