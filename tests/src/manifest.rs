//! The parts of a Spin manifest (`spin.toml`, version 2) that the test host uses.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
    /// The directory of `spin.toml`: sources, build directories and `.spin/` are relative to it.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// `[application]`: what `/.well-known/spin/info` tells of it.
#[derive(Debug, Deserialize)]
pub struct Application {
    pub name: String,
    pub version: Option<String>,
}

/// `[variables]`: an application variable, `required` or with a `default`.
#[derive(Debug, Deserialize)]
pub struct Variable {
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

#[derive(Debug, Deserialize)]
pub struct HttpTrigger {
    pub route: String,
    pub component: String,
}

#[derive(Debug, Deserialize)]
pub struct Component {
    pub source: String,
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    /// The key-value stores the component may open, by label.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    /// Where its outbound HTTP may go (`"http://127.0.0.1:8080"`, `"{{ a_variable }}"`).
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// `[component.x.variables]`: name → template (`"{{ app_variable }}"`).
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    pub build: Option<Build>,
}

#[derive(Debug, Deserialize)]
pub struct Build {
    pub command: Commands,
    pub workdir: Option<String>,
}

/// A build's `command`: one, or several run in order (Spin's `Commands`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Commands {
    Single(String),
    Multiple(Vec<String>),
}

impl Commands {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let all: &[String] = match self {
            Self::Single(one) => std::slice::from_ref(one),
            Self::Multiple(many) => many,
        };
        all.iter().map(String::as_str)
    }
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the manifest {}", path.display()))?;
        let mut manifest: Manifest = toml::from_str(&text)
            .with_context(|| format!("invalid manifest {}", path.display()))?;
        if manifest.spin_manifest_version != 2 {
            bail!("only spin_manifest_version = 2 is supported");
        }
        for (name, v) in &manifest.variables {
            if v.required == v.default.is_some() {
                bail!("variable {name}: must be `required` OR have a `default`");
            }
        }
        for t in &manifest.trigger.http {
            if !manifest.component.contains_key(&t.component) {
                bail!(
                    "route {} names an unknown component {}",
                    t.route,
                    t.component
                );
            }
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        manifest.dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir.to_path_buf()
        };
        Ok(manifest)
    }

    /// A component's `.wasm`, relative to the manifest's directory as Spin reads it.
    pub fn source(&self, component: &Component) -> PathBuf {
        self.dir.join(&component.source)
    }

    /// Spin's default database for `spin up`: `.spin/sqlite_db.db` beside `spin.toml`.
    pub fn default_database(&self) -> PathBuf {
        self.dir.join(".spin").join("sqlite_db.db")
    }

    /// Spin's default key-value store for `spin up`: `.spin/sqlite_key_value.db` beside
    /// `spin.toml` (in Spin's state directory).
    pub fn default_key_value_store(&self) -> PathBuf {
        self.dir.join(".spin").join("sqlite_key_value.db")
    }

    /// `spin build`: each component's build commands through `sh -c`, in the manifest's
    /// directory (plus `workdir`), stopping at the first failure. Spin builds in manifest
    /// order; this builds in component-name order (no component here depends on another).
    pub fn build(&self) -> Result<()> {
        for (id, component) in &self.component {
            let Some(build) = &component.build else {
                continue;
            };
            let mut dir = self.dir.clone();
            if let Some(workdir) = &build.workdir {
                if Path::new(workdir).has_root() {
                    bail!("The workdir specified in the application file must be relative.");
                }
                dir.push(workdir);
            }
            for command in build.command.iter() {
                eprintln!("Building component {id} with `{command}`");
                let status = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .current_dir(&dir)
                    .status()
                    .with_context(|| format!("cannot run the build command of {id}"))?;
                if !status.success() {
                    bail!("Build command for component {id} failed with status {status}");
                }
            }
        }
        Ok(())
    }
}
