//! Signed `POST`s of webhook deliveries to their receivers, several at once: each request is
//! sent, then all their answers are awaited together, so that an event for many subscriptions
//! takes as long as its slowest receiver, not their sum.

use std::time::Duration;

use crate::clock::Instant;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use spin_sdk::wit::wasi::http0_2_0::{outgoing_handler, types as wasi_http};

use crate::{dates, hex, host_error};

/// How long one attempt may take, connection to response head.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// One `POST` to send: where, signed with what, and the delivery it carries.
pub struct Post<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub event: &'a str,
    pub delivery_id: &'a str,
    pub body: &'a str,
}

/// One attempt's outcome: the receiver's status, or why there was none.
#[derive(Serialize, Debug)]
pub struct Outcome {
    pub at: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: f64,
}

impl Outcome {
    /// A 2xx from the receiver.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Send every post at once and wait for their answers, [`TIMEOUT`] at most: their outcomes,
/// in the order of `posts`. A response body is not read.
pub fn send_all(posts: &[Post]) -> Vec<Outcome> {
    let mut sent: Vec<Sent> = posts.iter().map(Sent::start).collect();
    let nanos = u64::try_from(TIMEOUT.as_nanos()).unwrap_or(u64::MAX);
    let deadline = wasi::clocks::monotonic_clock::subscribe_duration(nanos);
    loop {
        let waiting: Vec<(usize, wasi::io::poll::Pollable)> = sent
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.waiting().map(|future| (i, future.subscribe())))
            .collect();
        if waiting.is_empty() || deadline.ready() {
            break;
        }
        let mut pollables: Vec<&wasi::io::poll::Pollable> =
            waiting.iter().map(|(_, p)| p).collect();
        pollables.push(&deadline);
        wasi::io::poll::poll(&pollables);
        for (i, _) in &waiting {
            sent[*i].take_answer();
        }
    }
    sent.into_iter().map(Sent::outcome).collect()
}

/// A post under way: its request's future once sent, whether its body went out whole, and
/// its answer once it came.
struct Sent {
    at: String,
    started: Instant,
    future: Option<wasi_http::FutureIncomingResponse>,
    written: Result<(), String>,
    answer: Option<Result<u16, String>>,
}

impl Sent {
    fn start(post: &Post) -> Self {
        let at = dates::now();
        let started = Instant::now();
        let (future, written) = match start(post) {
            Ok((future, written)) => (Some(future), written),
            Err(e) => (None, Err(e)),
        };
        Self {
            at,
            started,
            future,
            written,
            answer: None,
        }
    }

    /// The future of a post that has no answer yet.
    fn waiting(&self) -> Option<&wasi_http::FutureIncomingResponse> {
        self.future.as_ref().filter(|_| self.answer.is_none())
    }

    /// Keep the answer, if it came.
    fn take_answer(&mut self) {
        let Some(got) = self.waiting().and_then(|future| future.get()) else {
            return;
        };
        let answer = match got {
            Ok(Ok(response)) => Ok(response.status()),
            Ok(Err(e)) => Err(host_error::describe(&e)),
            Err(()) => Err("the response was taken already".into()),
        };
        self.answer = Some(answer);
    }

    fn outcome(self) -> Outcome {
        // The runtime's own reason first: a refused host, for one, closes the body stream
        // while the body is still being written.
        let answer = match (self.answer, self.written) {
            (Some(Err(e)), _) | (_, Err(e)) => Err(e),
            (None, Ok(())) => Err(format!("no answer within {} s", TIMEOUT.as_secs())),
            (Some(Ok(status)), Ok(())) => Ok(status),
        };
        Outcome {
            at: self.at,
            status: answer.as_ref().ok().copied(),
            error: answer.err(),
            duration_ms: (self.started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        }
    }
}

/// Send the post: its response's future, and whether the body went out whole; or why it
/// could not be sent.
fn start(post: &Post) -> Result<(wasi_http::FutureIncomingResponse, Result<(), String>), String> {
    let (scheme, authority, path) = parts(post.url)?;
    let body = post.body.as_bytes();
    let headers = wasi_http::Fields::from_list(&[
        ("content-type".into(), b"application/json".to_vec()),
        ("content-length".into(), body.len().to_string().into_bytes()),
        ("x-xivo-event".into(), post.event.as_bytes().to_vec()),
        (
            "x-xivo-delivery".into(),
            post.delivery_id.as_bytes().to_vec(),
        ),
        (
            "x-xivo-signature".into(),
            signature(post.secret, body).into_bytes(),
        ),
    ])
    .map_err(|e| format!("headers: {}", host_error::header(&e)))?;
    let request = wasi_http::OutgoingRequest::new(headers);
    let set = request.set_method(&wasi_http::Method::Post).is_ok()
        && request.set_scheme(Some(&scheme)).is_ok()
        && request.set_authority(Some(&authority)).is_ok()
        && request.set_path_with_query(Some(&path)).is_ok();
    if !set {
        return Err("bad url".into());
    }
    let outgoing = request.body().map_err(|_| "no request body")?;
    let nanos = u64::try_from(TIMEOUT.as_nanos()).unwrap_or(u64::MAX);
    let options = wasi_http::RequestOptions::new();
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let future =
        outgoing_handler::handle(request, Some(options)).map_err(|e| host_error::describe(&e))?;
    Ok((future, write_body(outgoing, body)))
}

/// A subscription's URL as the host takes it: the scheme, the authority, and the path with
/// its query (`/` when there is none; a fragment is not sent). Split by hand rather than by
/// the `http` crate's URI parser (8 KiB in every component that delivers): the URL was
/// checked when the subscription was written (`outbound::allows`, which parses it).
fn parts(url: &str) -> Result<(wasi_http::Scheme, String, String), String> {
    let (scheme, rest) = url.split_once("://").ok_or("bad url: no scheme")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "https" => wasi_http::Scheme::Https,
        "http" => wasi_http::Scheme::Http,
        _ => return Err("bad url: not http or https".into()),
    };
    let rest = rest.split('#').next().unwrap_or("");
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    if authority.is_empty() {
        return Err("bad url: no host".into());
    }
    let path = match path.as_bytes().first() {
        None => "/".to_string(),
        Some(b'?') => format!("/{path}"),
        Some(_) => path.to_string(),
    };
    Ok((scheme, authority.to_string(), path))
}

fn write_body(outgoing: wasi_http::OutgoingBody, body: &[u8]) -> Result<(), String> {
    {
        let stream = outgoing.write().map_err(|_| "request body not writable")?;
        for piece in body.chunks(4096) {
            stream
                .blocking_write_and_flush(piece)
                .map_err(|e| format!("sending the body: {}", host_error::stream(&e)))?;
        }
    }
    wasi_http::OutgoingBody::finish(outgoing, None).map_err(|e| host_error::describe(&e))
}

/// `sha256=<hex HMAC-SHA256 of body with secret>`: the `X-Xivo-Signature` header.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(&mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same parts as the `http` crate's parser gives, for URLs a subscription may hold.
    #[test]
    fn parts_as_http_parses_them() {
        for url in [
            "http://hooks.example.com/in",
            "https://hooks.example.com:8443/in/deep?x=1&y=2",
            "HTTPS://Hooks.Example.com",
            "http://127.0.0.1:8080",
            "http://[::1]:8080/a",
            "http://h?only=query",
            "http://h/a#fragment",
        ] {
            let uri: http::Uri = url.parse().unwrap();
            let (scheme, authority, path) = parts(url).unwrap();
            let want_scheme = match uri.scheme_str() {
                Some("https") => "https",
                _ => "http",
            };
            let got_scheme = match scheme {
                wasi_http::Scheme::Https => "https",
                _ => "http",
            };
            assert_eq!(got_scheme, want_scheme, "{url}");
            assert_eq!(authority, uri.authority().unwrap().as_str(), "{url}");
            let want_path = uri.path_and_query().map_or("/", |p| p.as_str());
            let want_path = if want_path.starts_with('?') {
                format!("/{want_path}")
            } else {
                want_path.to_string()
            };
            assert_eq!(path, want_path, "{url}");
        }
        assert!(parts("ftp://h/x").is_err());
        assert!(parts("http:///x").is_err());
        assert!(parts("hooks.example.com").is_err());
    }

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        let mac = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            mac,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
