//! The runtime-config file (`spin up --runtime-config-file`), as far as the test host serves
//! what it names: `[sqlite_database.default]` of `type = "spin"` with a `path`, or of
//! `type = "libsql"` with a server's `url` and `token`, and `[key_value_store.<label>]` of
//! `type = "spin"` with a `path`, or of `type = "redis"` with a server's `url`; and
//! `[[config_provider]]` (or `[[variables_provider]]`) of `type = "env"` with Spin's own prefix,
//! which SpinKube's operator writes into every runtime config it renders, and which says what
//! the test host does anyway. A `path` is taken from the file's own directory when relative
//! (as Spin 4.0.2 resolves it, `crates/runtime-config`). Other sections are refused, so that a
//! test never believes the test host serves what it does not.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// Where the `default` SQLite database is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// A local file (`type = "spin"`), opened in process.
    File(PathBuf),
    /// A libSQL server (`type = "libsql"`: sqld, Turso), spoken to over HTTP.
    Libsql { url: String, token: String },
}

impl Database {
    /// The runtime-config section that names this database, as `spin up` reads it.
    pub fn runtime_config(&self) -> Result<String> {
        let section = "[sqlite_database.default]\n";
        Ok(match self {
            Self::File(path) => {
                let path = path
                    .to_str()
                    .with_context(|| format!("{} is not UTF-8", path.display()))?;
                format!("{section}type = \"spin\"\npath = {}\n", toml_string(path))
            }
            Self::Libsql { url, token } => format!(
                "{section}type = \"libsql\"\nurl = {}\ntoken = {}\n",
                toml_string(url),
                toml_string(token)
            ),
        })
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Libsql { url, .. } => write!(f, "libSQL at {url}"),
        }
    }
}

/// Where a key-value store is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyValueStore {
    /// An SQLite file (`type = "spin"`), opened in process.
    File(PathBuf),
    /// A Redis server (`type = "redis"`), shared by every instance that names it.
    Redis { url: String },
}

impl KeyValueStore {
    /// The runtime-config section that names this store for `label`, as `spin up` reads it.
    pub fn runtime_config(&self, label: &str) -> Result<String> {
        let section = format!("[key_value_store.{label}]\n");
        Ok(match self {
            Self::File(path) => {
                let path = path
                    .to_str()
                    .with_context(|| format!("{} is not UTF-8", path.display()))?;
                format!("{section}type = \"spin\"\npath = {}\n", toml_string(path))
            }
            Self::Redis { url } => {
                format!("{section}type = \"redis\"\nurl = {}\n", toml_string(url))
            }
        })
    }
}

impl fmt::Display for KeyValueStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Redis { url } => write!(f, "Redis at {url}"),
        }
    }
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// What a runtime-config file sets.
#[derive(Debug, Default, PartialEq)]
pub struct RuntimeConfig {
    /// The `default` database, when set.
    pub database: Option<Database>,
    /// Key-value stores by label.
    pub key_value_stores: BTreeMap<String, KeyValueStore>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    sqlite_database: BTreeMap<String, Store>,
    #[serde(default)]
    key_value_store: BTreeMap<String, Store>,
    #[serde(default, alias = "variables_provider")]
    config_provider: Vec<VariablesProvider>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariablesProvider {
    r#type: String,
    prefix: Option<String>,
    dotenv_path: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Store {
    r#type: String,
    path: Option<PathBuf>,
    url: Option<String>,
    token: Option<String>,
}

impl RuntimeConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base).with_context(|| format!("in {}", path.display()))
    }

    /// The runtime config in `text`, a relative `path` being from `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Self> {
        let file: File = toml::from_str(text)?;
        for provider in &file.config_provider {
            let prefix = provider.prefix.as_deref().unwrap_or("SPIN_VARIABLE_");
            if provider.r#type != "env"
                || prefix != "SPIN_VARIABLE_"
                || provider.dotenv_path.is_some()
            {
                bail!(
                    "[[config_provider]]: the test host reads variables from SPIN_VARIABLE_* only"
                );
            }
        }
        let resolve = |section: &str, label: &str, store: Store| -> Result<PathBuf> {
            if store.r#type != "spin" {
                bail!(
                    "[{section}.{label}]: the test host does not serve type {:?}",
                    store.r#type
                );
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
            // Spin's `LibsqlConfig` wants both (`crates/sqlite/src/lib.rs`).
            config.database = Some(match store.r#type.as_str() {
                "libsql" => match (store.url, store.token) {
                    (Some(url), Some(token)) => Database::Libsql { url, token },
                    _ => bail!("[sqlite_database.{label}]: type \"libsql\" needs url and token"),
                },
                _ => Database::File(resolve("sqlite_database", &label, store)?),
            });
        }
        for (label, store) in file.key_value_store {
            // Spin's `RedisKeyValueRuntimeConfig` wants the `url`.
            let store = match store.r#type.as_str() {
                "redis" => match store.url {
                    Some(url) => KeyValueStore::Redis { url },
                    None => bail!("[key_value_store.{label}]: type \"redis\" needs url"),
                },
                _ => KeyValueStore::File(resolve("key_value_store", &label, store)?),
            };
            config.key_value_stores.insert(label, store);
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
        assert_eq!(
            config.database,
            Some(Database::File(PathBuf::from("/srv/app/data/app.db")))
        );
        assert_eq!(
            config.key_value_stores.get("default"),
            Some(&KeyValueStore::File(PathBuf::from("/abs/kv.db")))
        );
    }

    #[test]
    fn a_libsql_server_is_read_back_as_written() {
        let database = Database::Libsql {
            url: "http://127.0.0.1:8080".into(),
            token: "t\"k".into(),
        };
        let text = database.runtime_config().unwrap();
        let config = RuntimeConfig::parse(&text, Path::new("/")).unwrap();
        assert_eq!(config.database, Some(database));
        let file = Database::File(PathBuf::from("/srv/a b.db"));
        let config = RuntimeConfig::parse(&file.runtime_config().unwrap(), Path::new("/")).unwrap();
        assert_eq!(config.database, Some(file));
    }

    #[test]
    fn key_value_stores_are_read_back_as_written() {
        for store in [
            KeyValueStore::Redis {
                url: "redis://127.0.0.1:6379".into(),
            },
            KeyValueStore::File(PathBuf::from("/srv/kv \"1\".db")),
        ] {
            let text = store.runtime_config("audio").unwrap();
            let config = RuntimeConfig::parse(&text, Path::new("/")).unwrap();
            assert_eq!(config.key_value_stores.get("audio"), Some(&store), "{text}");
        }
    }

    #[test]
    fn the_environment_provider_is_spins_own() {
        let text = "[[config_provider]]\ntype = 'env'\nprefix = 'SPIN_VARIABLE_'\n";
        assert_eq!(
            RuntimeConfig::parse(text, Path::new("/")).unwrap(),
            RuntimeConfig::default()
        );
    }

    #[test]
    fn what_the_test_host_cannot_serve_is_refused() {
        for text in [
            "[sqlite_database.default]\ntype = \"libsql\"\nurl = \"http://x\"\n",
            "[sqlite_database.default]\ntype = \"other\"\nurl = \"http://x\"\n",
            "[sqlite_database.other]\ntype = \"spin\"\npath = \"a.db\"\n",
            "[key_value_store.default]\ntype = \"redis\"\n",
            "[key_value_store.default]\ntype = \"azure_cosmos\"\nurl = \"x\"\n",
            "[llm_compute]\ntype = \"spin\"\n",
            "[[config_provider]]\ntype = 'env'\nprefix = 'APP_'\n",
            "[[config_provider]]\ntype = 'env'\ndotenv_path = '.env'\n",
            "[[variables_provider]]\ntype = 'vault'\nurl = 'http://v'\n",
        ] {
            assert!(
                RuntimeConfig::parse(text, Path::new("/")).is_err(),
                "{text}"
            );
        }
    }
}
