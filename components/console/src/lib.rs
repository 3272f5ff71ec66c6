//! `/` and `/console/...`: the web console, a single page that uses nothing but the API (it is
//! a client like any other). Its files are embedded when the component is built; nothing is
//! fetched from elsewhere, ever (the `Content-Security-Policy` says so to the browser).
//!
//! The page (`/`) is revalidated on every load (`no-cache`, with its `ETag`); it names the
//! script, the style and the icon by their content's hash (`/console/console.<hash>.js`), which are
//! then cached for a year. The console is behind the API's own admission: trusted on loopback,
//! HTTP Digest elsewhere (the browser's own prompt).

use common::{
    conditional,
    http::{action, Action, Request, Service},
    ApiError, Reply,
};
use spin_sdk::http::{IncomingRequest, Method, ResponseOutparam};
use spin_sdk::http_component;

/// An embedded file: its bytes, media type and content hash.
struct Asset {
    name: &'static str,
    extension: &'static str,
    content_type: &'static str,
    body: &'static str,
    hash: u64,
}

impl Asset {
    const fn new(
        name: &'static str,
        extension: &'static str,
        content_type: &'static str,
        body: &'static str,
    ) -> Self {
        Self {
            name,
            extension,
            content_type,
            body,
            hash: fnv1a(body.as_bytes()),
        }
    }

    /// Its URL: named by its content, so that a cached copy is never stale.
    fn url(&self) -> String {
        format!(
            "/console/{}.{:016x}.{}",
            self.name, self.hash, self.extension
        )
    }

    fn etag(&self) -> String {
        format!("\"{:016x}\"", self.hash)
    }
}

const SCRIPT: Asset = Asset::new(
    "console",
    "js",
    "text/javascript; charset=utf-8",
    include_str!("../assets/console.js"),
);
const STYLE: Asset = Asset::new(
    "console",
    "css",
    "text/css; charset=utf-8",
    include_str!("../assets/console.css"),
);
const ICON: Asset = Asset::new(
    "icon",
    "svg",
    "image/svg+xml",
    include_str!("../assets/icon.svg"),
);
const PAGE: &str = include_str!("../assets/index.html");

/// Nothing but this origin's own script, style, media and API; no inline script or style, no
/// frames, no forms posted elsewhere.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   media-src 'self'; connect-src 'self'; form-action 'none'; base-uri 'none'; \
                   frame-ancestors 'none'";

/// What a browser asks for (the page, its script and style), behind the API's admission. The
/// console changes nothing, so it tells the webhooks nothing.
const SERVICE: Service = Service {
    component: "console",
    offers: &[
        "text/html",
        "application/xhtml+xml",
        "text/css",
        "text/javascript",
        "application/javascript",
        "text/*",
        "application/*",
        "image/svg+xml",
        "image/*",
    ],
    admit: Some(common::auth::admit),
    router: route,
    after_response: None,
};

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    common::http::serve(&SERVICE, req, out).await
}

fn route(req: &Request) -> Result<Action, ApiError> {
    let asset = match req.segments().as_slice() {
        // `/` (its route's whole path) and `/console/`.
        [] | [""] | ["index.html"] => None,
        [file] => Some(
            [&SCRIPT, &STYLE, &ICON]
                .into_iter()
                .find(|a| a.url().ends_with(&format!("/{file}")))
                .ok_or(ApiError::NotFound)?,
        ),
        _ => return Err(ApiError::NotFound),
    };
    if !matches!(req.method, Method::Get | Method::Head) {
        return Err(ApiError::MethodNotAllowed("GET, HEAD"));
    }
    Ok(action(move |req| {
        Ok(match asset {
            Some(asset) => serve(req, asset.etag(), asset.content_type, asset.body)
                .with_header("cache-control", "public, max-age=31536000, immutable"),
            None => {
                let page = page();
                let etag = format!("\"{PAGE_VERSION:016x}\"");
                serve(req, etag, "text/html; charset=utf-8", &page)
                    .with_header("cache-control", "no-cache")
            }
        })
    }))
}

/// The page, naming its script, style and icon by their current URLs.
fn page() -> String {
    PAGE.replace("{{script}}", &SCRIPT.url())
        .replace("{{style}}", &STYLE.url())
        .replace("{{icon}}", &ICON.url())
}

/// The page's version, known when the component is compiled: its template's hash and its
/// files' (which it names), mixed, so that it changes whenever any of them does.
const PAGE_VERSION: u64 = fnv1a(PAGE.as_bytes())
    ^ SCRIPT.hash.rotate_left(16)
    ^ STYLE.hash.rotate_left(32)
    ^ ICON.hash.rotate_left(48);

/// `body`, or 304 when `If-None-Match` names its tag; with the headers every file carries.
fn serve(req: &Request, etag: String, content_type: &str, body: &str) -> Reply {
    let reply = if conditional::none_match_fails(req, &etag) {
        Reply::empty(304)
    } else {
        Reply::text(200, content_type, body)
    };
    reply
        .with_header("etag", etag)
        .with_header("content-security-policy", CSP)
        .with_header("x-content-type-options", "nosniff")
        .with_header("referrer-policy", "no-referrer")
}

/// FNV-1a, 64 bits: a file's version, computed when the component is compiled.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}
