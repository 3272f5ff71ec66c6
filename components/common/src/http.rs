//! From a Spin HTTP request to a handler and back: negotiation, body limit, response shape.
//!
//! A component's entry point is one line:
//!
//! ```ignore
//! #[http_component]
//! async fn handle(req: IncomingRequest, out: ResponseOutparam) {
//!     common::http::serve("users", req, out, route).await
//! }
//! ```

use std::io::Write as _;
use std::time::Instant;

use futures::StreamExt;
use serde::Serialize;
use spin_sdk::http::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

use crate::{
    auth,
    body::{self, MAX_BODY_BYTES},
    error::{ApiError, RETRY_AFTER_SECONDS},
    negotiation,
    query::Query,
};

/// A request as a handler sees it: checked for content type and accept, body read whole.
pub struct Request {
    pub method: Method,
    /// What follows the route's `/...` (Spin's `spin-path-info`), as sent.
    pub path: String,
    pub query: Query,
    pub body: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
}

/// What a handler answers.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// A body too large to hold, sent as it is produced, instead of `body`.
    pub stream: Option<Stream>,
}

/// A response body produced a piece at a time: its length, announced as `Content-Length`,
/// and the pieces. A piece that fails cuts the response short (the client sees fewer bytes
/// than announced); the error goes to the log.
pub struct Stream {
    pub length: u64,
    pub pieces: Box<dyn Iterator<Item = Result<Vec<u8>, String>>>,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stream of {} bytes", self.length)
    }
}

/// The work a router chose for a request.
pub enum Action {
    /// A JSON resource's work, done once the request is admitted (415, 406, 401) and its body
    /// read whole (413 past [`MAX_BODY_BYTES`]).
    Json(JsonWork),
    /// Media (a recording's audio): only authentication comes first; the work checks the media
    /// types itself, reads the body as it arrives ([`Body`]) and may answer a [`Stream`].
    Media(MediaWork),
}

/// What [`Action::Json`] does with the request, its body read.
pub type JsonWork = Box<dyn FnOnce(&Request) -> Result<Reply, ApiError>>;

/// What [`Action::Media`] does with the request and its unread body.
pub type MediaWork = Box<dyn FnOnce(&Request, Body) -> Result<Reply, ApiError>>;

/// A component's routes: from the method and path of a request (nothing checked yet, no body
/// read) to its [`Action`], or 404 for a path it does not serve, 405 for a method the path
/// does not take. Routing comes first, as it did in 2013 (Flask routed before the views'
/// checks): a method no path takes is 405 whatever its content type.
pub type Router = fn(&Request) -> Result<Action, ApiError>;

/// An [`Action::Json`] from a closure or a handler function.
pub fn action(work: impl FnOnce(&Request) -> Result<Reply, ApiError> + 'static) -> Action {
    Action::Json(Box::new(work))
}

/// An [`Action::Media`] from a closure or a handler function.
pub fn media(work: impl FnOnce(&Request, Body) -> Result<Reply, ApiError> + 'static) -> Action {
    Action::Media(Box::new(work))
}

/// A request body read as it arrives, a piece at a time, so that a large upload never sits
/// in memory whole. Reads block the component until the client has sent something.
pub struct Body {
    // Declared first, so dropped first: WASI wants a body's stream gone before the body.
    stream: Option<wasi::io::streams::InputStream>,
    // spin-sdk re-exports no name for the body of an incoming request; its bindings have one.
    _body: Option<spin_sdk::wit::wasi::http0_2_0::types::IncomingBody>,
}

impl Body {
    fn of(req: IncomingRequest) -> Self {
        let body = req.consume().ok();
        let stream = body.as_ref().and_then(|b| b.stream().ok());
        Self {
            stream,
            _body: body,
        }
    }

    /// The next piece of the body, at most `max` bytes, or `None` at its end. A body the
    /// client broke off is 400 `No parsable data in the request`.
    pub fn read(&mut self, max: usize) -> Result<Option<Vec<u8>>, ApiError> {
        use wasi::io::streams::StreamError;
        let Some(stream) = &self.stream else {
            return Ok(None);
        };
        loop {
            match stream.blocking_read(max as u64) {
                Ok(piece) if piece.is_empty() => continue,
                Ok(piece) => return Ok(Some(piece)),
                Err(StreamError::Closed) => {
                    self.stream = None;
                    return Ok(None);
                }
                Err(StreamError::LastOperationFailed(_)) => {
                    self.stream = None;
                    return Err(ApiError::no_parsable_data());
                }
            }
        }
    }

    /// Read and drop what is left, up to `limit` bytes, so that a client still sending a body
    /// that was refused gets the answer rather than a connection reset.
    pub fn drain(&mut self, limit: usize) {
        let mut seen = 0;
        while seen < limit {
            match self.read(64 * 1024) {
                Ok(Some(piece)) => seen += piece.len(),
                _ => return,
            }
        }
    }
}

impl Request {
    /// A request header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The path below the component's route, split on `/`, still percent-encoded as Spin
    /// gives it: `""` → `[]`, `"/"` → `[""]`, `"/42"` → `["42"]`, `"/42/"` → `["42", ""]`.
    pub fn segments(&self) -> Vec<&str> {
        match self.path.strip_prefix('/') {
            None => Vec::new(),
            Some(rest) => rest.split('/').collect(),
        }
    }

    /// The body as a JSON object, or 400 `No parsable data in the request`.
    pub fn json_object(&self) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
        body::parse_object(&self.body)
    }

    /// An absolute URL on this server, for `Location` (from Spin's `spin-full-url`).
    pub fn url(&self, path: &str) -> String {
        let full = self.header("spin-full-url").unwrap_or("");
        let origin = match full.find("://") {
            Some(i) => match full[i + 3..].find('/') {
                Some(j) => &full[..i + 3 + j],
                None => full,
            },
            None => "",
        };
        format!("{origin}{path}")
    }
}

/// An id in a path: digits only, else 404 (a non-integer id names no resource).
pub fn id(segment: &str) -> Result<i64, ApiError> {
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::NotFound);
    }
    segment.parse().map_err(|_| ApiError::NotFound)
}

impl Reply {
    /// A JSON body with its content type.
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self {
                status,
                headers: vec![("content-type".into(), "application/json".into())],
                body,
                stream: None,
            },
            Err(e) => Self::from(ApiError::internal(e)),
        }
    }

    /// A body already in its wire form, with its content type.
    pub fn text(status: u16, content_type: &str, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
            stream: None,
        }
    }

    pub fn ok(value: &impl Serialize) -> Self {
        Self::json(200, value)
    }

    /// A status with an empty body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            stream: None,
        }
    }

    /// A body sent as it is produced ([`Stream`]).
    pub fn streamed(status: u16, stream: Stream) -> Self {
        Self {
            stream: Some(stream),
            ..Self::empty(status)
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn with_location(self, url: String) -> Self {
        self.with_header("location", url)
    }
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Self {
        let mut reply = match e.messages() {
            Some(messages) => Self::json(e.status(), &messages),
            None => Self::empty(e.status()),
        };
        match e {
            ApiError::MethodNotAllowed(allow) => reply = reply.with_header("allow", allow),
            ApiError::Unauthorized(challenges) => {
                for c in challenges {
                    reply = reply.with_header("www-authenticate", c);
                }
            }
            ApiError::ServiceUnavailable(_) | ApiError::DatabaseUnavailable(_) => {
                reply = reply.with_header("retry-after", RETRY_AFTER_SECONDS.to_string());
            }
            ApiError::RangeNotSatisfiable(length) => {
                reply = reply.with_header("content-range", format!("bytes */{length}"));
            }
            _ => {}
        }
        reply
    }
}

/// Who may send a request, and what it may ask for: what [`serve_with`] checks before the
/// handler runs.
pub struct Admission {
    /// The media types a response can be had in ([`negotiation::JSON`] for the API).
    pub offers: &'static [&'static str],
    /// Whether the client must be trusted or authenticated ([`auth`]).
    pub authenticate: bool,
}

/// The API's resources: JSON, and authentication.
pub const API: Admission = Admission {
    offers: negotiation::JSON,
    authenticate: true,
};

/// Serve one request of the API: the route (404, 405), then 415, then 406, then 401 (see
/// [`auth`]), then the body (413 past [`MAX_BODY_BYTES`]), then the route's action. A client
/// that must authenticate and has not gets 401 before anything else, a 404 or 405 included.
/// An [`Action::Media`] gets only the 401 before it: it checks its own media types and reads
/// its own body. An error becomes its status and JSON list. A `HEAD` gets the head of what
/// its action answers, and no body.
///
/// Every response carries `x-request-id` (the client's own when sane, else a new one), and
/// each request writes one JSON line to the component's log (stderr), naming `component`
/// (its id in `spin.toml`): see [`LogLine`].
pub async fn serve(
    component: &'static str,
    req: IncomingRequest,
    out: ResponseOutparam,
    router: Router,
) {
    serve_with(component, &API, req, out, router).await
}

/// [`serve`], under other admission rules (the OpenAPI document is YAML, and public).
pub async fn serve_with(
    component: &'static str,
    admission: &Admission,
    req: IncomingRequest,
    out: ResponseOutparam,
    router: Router,
) {
    let started = Instant::now();
    let method = req.method();
    let path_with_query = req.path_with_query().unwrap_or_default();
    let headers = req.headers().entries();
    let request_id = request_id(header(&headers, "x-request-id"));
    let client = header(&headers, "spin-client-addr").map(str::to_string);
    let mut error = None;
    let reply = handle(admission, req, headers, &path_with_query, router)
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
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        request_id: &request_id,
        component,
        method: method.to_string(),
        path: loggable_path(&path_with_query),
        status,
        duration_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        client: client.as_deref(),
        error: error.as_deref(),
    }
    .write();
    // The client has its answer: now the webhooks hear of what changed.
    crate::events::deliver_pending();
}

/// What the log says of one request, as one JSON line. Never a header's value (no password,
/// no Digest response), never a body, never a query's values.
#[derive(Serialize)]
pub struct LogLine<'a> {
    /// When the response was sent: RFC 3339, UTC, milliseconds.
    pub time: String,
    pub request_id: &'a str,
    pub component: &'a str,
    pub method: String,
    /// The path, and the query's keys without their values ([`loggable_path`]).
    pub path: String,
    pub status: u16,
    /// From the request's arrival in the component to its response handed to the host.
    pub duration_ms: f64,
    /// Spin's `spin-client-addr`.
    pub client: Option<&'a str>,
    /// A 500's or a 503's detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

impl LogLine<'_> {
    /// Write the line to stderr in one write, so that lines do not interleave.
    fn write(&self) {
        if let Ok(mut line) = serde_json::to_string(self) {
            line.push('\n');
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
}

/// The longest path a log line keeps (the rest is cut, marked with `...`).
const MAX_LOGGED_PATH: usize = 1024;

/// The path with the query's keys but not their values: `/1.0/users/?_page&_pagesize`.
pub fn loggable_path(path_with_query: &str) -> String {
    let mut path = match path_with_query.split_once('?') {
        None => path_with_query.to_string(),
        Some((path, query)) => {
            let keys: Vec<&str> = query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| p.split_once('=').map_or(p, |(k, _)| k))
                .collect();
            format!("{path}?{}", keys.join("&"))
        }
    };
    if path.len() > MAX_LOGGED_PATH {
        let mut cut = MAX_LOGGED_PATH;
        while !path.is_char_boundary(cut) {
            cut -= 1;
        }
        path.truncate(cut);
        path.push_str("...");
    }
    path
}

/// The longest request id taken from a client.
const MAX_REQUEST_ID: usize = 128;

/// The client's `x-request-id` when sane (1 to 128 visible ASCII characters), else a new one:
/// 128 random bits in hex.
fn request_id(sent: Option<&str>) -> String {
    match sent {
        Some(id) if is_sane_request_id(id) => id.to_string(),
        _ => random_hex(16),
    }
}

/// `bytes` random bytes from the host, in hex.
pub fn random_hex(bytes: u64) -> String {
    wasi::random::random::get_random_bytes(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn is_sane_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

async fn handle(
    admission: &Admission,
    req: IncomingRequest,
    headers: Vec<(String, Vec<u8>)>,
    path_with_query: &str,
    router: Router,
) -> Result<Reply, ApiError> {
    let query = path_with_query.split_once('?').map_or("", |(_, q)| q);
    let mut request = Request {
        method: req.method(),
        path: header(&headers, "spin-path-info").unwrap_or("").to_string(),
        query: Query::parse(query),
        body: Vec::new(),
        headers,
    };
    let action = match router(&request) {
        Ok(action) => action,
        Err(refused) => {
            // What the app serves is no secret (the OpenAPI document is public), but a
            // client that must authenticate learns nothing else before it has.
            if admission.authenticate {
                authorize(&request, path_with_query)?;
            }
            return Err(refused);
        }
    };
    let work = match action {
        Action::Json(work) => work,
        Action::Media(work) => {
            if admission.authenticate {
                authorize(&request, path_with_query)?;
            }
            return work(&request, Body::of(req));
        }
    };
    let has_body = matches!(request.method, Method::Post | Method::Put | Method::Patch);
    if has_body {
        negotiation::check_content_type(request.header("content-type"))?;
    }
    negotiation::check_accept(request.header("accept"), admission.offers)?;
    if admission.authenticate {
        authorize(&request, path_with_query)?;
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

fn authorize(request: &Request, path_with_query: &str) -> Result<(), ApiError> {
    auth::authorize(&auth::Credentials {
        client_addr: request.header("spin-client-addr"),
        method: &request.method.to_string(),
        uri: path_with_query,
        authorization: request.header("authorization"),
    })
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

/// Hand the reply to Spin: in one piece when it is held whole, else as it is produced. To a
/// `HEAD`, the head that a `GET` would get (its `Content-Length` included), and no body.
///
/// Spin does not set `TCP_NODELAY` on the connections it accepts, so when a response reaches
/// the socket in several writes (the head, then the body, then the end of a chunked body),
/// Nagle's algorithm holds each later write until the client has acknowledged the earlier
/// one, and a client that delays its ACK (40 ms on Linux) stalls the response that long. The
/// host writes the head as soon as [`ResponseOutparam::set`] is called and each piece of body
/// as it comes, so the pieces split whenever the host is quicker than the guest. Here the body
/// is written and finished before `set`, with its `Content-Length`: the host then holds the
/// whole response when it starts writing, and sends it at once. Before `set` nothing drains
/// the body, so only what the host's buffer takes without waiting (`check-write`, a MiB or
/// two) goes first; a larger body streams the rest after `set`.
fn respond(out: ResponseOutparam, reply: Reply, head: bool) {
    let length = match &reply.stream {
        Some(stream) => stream.length,
        None => reply.body.len() as u64,
    };
    let mut headers: Vec<(String, Vec<u8>)> = reply
        .headers
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
    if status_allows_body(reply.status) {
        headers.push(("content-length".into(), length.to_string().into_bytes()));
    }
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(reply.status);
    let Ok(body) = response.body() else {
        return eprintln!("could not send the response: its body was taken");
    };
    if head {
        // The host sends no body to a HEAD: the body is left unwritten, and dropped.
        out.set(response);
        return;
    }
    let Ok(stream) = body.write() else {
        return eprintln!("could not send the response: its body is not writable");
    };
    if let Some(Stream { pieces, .. }) = reply.stream {
        out.set(response);
        for piece in pieces {
            let written = piece.and_then(|p| write_all(&stream, &p).map_err(|e| format!("{e:?}")));
            if let Err(e) = written {
                // Dropping the body unfinished tells the host the response was cut short.
                return eprintln!("could not send the response: {e}");
            }
        }
        finish(stream, body);
        return;
    }

    let mut rest = reply.body.as_slice();
    while let Ok(room @ 1..) = stream.check_write() {
        let n = rest.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if n == 0 || stream.write(&rest[..n]).is_err() {
            break;
        }
        rest = &rest[n..];
    }
    if rest.is_empty() {
        if finish(stream, body) {
            out.set(response);
        }
        return;
    }
    out.set(response);
    // A large body: the host drains it now.
    if let Err(e) = write_all(&stream, rest) {
        return eprintln!("could not send the response: {e:?}");
    }
    finish(stream, body);
}

/// Write all of `data`, as fast as the host takes it: as much as `check-write` allows at a
/// time, waiting for room when there is none.
fn write_all(
    stream: &wasi::io::streams::OutputStream,
    mut data: &[u8],
) -> Result<(), wasi::io::streams::StreamError> {
    let room = stream.subscribe();
    while !data.is_empty() {
        let n = usize::try_from(stream.check_write()?).unwrap_or(usize::MAX);
        if n == 0 {
            room.block();
            continue;
        }
        let n = n.min(data.len());
        stream.write(&data[..n])?;
        data = &data[n..];
    }
    Ok(())
}

/// End a response body; false (logged) when the host refuses it.
fn finish(stream: wasi::io::streams::OutputStream, body: OutgoingBody) -> bool {
    drop(stream);
    match OutgoingBody::finish(body, None) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("could not send the response: {e:?}");
            false
        }
    }
}

/// Whether a response with this status may carry a body (and so a `Content-Length`).
fn status_allows_body(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

/// The last value of a header, by case-insensitive name, if it is text. The last, because
/// Spin appends its own `spin-*` headers after the client's: a client that sends
/// `spin-client-addr` itself must not be believed.
fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .rfind(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, full_url: &str) -> Request {
        Request {
            method: Method::Get,
            path: path.into(),
            query: Query::default(),
            body: Vec::new(),
            headers: vec![("spin-full-url".into(), full_url.as_bytes().to_vec())],
        }
    }

    #[test]
    fn segments_keep_the_trailing_slash() {
        let seg = |p: &str| {
            request(p, "")
                .segments()
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(seg(""), Vec::<String>::new());
        assert_eq!(seg("/"), vec![""]);
        assert_eq!(seg("/42"), vec!["42"]);
        assert_eq!(seg("/42/"), vec!["42", ""]);
        assert_eq!(seg("/5/search"), vec!["5", "search"]);
        assert_eq!(seg("/5/a%20b.1"), vec!["5", "a%20b.1"]);
    }

    #[test]
    fn ids_in_paths() {
        assert_eq!(id("42").unwrap(), 42);
        for bad in ["", "abc", "-1", "+1", "1.0", " 1", "99999999999999999999"] {
            assert!(matches!(id(bad), Err(ApiError::NotFound)), "{bad}");
        }
    }

    #[test]
    fn urls_from_spin_full_url() {
        let r = request("/3", "http://127.0.0.1:3000/1.0/users/3?x=1");
        assert_eq!(r.url("/1.0/users/38"), "http://127.0.0.1:3000/1.0/users/38");
        let r = request("", "https://xivo:50051");
        assert_eq!(r.url("/1.0/users/1"), "https://xivo:50051/1.0/users/1");
    }

    #[test]
    fn error_replies() {
        let r = Reply::from(ApiError::incorrect_parameters(&["a"]));
        assert_eq!(r.status, 400);
        assert_eq!(r.body, br#"["Incorrect parameters sent: a"]"#);
        assert!(r
            .headers
            .contains(&("content-type".into(), "application/json".into())));
        let r = Reply::from(ApiError::NotFound);
        assert_eq!((r.status, r.body.len()), (404, 0));
        let r = Reply::from(ApiError::MethodNotAllowed("GET, POST"));
        assert_eq!(r.status, 405);
        assert!(r.headers.contains(&("allow".into(), "GET, POST".into())));
        let r = Reply::from(ApiError::service_unavailable("sqlite: database is locked"));
        assert_eq!(r.status, 503);
        assert_eq!(r.body, br#"["Service busy, try again"]"#);
        assert!(r.headers.contains(&("retry-after".into(), "1".into())));
    }

    #[test]
    fn logged_paths_keep_query_keys_not_values() {
        assert_eq!(loggable_path("/1.0/users/5"), "/1.0/users/5");
        assert_eq!(
            loggable_path("/1.0/users/?_page=1&_pagesize=5"),
            "/1.0/users/?_page&_pagesize"
        );
        assert_eq!(
            loggable_path("/1.0/recording_campaigns/5/search?key=0231156897&&flag"),
            "/1.0/recording_campaigns/5/search?key&flag"
        );
        assert_eq!(loggable_path("/1.0/users/?"), "/1.0/users/?");
        let long = loggable_path(&format!("/1.0/users/{}", "é".repeat(1000)));
        assert!(long.len() <= MAX_LOGGED_PATH + 3 && long.ends_with("..."));
    }

    #[test]
    fn request_ids_from_clients_are_kept_when_sane() {
        for sane in ["a", "abc-123", "req:42/x", &"x".repeat(128), "~!{}"] {
            assert!(is_sane_request_id(sane), "{sane}");
        }
        for bad in ["", "a b", "tab\there", "é", &"x".repeat(129), "a\u{7f}"] {
            assert!(!is_sane_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn log_lines_are_json() {
        let line = LogLine {
            time: "2013-05-28T16:05:59.000Z".into(),
            request_id: "r1",
            component: "users",
            method: "GET".into(),
            path: loggable_path("/1.0/users/?_page=1"),
            status: 500,
            duration_ms: 1.25,
            client: Some("127.0.0.1:4000"),
            error: Some("sqlite: boom"),
        };
        let value: serde_json::Value = serde_json::to_value(&line).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"time": "2013-05-28T16:05:59.000Z", "request_id": "r1",
                "component": "users", "method": "GET", "path": "/1.0/users/?_page",
                "status": 500, "duration_ms": 1.25, "client": "127.0.0.1:4000",
                "error": "sqlite: boom"})
        );
        let ok = LogLine {
            error: None,
            ..line
        };
        assert!(!serde_json::to_string(&ok).unwrap().contains("error"));
    }
}
