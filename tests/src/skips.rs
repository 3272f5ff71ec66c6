//! Tests that do not run say why, and are counted: a test binary that skipped any ends by
//! listing them, after the harness's own summary (printed as the process exits). Two kinds:
//!
//! - [`missing`]: a tool the test needs is not on this machine (sqld, schemathesis,
//!   Chromium...). With `E2E_REQUIRE_ALL=1` (`.ci/run` sets it) the test fails instead, so a
//!   run that says everything ran did.
//! - [`not_here`]: the test does not apply to this runtime or database (a test host setting
//!   under Spin, a file lock on sqld). Listed, never failed: another of the runs covers it.
//!
//! A test is named by its thread, which the harness names after the test.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

struct Skipped {
    test: String,
    why: String,
    missing: bool,
}

static SKIPPED: Mutex<Vec<Skipped>> = Mutex::new(Vec::new());

/// The test cannot run here: a tool it needs is missing (`why` says which, and how to name
/// it). Fails the test when `E2E_REQUIRE_ALL=1`.
pub fn missing(why: &str) {
    let test = current_test();
    if require_all() {
        panic!("E2E_REQUIRE_ALL=1, and this test cannot run: {why}");
    }
    record(Skipped {
        test,
        why: why.to_string(),
        missing: true,
    });
}

/// The test does not apply here (`why`: to what it does apply).
pub fn not_here(why: &str) {
    record(Skipped {
        test: current_test(),
        why: why.to_string(),
        missing: false,
    });
}

/// The tool the variable `variable` names ([`crate::named_path`]), or `None` with the test
/// listed as [`missing`] (`how`: what the variable should name).
pub fn named_tool(variable: &str, how: &str, workspace: &Path) -> Option<PathBuf> {
    let tool = crate::named_path(variable, workspace);
    if tool.is_none() {
        missing(&format!("set {variable} to {how}"));
    }
    tool
}

/// `E2E_REQUIRE_ALL` is set to `1`: every test must run.
pub fn require_all() -> bool {
    std::env::var("E2E_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string()
}

fn record(skipped: Skipped) {
    eprintln!("skipped: {}", skipped.why);
    let mut list = SKIPPED.lock().unwrap_or_else(PoisonError::into_inner);
    if list.is_empty() {
        report_at_exit();
    }
    list.push(skipped);
}

/// Print the list when the process exits: after the harness's summary, which returns from
/// `main` (or calls `exit`) once every test has run.
fn report_at_exit() {
    unsafe extern "C" {
        fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
    }
    // SAFETY: `atexit` is the C library's, which std links; `report` takes nothing, never
    // calls `exit`, and cannot unwind into C (a panic in an `extern "C"` function aborts).
    unsafe {
        atexit(report);
    }
}

extern "C" fn report() {
    let list = SKIPPED.lock().unwrap_or_else(PoisonError::into_inner);
    let (missing, elsewhere): (Vec<&Skipped>, Vec<&Skipped>) = list.iter().partition(|s| s.missing);
    print_list(
        "did NOT run, for want of a tool (E2E_REQUIRE_ALL=1 makes them fail)",
        &missing,
    );
    print_list(
        "do not apply to this runtime or database (another run covers them)",
        &elsewhere,
    );
}

fn print_list(what: &str, tests: &[&Skipped]) {
    if tests.is_empty() {
        return;
    }
    eprintln!("\n{} test(s) {what}:", tests.len());
    for s in tests {
        eprintln!("  {}: {}", s.test, s.why);
    }
}
