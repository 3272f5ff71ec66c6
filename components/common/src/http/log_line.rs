//! The one JSON line each request writes to the component's log, and the request id it and
//! the response carry.

use std::io::Write as _;

use serde::Serialize;

use crate::random;

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
    pub(super) fn write(&self) {
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
            format!("{path}?{}", crate::text::join(&keys, "&"))
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
pub(super) fn request_id(sent: Option<&str>) -> String {
    match sent {
        Some(id) if is_sane_request_id(id) => id.to_string(),
        _ => random::hex(16),
    }
}

fn is_sane_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

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
