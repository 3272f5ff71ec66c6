//! `/1.0/api/`: the OpenAPI 3.1 document of this API (`api/api.yml`), embedded when the
//! component is built, so what is served is what the tests checked. Public, as wazo-confd
//! serves its own: it says what the API does, not what it holds.

use common::{
    http::{action, Action, Request, Service},
    negotiation, ApiError, Reply,
};
use spin_sdk::http::{IncomingRequest, Method, ResponseOutparam};
use spin_sdk::http_component;

/// The document, as written in the repository.
const DOCUMENT: &str = include_str!("../../../api/api.yml");

/// YAML (RFC 9512), to any client, authenticated or not; nothing changes, so nothing is told
/// to the webhooks.
const SERVICE: Service = Service {
    component: "api",
    offers: negotiation::YAML,
    admit: None,
    router: route,
    after_response: None,
};

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    common::http::serve(&SERVICE, req, out).await
}

/// Like every path of the API, the document's answers with a trailing `/` too.
fn route(req: &Request) -> Result<Action, ApiError> {
    match (req.segments().as_slice(), &req.method) {
        (["api.yml"] | ["api.yml", ""], Method::Get) => Ok(action(|req| {
            Ok(Reply::text(200, yaml_type(req.header("accept")), DOCUMENT))
        })),
        (["api.yml"] | ["api.yml", ""], _) => Err(ApiError::MethodNotAllowed("GET")),
        _ => Err(ApiError::NotFound),
    }
}

/// `application/yaml` (RFC 9512), or `text/yaml` for a client whose `Accept` allows only text
/// (the type generated clients read as a string). An `Accept` that names neither got past
/// `negotiation::YAML` with another YAML name (`application/x-yaml`): the registered one.
fn yaml_type(accept: Option<&str>) -> &'static str {
    negotiation::first_accepted(accept, &["application/yaml", "text/yaml"])
        .unwrap_or("application/yaml")
}
