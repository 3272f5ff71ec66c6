//! The routes Spin 4.0.2's HTTP trigger answers itself, before any component's
//! (`crates/trigger-http/src/server.rs`): under `/.well-known/spin/`, whatever the method,
//! `health` is 200 `OK` (no `Content-Type`), `info` the application's name and version as
//! pretty JSON, and any other path 404 with no body.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::Serialize;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::manifest::Application;

const PREFIX: &str = "/.well-known/spin/";

/// Spin's `AppInfo`.
#[derive(Serialize)]
struct Info<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

/// Spin's own answer for `path`, if the path is one of Spin's.
pub fn answer(path: &str, app: &Application) -> Option<hyper::Response<HyperOutgoingBody>> {
    let (status, content_type, body) = match path.strip_prefix(PREFIX)? {
        "health" => (200, None, Bytes::from_static(b"OK")),
        "info" => {
            let info = Info {
                name: &app.name,
                version: app.version.as_deref(),
            };
            let json = serde_json::to_vec_pretty(&info).expect("JSON of strings");
            (200, Some("application/json"), Bytes::from(json))
        }
        _ => (404, None, Bytes::new()),
    };
    let mut response = hyper::Response::builder().status(status);
    if let Some(content_type) = content_type {
        response = response.header("content-type", content_type);
    }
    let body = Full::new(body)
        .map_err(|never| match never {})
        .boxed_unsync();
    Some(response.body(body).expect("a valid response"))
}
