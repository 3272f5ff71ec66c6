//! `/1.0/webhooks/`: subscriptions to change events, and their deliveries.
//!
//! | path below the route | GET | POST | PUT | DELETE |
//! |---|---|---|---|---|
//! | `""`, `/` | list subscriptions | subscribe | | |
//! | `/5` | subscription 5 | | update it | delete it |
//! | `/5/deliveries` | its latest deliveries | | | |
//! | `/5/deliveries/<id>/redeliver` | | send it again | | |

mod delivery;
mod webhook;

use common::{
    db,
    http::{action, id, Action, Request, Service},
    pagination::Pagination,
    resource, ApiError, Reply,
};
use spin_sdk::http::{IncomingRequest, Method, ResponseOutparam};
use spin_sdk::http_component;

use webhook::Webhook;

/// How this component serves: JSON, behind the API's admission.
const SERVICE: Service = Service {
    component: "webhooks",
    offers: common::negotiation::JSON,
    admit: Some(common::auth::admit),
    router: route,
    after_response: None,
};

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    common::http::serve(&SERVICE, req, out).await
}

fn route(req: &Request) -> Result<Action, ApiError> {
    match (req.segments().as_slice(), &req.method) {
        ([w, "deliveries"] | [w, "deliveries", ""], Method::Get) => {
            let w = id(w)?;
            Ok(action(move |req| list_deliveries(req, w)))
        }
        ([_, "deliveries"] | [_, "deliveries", ""], _) => Err(ApiError::MethodNotAllowed("GET")),
        (
            [w, "deliveries", d, "redeliver"] | [w, "deliveries", d, "redeliver", ""],
            Method::Post,
        ) => {
            let (w, d) = (id(w)?, d.to_string());
            Ok(action(move |_| redeliver(w, &d)))
        }
        ([_, "deliveries", _, "redeliver"] | [_, "deliveries", _, "redeliver", ""], _) => {
            Err(ApiError::MethodNotAllowed("POST"))
        }
        _ => resource::route::<Webhook>(req),
    }
}

/// `{"total", "items"}`: the subscription's latest deliveries, newest first, each with its
/// attempts.
fn list_deliveries(req: &Request, webhook_id: i64) -> Result<Reply, ApiError> {
    req.query.check(&Pagination::RULES)?;
    let page = Pagination::from_query(&req.query)?;
    let db = db::open()?;
    Ok(Reply::ok(&delivery::list(&db, webhook_id, page)?))
}

/// Send a delivery again, once, now: 200 and the delivery with all its attempts.
fn redeliver(webhook_id: i64, delivery_id: &str) -> Result<Reply, ApiError> {
    let db = db::open()?;
    Ok(Reply::ok(&delivery::redeliver(
        &db,
        webhook_id,
        delivery_id,
    )?))
}
