//! `/1.0/CallCenter/agents/` and `/1.0/CallCenter/queues/`: call-center agents and queues,
//! one component for both, told apart by the route Spin matched.

mod agent;
mod queue;

use common::{
    http::{Action, Request},
    resource, ApiError,
};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    common::http::serve(req, out, route).await
}

fn route(req: &Request) -> Result<Action, ApiError> {
    // `spin-component-route`: the route of spin.toml that matched, without its `/...`.
    match req.header("spin-component-route") {
        Some(agent::Agent::PATH) => resource::route::<agent::Agent>(req),
        Some(queue::Queue::PATH) => resource::route::<queue::Queue>(req),
        _ => Err(ApiError::NotFound),
    }
}
