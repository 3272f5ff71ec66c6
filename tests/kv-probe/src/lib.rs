//! The key-value probe: Spin's key-value store (`spin_sdk::key_value::Store`, that is
//! `fermyon:spin/key-value@2.0.0`) over HTTP, so that tests/tests/kv.rs can send the same
//! requests to the test host and to `spin up` and compare the answers. Not part of the API.
//!
//! - `PUT /kv/<key>`: set the key to the request body; `GET /kv/<key>`: the value, or 404;
//!   `DELETE /kv/<key>`; `GET /kv`: the keys, as `get-keys` lists them.
//! - `GET /kv-exists/<key>`, `GET /kv-len/<key>`: `exists`, and the length `get` returns.
//! - `POST /kv-fill/<key>?<n>`: set the key to `n` bytes made here (values larger than a
//!   request should carry).
//! - `GET /kv-open/<label>`: what opening that store answers; `GET /kv-open-many/<n>`: open
//!   `n` stores at once and say how many opened and the first error.
//!
//! Keys are the rest of the path, percent-decoded. A store's error is answered with its
//! `Debug` text (status 500 where the operation itself failed).

use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let path = req.path().to_string();
    let method = req.method().clone();
    let (route, arg) = match path.strip_prefix('/').and_then(|p| p.split_once('/')) {
        Some((route, arg)) => (route.to_string(), decode(arg)),
        None => (path.trim_start_matches('/').to_string(), String::new()),
    };
    let response = match (method, route.as_str()) {
        (Method::Get, "kv") if path == "/kv" => match Store::open_default()?.get_keys() {
            Ok(keys) => text(200, format!("{keys:?}")),
            Err(e) => text(500, format!("{e:?}")),
        },
        (Method::Get, "kv") => match Store::open_default()?.get(&arg) {
            Ok(Some(value)) => Response::builder()
                .status(200)
                .header("content-type", "application/octet-stream")
                .body(value)
                .build(),
            Ok(None) => Response::new(404, ()),
            Err(e) => text(500, format!("{e:?}")),
        },
        (Method::Put, "kv") => done(Store::open_default()?.set(&arg, req.body())),
        (Method::Delete, "kv") => done(Store::open_default()?.delete(&arg)),
        (Method::Get, "kv-exists") => {
            text(200, format!("{:?}", Store::open_default()?.exists(&arg)))
        }
        (Method::Get, "kv-len") => {
            let got = Store::open_default()?.get(&arg);
            text(200, format!("{:?}", got.map(|v| v.map(|v| v.len()))))
        }
        (Method::Post, "kv-fill") => {
            let n: usize = req.query().parse()?;
            let value: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            done(Store::open_default()?.set(&arg, &value))
        }
        (Method::Get, "kv-open") => text(200, format!("{:?}", Store::open(&arg).map(drop))),
        (Method::Get, "kv-open-many") => {
            let n: usize = arg.parse()?;
            let mut open = Vec::new();
            let mut error = None;
            while open.len() < n {
                match Store::open_default() {
                    Ok(store) => open.push(store),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            text(200, format!("{} {error:?}", open.len()))
        }
        _ => Response::new(405, ()),
    };
    Ok(response)
}

fn done(result: Result<(), spin_sdk::key_value::Error>) -> Response {
    match result {
        Ok(()) => Response::new(200, ()),
        Err(e) => text(500, format!("{e:?}")),
    }
}

fn text(status: u16, body: String) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body)
        .build()
}

/// `%XX` decoded (the bytes taken as UTF-8, lossily); everything else as it is.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
