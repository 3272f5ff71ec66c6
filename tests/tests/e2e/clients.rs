//! README, "Clients from the document": clients generated from the served document, with
//! each generator's default settings, must come out whole (no warning, no schema or operation
//! dropped), and be usable.
//!
//! - Python: openapi-python-client (`OPENAPI_PYTHON_CLIENT` names its CLI, in a virtual
//!   environment that also holds its `ruff` and the `python` that runs the generated code;
//!   `.ci/run` makes one from `tests/requirements.txt`). The recording hook's and a CRM's
//!   flows (`tests/clients/flows.py`) then run with it against the app.
//! - TypeScript: openapi-typescript (`OPENAPI_TYPESCRIPT` names its CLI, with `tsc` beside it;
//!   `.ci/run` installs both from `tests/clients/typescript/package-lock.json`). Its types,
//!   and `tests/clients/typescript/usage.ts` written against them, must pass `tsc --strict`.
//!
//! The clients are generated here, at test time, never committed: the document cannot drift
//! from what the generators make of it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::paths::{fresh_path, workspace};
use crate::support::Server;

const DOCUMENT: &str = "/1.0/api/api.yml";

/// The tool a variable names, or `None`, the test then listed as not run.
fn named_tool(variable: &str, how: &str) -> Option<PathBuf> {
    testhost::skips::named_tool(variable, how, &workspace())
}

/// Run to the end; what it printed, both streams. Panics unless it succeeded.
fn run(what: &str, command: &mut Command) -> String {
    let Output {
        status,
        stdout,
        stderr,
    } = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    eprintln!("{what}:\n{printed}");
    assert!(status.success(), "{what} failed ({status}):\n{printed}");
    printed
}

/// The lines of a generator's output that say something went missing or wrong.
fn complaints(printed: &str) -> Vec<&str> {
    printed
        .lines()
        .filter(|line| {
            let line = line.to_lowercase();
            [
                "warn",
                "error",
                "skipping",
                "unable",
                "cannot",
                "unsupported",
                "omitted",
            ]
            .iter()
            .any(|word| line.contains(word))
        })
        .collect()
}

/// `PATH` with `dir` first, so that a tool finds its siblings (`ruff`, `node`...).
fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// Run a generator (`PATH` with its own directory first, for its siblings), which must print no
/// complaint: a warning is something left out of what it generated.
fn generate(generator: &Path, args: &[OsString]) {
    let name = generator.file_name().unwrap().to_string_lossy();
    let printed = run(
        &name,
        Command::new(generator)
            .env("PATH", path_with(generator.parent().unwrap()))
            .args(args),
    );
    assert_eq!(
        complaints(&printed),
        Vec::<&str>::new(),
        "{name} did not generate everything"
    );
}

#[test]
fn the_generated_python_client_runs_the_flows() {
    let Some(generator) = named_tool(
        "OPENAPI_PYTHON_CLIENT",
        "openapi-python-client's CLI in a virtual environment (see tests/requirements.txt)",
    ) else {
        return;
    };
    let s = Server::start();
    let out = fresh_path("python-client");
    generate(
        &generator,
        &[
            "generate".into(),
            "--url".into(),
            s.url(DOCUMENT).into(),
            "--output-path".into(),
            out.clone().into(),
        ],
    );
    let package = out.join("xi_vo_rest_api_client");
    // A schema a generator cannot read may become `Any` without a word: the inputs must be
    // models of their own.
    for model in [
        "user_input",
        "voicemail_input",
        "agent_input",
        "queue_input",
        "campaign_input",
        "campaign_one",
        "recording_input",
        "webhook_input",
        "token_input",
    ] {
        let file = package.join("models").join(format!("{model}.py"));
        assert!(file.is_file(), "no model {model}");
    }
    let printed = run(
        "the flows with the generated client",
        Command::new(generator.with_file_name("python"))
            .arg(workspace().join("tests/clients/flows.py"))
            .arg(s.url(""))
            .arg(&out),
    );
    assert!(
        printed.contains("recording hook:") && printed.contains("CRM:"),
        "{printed}"
    );
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn the_typescript_types_compile() {
    let Some(generator) = named_tool(
        "OPENAPI_TYPESCRIPT",
        "openapi-typescript's CLI, tsc beside it (npm ci in tests/clients/typescript)",
    ) else {
        return;
    };
    let s = Server::start();
    let out = fresh_path("typescript");
    std::fs::create_dir_all(&out).unwrap();
    generate(
        &generator,
        &[
            s.url(DOCUMENT).into(),
            "--output".into(),
            out.join("api.d.ts").into(),
        ],
    );
    std::fs::copy(
        workspace().join("tests/clients/typescript/usage.ts"),
        out.join("usage.ts"),
    )
    .unwrap();
    run(
        "tsc",
        Command::new(generator.with_file_name("tsc"))
            .env("PATH", path_with(generator.parent().unwrap()))
            .args(["--strict", "--noEmit", "--noUnusedLocals"])
            .args(["--target", "es2022", "--module", "nodenext"])
            .arg(out.join("usage.ts")),
    );
    std::fs::remove_dir_all(out).unwrap();
}
