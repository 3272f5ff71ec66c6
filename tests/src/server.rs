//! Serving an application as Spin's HTTP trigger does (`crates/trigger-http`, `server.rs`):
//! the socket and its connections, and each request handled as Spin handles it (Spin's own
//! routes, then the component's, Spin's request headers, a fresh store per request).

use std::net::SocketAddr;

use anyhow::{Context, Result};
use http::{HeaderName, HeaderValue, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView;

use crate::app::App;
use crate::runtime_config::Database;

/// Serve `app` on `listener` until the task is dropped, on the socket as Spin's HTTP trigger
/// does (`crates/trigger-http`, `server.rs`): HTTP/1.1 with keep-alive or HTTP/2 (hyper-util's
/// `auto` builder), one task per connection, and no `TCP_NODELAY`, so that a response written
/// in several pieces waits on Nagle's algorithm here exactly as it does under `spin up`.
pub async fn serve(app: App, listener: tokio::net::TcpListener) -> Result<()> {
    // The database file's directory, as Spin makes its state directory (`.spin`) when it
    // starts.
    if let Database::File(path) = app.database() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    loop {
        let (stream, peer) = listener.accept().await?;
        let app = app.clone();
        tokio::task::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { app.handle(req, peer).await }
            });
            // A client that goes away mid-request is not the server's error.
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn empty(status: u16) -> hyper::Response<HyperOutgoingBody> {
    let body = http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() = hyper::StatusCode::from_u16(status).expect("a valid status");
    response
}

impl App {
    /// Handle one request as Spin would: Spin's own routes first ([`crate::well_known`]),
    /// then route it (404, empty, when nothing matches), add Spin's headers after the
    /// client's, and run the component in a fresh store.
    pub async fn handle(
        &self,
        mut req: hyper::Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<hyper::Response<HyperOutgoingBody>> {
        if let Some(response) = crate::well_known::answer(req.uri().path(), &self.application) {
            return Ok(response);
        }
        let Some(route) = self.router.route(req.uri().path()) else {
            return Ok(empty(404));
        };
        let component = &self.components[route.component];

        // Spin gives the guest an absolute URI: scheme of the listener, authority from Host.
        let host = match req
            .headers()
            .get(http::header::HOST)
            .map(HeaderValue::to_str)
        {
            None => "localhost".to_string(),
            Some(Ok(h)) => h.to_string(),
            Some(Err(_)) => return Ok(empty(400)),
        };
        let path_and_query = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        match Uri::builder()
            .scheme("http")
            .authority(host.as_str())
            .path_and_query(path_and_query.as_str())
            .build()
        {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => return Ok(empty(400)),
        }
        let client = self.client_addr.unwrap_or(peer);
        let spin_headers = [
            ("spin-path-info", route.path_info),
            ("spin-full-url", format!("http://{host}{path_and_query}")),
            ("spin-matched-route", route.based_route),
            ("spin-base-path", "/".to_string()),
            ("spin-raw-component-route", route.raw_route),
            ("spin-component-route", route.component_route),
            ("spin-client-addr", client.to_string()),
        ];
        for (name, value) in spin_headers {
            req.headers_mut()
                .append(name, HeaderValue::from_str(&value)?);
        }
        // Then one `spin-path-match-<name>` per `:name` (Spin's `SPIN_PATH_MATCH_{NAME}`, `_`
        // made `-`, lowercased), valued as sent. Spin collects the params in a map, so a
        // repeated name keeps its last value, and drops a name that is no header name.
        for (i, (name, value)) in route.params.iter().enumerate() {
            if route.params[i + 1..].iter().any(|(later, _)| later == name) {
                continue;
            }
            let header = format!("SPIN_PATH_MATCH_{}", name.to_ascii_uppercase())
                .replace('_', "-")
                .to_ascii_lowercase();
            if let Ok(header) = HeaderName::from_bytes(header.as_bytes()) {
                req.headers_mut()
                    .append(header, HeaderValue::from_str(value)?);
            }
        }

        let state = self.state(component)?;
        let mut store = Store::new(&self.engine, state);
        // No deadline, as Spin's stores start ("practically forever").
        store.set_epoch_deadline(u64::MAX / 2);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = component.pre.clone();
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, out)
                .await
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => {
                eprintln!("Error processing request: {e:?}");
                Ok(empty(500))
            }
            Err(_) => {
                let e = match task.await {
                    Ok(Ok(())) => anyhow::anyhow!("guest never invoked `response-outparam::set`"),
                    Ok(Err(e)) => e.into(),
                    Err(e) => e.into(),
                };
                eprintln!("Error processing request: {e:?}");
                Ok(empty(500))
            }
        }
    }
}
