//! The app the tests serve: its components built by their `spin.toml` build commands, and, for
//! Spin, either that `spin.toml` or, with `E2E_FROM=registry`, the app as an OCI artifact,
//! pushed once per test binary to a local registry of its own ([`registry_binary`]) and run
//! with `spin up --from <reference> -k` from an empty folder.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use testhost::registry::Registry;
use testhost::spin_up::AppSource;
use testhost::Manifest;

use crate::paths::{fresh_path, workspace};

/// The components, built once per test binary by their `spin.toml` build commands.
pub fn built() -> PathBuf {
    static MANIFEST: OnceLock<PathBuf> = OnceLock::new();
    MANIFEST
        .get_or_init(|| {
            let manifest = workspace().join("spin.toml");
            Manifest::load(&manifest)
                .unwrap()
                .build()
                .expect("spin.toml build commands");
            manifest
        })
        .clone()
}

/// Where `spin` (the Spin CLI) takes the app from: `E2E_FROM` unset or `checkout` (the
/// default), the built components and `spin.toml`; `registry`, the app pushed once per test
/// binary.
pub fn for_spin(spin: &Path) -> AppSource {
    static SOURCE: OnceLock<AppSource> = OnceLock::new();
    SOURCE
        .get_or_init(|| match std::env::var("E2E_FROM").as_deref() {
            Err(_) | Ok("") | Ok("checkout") => AppSource::Manifest(built()),
            Ok("registry") => AppSource::Registry(pushed(spin)),
            Ok(other) => panic!("E2E_FROM is `checkout` or `registry`, not `{other}`"),
        })
        .clone()
}

/// Whether the app is to come from a registry: which only Spin can do (the test host has no
/// OCI loader).
pub fn from_registry() -> bool {
    std::env::var("E2E_FROM").as_deref() == Ok("registry")
}

/// The OCI registry to run (`DOCKER_REGISTRY`, else `docker-registry` on the `PATH`).
pub fn registry_binary() -> Option<PathBuf> {
    testhost::registry::find(&workspace())
}

/// The built app pushed with `spin registry push -k` to a registry of this test binary's own,
/// started from a thread that never ends, so that the registry stops when the binary does
/// ([`Registry`]); its reference.
fn pushed(spin: &Path) -> String {
    let binary = registry_binary().expect(
        "E2E_FROM=registry: no docker-registry found (set DOCKER_REGISTRY, or install Debian's \
         docker-registry)",
    );
    let manifest = built();
    let spin = spin.to_path_buf();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let pushed = Registry::start(&binary, &fresh_path("registry")).and_then(|registry| {
            let reference = registry.push(&spin, &manifest, "xivo-rest-api:e2e")?;
            Ok((registry, reference))
        });
        match pushed {
            Ok((registry, reference)) => {
                sender.send(Ok(reference)).unwrap();
                let _kept = registry;
                loop {
                    std::thread::park();
                }
            }
            Err(e) => sender.send(Err(format!("{e:#}"))).unwrap(),
        }
    });
    receiver.recv().unwrap().unwrap_or_else(|e| panic!("{e}"))
}
