//! The runtime-config file (`spin up --runtime-config-file`), as far as the test host serves
//! what it names: `[sqlite_database.default]` and `[key_value_store.<label>]`, each of
//! `type = "spin"` with a `path`, which is taken from the file's own directory when relative
//! (as Spin 4.0.2 resolves it, `crates/runtime-config`). Other sections are refused, so that
//! a test never believes the test host serves what it does not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// What a runtime-config file sets.
#[derive(Debug, Default, PartialEq)]
pub struct RuntimeConfig {
    /// The `default` database's file, when set.
    pub database: Option<PathBuf>,
    /// Key-value stores by label.
    pub key_value_stores: BTreeMap<String, PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    sqlite_database: BTreeMap<String, Store>,
    #[serde(default)]
    key_value_store: BTreeMap<String, Store>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Store {
    r#type: String,
    path: Option<PathBuf>,
}

impl RuntimeConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base).with_context(|| format!("in {}", path.display()))
    }

    fn parse(text: &str, base: &Path) -> Result<Self> {
        let file: File = toml::from_str(text)?;
        let resolve = |section: &str, label: &str, store: Store| -> Result<PathBuf> {
            if store.r#type != "spin" {
                bail!("[{section}.{label}]: the test host serves type \"spin\" only");
            }
            let path = store
                .path
                .with_context(|| format!("[{section}.{label}]: the test host needs a path"))?;
            Ok(base.join(path))
        };
        let mut config = Self::default();
        for (label, store) in file.sqlite_database {
            if label != "default" {
                bail!("[sqlite_database.{label}]: the test host serves `default` only");
            }
            config.database = Some(resolve("sqlite_database", &label, store)?);
        }
        for (label, store) in file.key_value_store {
            let path = resolve("key_value_store", &label, store)?;
            config.key_value_stores.insert(label, path);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_from_the_file_directory() {
        let config = RuntimeConfig::parse(
            "[sqlite_database.default]\ntype = \"spin\"\npath = \"data/app.db\"\n\
             [key_value_store.default]\ntype = \"spin\"\npath = \"/abs/kv.db\"\n",
            Path::new("/srv/app"),
        )
        .unwrap();
        assert_eq!(config.database, Some(PathBuf::from("/srv/app/data/app.db")));
        assert_eq!(
            config.key_value_stores.get("default"),
            Some(&PathBuf::from("/abs/kv.db"))
        );
    }

    #[test]
    fn what_the_test_host_cannot_serve_is_refused() {
        for text in [
            "[sqlite_database.default]\ntype = \"libsql\"\nurl = \"http://x\"\n",
            "[sqlite_database.other]\ntype = \"spin\"\npath = \"a.db\"\n",
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://x\"\n",
            "[llm_compute]\ntype = \"spin\"\n",
        ] {
            assert!(
                RuntimeConfig::parse(text, Path::new("/")).is_err(),
                "{text}"
            );
        }
    }
}
