//! End-to-end tests: the real `.wasm` components of `spin.toml`, served by the test host over
//! real HTTP and a real SQLite file.

mod contract;
mod support;

mod audio;
mod auth;
mod callcenter;
mod campaigns;
mod common_rules;
mod conditional;
mod document;
mod host;
mod recordings;
mod tracing;
mod users;
mod voicemails;
mod webhooks;
