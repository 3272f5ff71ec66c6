//! `/1.0/users/`: XiVO users, their line, and the voicemail rules that tie them.

mod export;
mod import;
mod user;

use common::{
    http::{media, Action, Request, Service},
    resource, ApiError,
};
use spin_sdk::http::{IncomingRequest, Method, ResponseOutparam};
use spin_sdk::http_component;

/// How this component serves: JSON, behind the API's admission, its changes told to the webhooks after each response.
const SERVICE: Service = Service {
    component: "users",
    offers: common::negotiation::JSON,
    admit: Some(common::auth::admit),
    router: route,
    after_response: Some(common::events::deliver_pending),
};

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    common::http::serve(&SERVICE, req, out).await
}

/// Users in bulk as CSV (`import`, `export`), then the collection and its items.
fn route(req: &Request) -> Result<Action, ApiError> {
    match (req.segments().as_slice(), &req.method) {
        (["import"] | ["import", ""], Method::Post) => Ok(media(import::import)),
        (["import"] | ["import", ""], _) => Err(ApiError::MethodNotAllowed("POST")),
        (["export"] | ["export", ""], Method::Get) => Ok(media(export::export)),
        (["export"] | ["export", ""], _) => Err(ApiError::MethodNotAllowed("GET")),
        _ => resource::route::<user::User>(req),
    }
}
