//! A request as a handler sees it, its body read whole or as it arrives, and the router's
//! choice of work for it.

use spin_sdk::http::{IncomingRequest, Method};

use crate::{body, error::ApiError, query::Query};

use super::reply::Reply;

/// A request as a handler sees it: checked for content type and accept, body read whole.
pub struct Request {
    pub method: Method,
    /// What follows the route's `/...` (Spin's `spin-path-info`), as sent.
    pub path: String,
    pub query: Query,
    pub body: Vec<u8>,
    pub(super) headers: Vec<(String, Vec<u8>)>,
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
    pub(super) fn of(req: IncomingRequest) -> Self {
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

/// The last value of a header, by case-insensitive name, if it is text. The last, because
/// Spin appends its own `spin-*` headers after the client's: a client that sends
/// `spin-client-addr` itself must not be believed.
pub(super) fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .rfind(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Query;

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
}
