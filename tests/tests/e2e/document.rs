//! `GET /1.0/api/api.yml`: the OpenAPI document, served; and the document against what the
//! app serves: every route of `spin.toml`, every path and method of the components' routers,
//! and nothing else. (Every response of every test is also held against the document: see
//! `contract.rs`.)

use serde_json::json;
use testhost::routes::Router;
use testhost::Manifest;

use crate::contract::document;
use crate::paths::workspace;
use crate::support::{Config, Server};

const PATH: &str = "/1.0/api/api.yml";

#[test]
fn the_document_is_served_as_written() {
    let s = Server::start();
    let r = s.get(PATH);
    r.expect(200);
    assert_eq!(r.header("content-type"), Some("application/yaml"));
    let written = std::fs::read(workspace().join("api/api.yml")).unwrap();
    assert!(r.body == written, "the served document is not api/api.yml");
    for (accept, served_as) in [
        ("application/yaml", "application/yaml"),
        ("*/*", "application/yaml"),
        ("application/x-yaml, */*;q=0.1", "application/yaml"),
        ("text/yaml, application/yaml", "application/yaml"),
        // Text only: text, which generated clients read as a string.
        ("text/yaml", "text/yaml"),
        ("text/*", "text/yaml"),
    ] {
        let r = s.send("GET", PATH, &[("Accept", accept)], None);
        r.expect(200);
        assert_eq!(r.header("content-type"), Some(served_as), "{accept}");
        assert!(r.body == written);
    }
}

#[test]
fn the_document_follows_the_common_rules() {
    let s = Server::start();
    for accept in ["application/json", "text/html"] {
        s.send("GET", PATH, &[("Accept", accept)], None)
            .expect_empty(406);
    }
    let r = s.post(PATH, &json!({}));
    r.expect_empty(405);
    assert_eq!(r.header("allow"), Some("GET"));
    s.send("POST", PATH, &[], Some(b"{}")).expect_empty(405);
    s.get("/1.0/api/other.yml").expect_empty(404);
    s.get("/1.0/api/").expect_empty(404);
}

/// What a remote client must authenticate for elsewhere, it reads here without credentials:
/// the document says what the API does, not what it holds.
#[test]
fn the_document_needs_no_credentials() {
    let s = Server::start_with(|c: Config| {
        c.with_remote_client()
            .with_variable("auth_accounts", "admin:secret")
    });
    s.get("/1.0/users/").expect_empty(401);
    s.get(PATH).expect(200);
}

/// A documented path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{cid}" => "c1",
            s if s.starts_with('{') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Each documented path takes exactly its documented methods (another method is 405, and
/// its `Allow` names the documented ones: `contract.rs` checks that on every response), the
/// same with its trailing slash toggled, and nothing below it that the document lacks.
#[test]
fn the_routers_serve_exactly_the_documented_paths_and_methods() {
    let s = Server::start();
    let doc = document();
    assert!(doc.paths().len() > 10, "{:?}", doc.paths());
    for path in doc.paths() {
        let concrete = concrete(path);
        let toggled = match concrete.strip_suffix('/') {
            Some(bare) => bare.to_string(),
            None => format!("{concrete}/"),
        };
        for target in [&concrete, &toggled] {
            let r = s.send_json("PATCH", target, &json!({}));
            assert_eq!(r.status, 405, "PATCH {target}");
        }
        for method in doc.methods(path) {
            let r = match method.as_str() {
                "POST" | "PUT" => s.send_json(&method, &concrete, &json!({})),
                _ => s.send(&method, &concrete, &[], None),
            };
            assert_ne!(r.status, 405, "{method} {concrete}: {}", r.text());
        }
        let deeper = format!("{}/x/y/z", concrete.trim_end_matches('/'));
        s.get(&deeper).expect_empty(404);
    }
}

/// Every route of `spin.toml` leads to documented paths, and every documented path has a
/// route: the document covers the whole manifest, and describes nothing that Spin would
/// not route.
#[test]
fn every_route_of_spin_toml_is_documented() {
    let manifest = Manifest::load(&workspace().join("spin.toml")).unwrap();
    let mut router = Router::default();
    for (i, trigger) in manifest.trigger.http.iter().enumerate() {
        router.add(&trigger.route, i).unwrap();
    }
    let mut documented = vec![false; manifest.trigger.http.len()];
    for path in document().paths() {
        let concrete = concrete(path);
        let found = router
            .route(&concrete)
            .unwrap_or_else(|| panic!("{path}: no route of spin.toml takes it"));
        documented[found.component] = true;
        // Its trailing-slash alias reaches the same route (or the bare route beside it).
        let bare = concrete.trim_end_matches('/');
        let bare_found = router.route(bare).unwrap();
        documented[bare_found.component] = true;
    }
    for (trigger, documented) in manifest.trigger.http.iter().zip(documented) {
        // The console is a web page beside the API, not part of it (console.rs).
        assert!(
            documented || trigger.component == "console",
            "route {} is not in api/api.yml",
            trigger.route
        );
    }
}

/// Schemathesis (`SCHEMATHESIS` names its CLI; `.ci/run` installs the version pinned in
/// `tests/requirements.txt`) generates requests for every operation of the served document,
/// valid and invalid, follows its links (a created user's id to its GET, PUT and DELETE), and
/// holds every response to the document with all its checks (`tests/schemathesis.toml`).
/// Without `SCHEMATHESIS` the test is listed as not run (`testhost::skips`), or fails under
/// `E2E_REQUIRE_ALL=1`: the generator is a Python program that `cargo test` alone cannot
/// install.
#[test]
fn generated_requests_get_what_the_document_promises() {
    let Some(schemathesis) = testhost::skips::named_tool(
        "SCHEMATHESIS",
        "the schemathesis CLI (see tests/requirements.txt)",
        &workspace(),
    ) else {
        return;
    };
    // Subscriptions to the document's example URL are allowed; nothing listens there, so
    // each delivery fails at once (and is recorded).
    let s = Server::start_with(|c| c.with_variable("webhook_allowed_hosts", "http://127.0.0.1:1"));
    let output = std::process::Command::new(schemathesis)
        .arg("--config-file")
        .arg(workspace().join("tests/schemathesis.toml"))
        .arg("run")
        .arg(s.url(PATH))
        .output()
        .expect("run schemathesis");
    let printed = String::from_utf8_lossy(&output.stdout);
    eprintln!("{printed}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "schemathesis found failures (above)"
    );
    let generated = generated_cases(&printed)
        .unwrap_or_else(|| panic!("no count of generated test cases in schemathesis' output"));
    assert!(generated >= 1000, "only {generated} generated requests");
}

/// `Test cases:` then `N generated, ...` in schemathesis' summary.
fn generated_cases(printed: &str) -> Option<u64> {
    let after = printed.split("Test cases:").nth(1)?;
    let words: Vec<&str> = after.split_whitespace().collect();
    let at = words.iter().position(|w| w.starts_with("generated"))?;
    words.get(at.checked_sub(1)?)?.replace(',', "").parse().ok()
}
