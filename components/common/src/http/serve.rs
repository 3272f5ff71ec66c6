//! Serving one request: routing, admission, the body, the handler's work, the response, and
//! the log line; then whatever the component runs once the client has its answer.

use crate::clock::Instant;

use futures::StreamExt;
use spin_sdk::http::{IncomingRequest, Method, ResponseOutparam};

use crate::{body::MAX_BODY_BYTES, dates, error::ApiError, negotiation, query::Query};

use super::{
    log_line::{loggable_path, request_id, LogLine},
    reply::Reply,
    request::{header, Action, Body, Request, Router},
    respond::respond,
};

/// Who may send a request: given the request and its path with query, `Ok` or the refusal
/// (401, 403). The API's is [`crate::auth::admit`].
pub type Admit = fn(&Request, &str) -> Result<(), ApiError>;

/// A component as [`serve`] runs it, all said where the component is wired (its `lib.rs`).
pub struct Service {
    /// Its id in `spin.toml`, for the log line.
    pub component: &'static str,
    /// The media types a response can be had in ([`negotiation::JSON`] for the API).
    pub offers: &'static [&'static str],
    /// Who may ask, checked before anything else is said; `None`: anyone (the OpenAPI
    /// document is public).
    pub admit: Option<Admit>,
    pub router: Router,
    /// What runs once the client has its answer and the log its line: the webhooks' deliveries
    /// of what the request changed ([`crate::events::deliver_pending`]), for a component that
    /// emits events.
    pub after_response: Option<fn()>,
}

/// Serve one request: the route (404, 405), then 415, then 406, then the admission (401),
/// then the body (413 past [`MAX_BODY_BYTES`]), then the route's action. A client that must
/// authenticate and has not gets 401 before anything else, a 404 or 405 included. An
/// [`Action::Media`] gets only the admission before it: it checks its own media types and
/// reads its own body. An error becomes its status and JSON list. A `HEAD` gets the head of
/// what its action answers, and no body.
///
/// Every response carries `x-request-id` (the client's own when sane, else a new one), and
/// each request writes one JSON line to the component's log (stderr), naming the component
/// (its id in `spin.toml`): see [`LogLine`].
pub async fn serve(service: &Service, req: IncomingRequest, out: ResponseOutparam) {
    let started = Instant::now();
    let method = req.method();
    let path_with_query = req.path_with_query().unwrap_or_default();
    let headers = req.headers().entries();
    let request_id = request_id(header(&headers, "x-request-id"));
    let client = header(&headers, "spin-client-addr").map(str::to_string);
    let mut error = None;
    let reply = handle(service, req, headers, &path_with_query)
        .await
        .unwrap_or_else(|e| {
            // The client gets a generic 500 or 503; the detail goes to the log line.
            error = e.detail().map(str::to_string);
            Reply::from(e)
        });
    let status = reply.status;
    let head = method == Method::Head;
    respond(
        out,
        reply.with_header("x-request-id", request_id.clone()),
        head,
    );
    LogLine {
        time: dates::now_rfc3339_millis(),
        request_id: &request_id,
        component: service.component,
        method: method.to_string(),
        path: loggable_path(&path_with_query),
        status,
        duration_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        client: client.as_deref(),
        error: error.as_deref(),
    }
    .write();
    if let Some(after_response) = service.after_response {
        after_response();
    }
}

async fn handle(
    service: &Service,
    req: IncomingRequest,
    headers: Vec<(String, Vec<u8>)>,
    path_with_query: &str,
) -> Result<Reply, ApiError> {
    let query = path_with_query.split_once('?').map_or("", |(_, q)| q);
    let mut request = Request {
        method: req.method(),
        path: header(&headers, "spin-path-info").unwrap_or("").to_string(),
        query: Query::parse(query),
        body: Vec::new(),
        headers,
    };
    let action = match (service.router)(&request) {
        Ok(action) => action,
        Err(refused) => {
            // What the app serves is no secret (the OpenAPI document is public), but a
            // client that must authenticate learns nothing else before it has.
            if let Some(admit) = service.admit {
                admit(&request, path_with_query)?;
            }
            return Err(refused);
        }
    };
    let work = match action {
        Action::Json(work) => work,
        Action::Media(work) => {
            if let Some(admit) = service.admit {
                admit(&request, path_with_query)?;
            }
            return work(&request, Body::of(req));
        }
    };
    let has_body = matches!(request.method, Method::Post | Method::Put | Method::Patch);
    if has_body {
        negotiation::check_content_type(request.header("content-type"))?;
    }
    negotiation::check_accept(request.header("accept"), service.offers)?;
    if let Some(admit) = service.admit {
        admit(&request, path_with_query)?;
    }
    let may_carry_body = request.method == Method::Delete || announces_body(&request.headers);
    if has_body {
        request.body = read_body(req).await?;
    } else if may_carry_body {
        // A GET or DELETE with a body: nothing reads it, but the limit holds all the same.
        read_body(req).await?;
    }
    work(&request)
}

/// Read the body; past [`MAX_BODY_BYTES`] it is refused (413). The rest of a refused body is
/// still read (up to [`DRAIN_BYTES`]) and dropped, so the client, which is still sending,
/// gets the 413 rather than a connection reset.
async fn read_body(req: IncomingRequest) -> Result<Vec<u8>, ApiError> {
    let mut stream = req.into_body_stream();
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::no_parsable_data())?;
        seen += chunk.len();
        if seen > DRAIN_BYTES {
            break;
        }
        if seen <= MAX_BODY_BYTES {
            body.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(body)
}

/// Whether a request announces a body by its length (Spin does not show a guest the
/// `transfer-encoding` header; a DELETE's body is read whatever it announces).
fn announces_body(headers: &[(String, Vec<u8>)]) -> bool {
    header(headers, "content-length").is_some_and(|n| n.trim() != "0")
}

/// How much of a too-large body is read and dropped before answering 413 anyway.
const DRAIN_BYTES: usize = 16 * MAX_BODY_BYTES;
