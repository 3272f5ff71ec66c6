//! What the XiVO REST API 1.0 components share: the wire rules of API.md's "Common rules"
//! (negotiation, error lists, bodies, pagination, dates) and the database.

pub mod auth;
pub mod body;
pub mod clock;
pub mod conditional;
pub mod csv;
pub mod dates;
pub mod db;
pub mod error;
pub mod events;
pub mod hex;
pub mod host_error;
pub mod http;
pub mod listing;
pub mod negotiation;
pub mod outbound;
pub mod pagination;
pub mod query;
pub mod random;
pub mod range;
pub mod resource;
pub mod stored_audio;
pub mod table;
pub mod text;
pub mod webhook_post;

pub use error::ApiError;
pub use http::{Reply, Request};
pub use pagination::List;
