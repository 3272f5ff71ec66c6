//! End-to-end tests: the real `.wasm` components of `spin.toml`, served by the test host over
//! real HTTP and a real SQLite file.

mod contract;
mod support;

mod auth;
mod callcenter;
mod campaigns;
mod common_rules;
mod document;
mod host;
mod recordings;
mod users;
mod voicemails;
