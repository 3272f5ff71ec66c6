//! What a handler answers: a status, headers, and a body held whole or produced as it is sent.

use serde::Serialize;

use crate::error::{ApiError, RETRY_AFTER_SECONDS};

/// What a handler answers.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// A body too large to hold, sent as it is produced, instead of `body`.
    pub stream: Option<Stream>,
}

/// A response body produced a piece at a time: its length, announced as `Content-Length`
/// (`None`: not known ahead, the host sends it chunked), and the pieces. A piece that fails
/// cuts the response short (the client sees fewer bytes than announced, or no last chunk);
/// the error goes to the log.
pub struct Stream {
    pub length: Option<u64>,
    pub pieces: Box<dyn Iterator<Item = Result<Vec<u8>, String>>>,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stream of {:?} bytes", self.length)
    }
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
            ApiError::TooManyRequests(seconds, _) => {
                reply = reply.with_header("retry-after", seconds.to_string());
            }
            ApiError::RangeNotSatisfiable(length) => {
                reply = reply.with_header("content-range", format!("bytes */{length}"));
            }
            _ => {}
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
