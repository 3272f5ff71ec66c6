//! From a Spin HTTP request to a handler and back: negotiation, body limit, response shape.
//!
//! A component says how it serves in one place, its `lib.rs`:
//!
//! ```ignore
//! const SERVICE: Service = Service {
//!     component: "users",
//!     offers: negotiation::JSON,
//!     admit: Some(auth::admit),
//!     router: route,
//!     after_response: Some(events::deliver_pending),
//! };
//!
//! #[http_component]
//! async fn handle(req: IncomingRequest, out: ResponseOutparam) {
//!     common::http::serve(&SERVICE, req, out).await
//! }
//! ```
//!
//! The request ([`request`]), the reply ([`reply`]), the pipeline between them ([`serve`]),
//! the reply handed to Spin ([`respond`]) and the log line ([`log_line`]) are a file each.
//! The request path knows no feature: authentication and events come in through [`Service`].

mod log_line;
mod reply;
mod request;
mod respond;
mod serve;

pub use log_line::{loggable_path, LogLine};
pub use reply::{Reply, Stream};
pub use request::{action, id, media, Action, Body, JsonWork, MediaWork, Request, Router};
pub use serve::{serve, Admit, Service};
