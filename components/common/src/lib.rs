//! What the XiVO REST API 1.0 components share: the wire rules of API.md's "Common rules"
//! (negotiation, error lists, bodies, pagination, dates) and the database.

pub mod auth;
pub mod body;
pub mod conditional;
pub mod dates;
pub mod db;
pub mod error;
pub mod events;
pub mod http;
pub mod migrations;
pub mod negotiation;
pub mod outbound;
pub mod pagination;
pub mod query;
pub mod range;
pub mod resource;
mod schema_memo;
pub mod table;
pub mod webhook_post;

pub use error::ApiError;
pub use http::{Reply, Request};

/// `{"total": N, "items": [...]}`: the shape of every list but agents and queues.
#[derive(serde::Serialize)]
pub struct List<T> {
    pub total: i64,
    pub items: Vec<T>,
}
