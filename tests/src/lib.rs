//! A stand-in for Spin's runtime, for testing the components without the Spin CLI: it reads
//! `spin.toml`, builds and loads the components, routes as Spin does, and provides the host
//! interfaces they import (WASI, wasi:http, Spin's SQLite, variables and key-value store). Not
//! a product: run the app with `spin up`.

pub mod app;
pub mod manifest;
pub mod outbound;
pub mod routes;
pub mod runtime_config;
pub mod spin;
pub mod spin_up;

pub use app::{serve, App};
pub use manifest::Manifest;
