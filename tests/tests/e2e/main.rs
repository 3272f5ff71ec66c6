//! End-to-end tests: the real `.wasm` components of `spin.toml`, served by the test host or
//! `spin up` over real HTTP, on a real SQLite file or a real libSQL server (`support`).

mod client;
mod contract;
mod paths;
mod source;
mod stores;
mod support;

mod audio;
mod auth;
mod callcenter;
mod campaigns;
mod clients;
mod common_rules;
mod conditional;
mod console;
mod document;
mod faults;
mod host;
mod lists;
mod overload;
mod recordings;
mod scale_out;
mod spinkube;
mod tokens;
mod tracing;
mod users;
mod users_csv;
mod voicemails;
mod webhooks;
