//! Spin's key-value stores as an application has them: by label, each on an SQLite file
//! ([`crate::key_value_sqlite`], `type = "spin"`) or a Redis server
//! ([`crate::key_value_redis`], `type = "redis"`), as `[key_value_store.<label>]` in Spin's
//! runtime config names them; and what one request may open. Values and key lists are weighed
//! as Spin 4.0.2's `factor-key-value` weighs them, against the limit its host passes.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::key_value_redis::{RedisStore, RedisStores};
use crate::key_value_sqlite::{SqliteStore, SqliteStores};
use crate::runtime_config::KeyValueStore;

/// An application's key-value stores by label. An `App`'s always include `default`.
#[derive(Clone, Default)]
pub struct KeyValueStores(Arc<BTreeMap<String, Arc<Backend>>>);

/// Where one store is.
enum Backend {
    File(SqliteStores),
    Redis(RedisStores),
}

impl KeyValueStores {
    /// These stores, with `label` where `store` says (instead of wherever it was). A new
    /// store has a connection of its own, as each of Spin's does, even to a file or a server
    /// another one uses.
    pub fn with(&self, label: &str, store: &KeyValueStore) -> anyhow::Result<Self> {
        let backend = match store {
            KeyValueStore::File(path) => Backend::File(SqliteStores::new(path.clone())),
            KeyValueStore::Redis { url } => Backend::Redis(RedisStores::new(url)?),
        };
        let mut stores = (*self.0).clone();
        stores.insert(label.to_string(), Arc::new(backend));
        Ok(Self(Arc::new(stores)))
    }

    /// Where the store `label` is, if the app has it.
    pub fn store(&self, label: &str) -> Option<KeyValueStore> {
        Some(match &**self.0.get(label)? {
            Backend::File(file) => KeyValueStore::File(file.path.clone()),
            Backend::Redis(redis) => KeyValueStore::Redis {
                url: redis.url().to_string(),
            },
        })
    }
}

/// What a request may reach: the app's stores, and the labels its component lists in
/// `key_value_stores`.
#[derive(Clone)]
pub struct KeyValue {
    pub stores: KeyValueStores,
    pub allowed: Arc<[String]>,
}

/// Why `open` fails.
pub enum OpenError {
    /// The component does not list the label.
    AccessDenied,
    /// The app has no such store.
    NoSuchStore,
    /// The store could not be reached: `other`, with this text.
    Other(String),
}

impl KeyValue {
    /// Spin's order: a label the component does not list is `access-denied`, whether or not
    /// the app has it (an app whose components list an undefined label does not load, so
    /// `no-such-store` is not seen); then the store itself, reached on first use.
    pub async fn open(&self, label: &str) -> Result<Store, OpenError> {
        if !self.allowed.iter().any(|l| l == label) {
            return Err(OpenError::AccessDenied);
        }
        let backend = self.stores.0.get(label).ok_or(OpenError::NoSuchStore)?;
        match &**backend {
            Backend::File(file) => file.open(label).map(Store::File),
            Backend::Redis(redis) => redis.open().await.map(Store::Redis),
        }
        .map_err(OpenError::Other)
    }
}

/// An open store. Every error is `other`, with this text.
pub enum Store {
    File(SqliteStore),
    Redis(RedisStore),
}

/// Spin's words for a result that weighs more than the host buffers.
fn too_large(max_bytes: usize) -> String {
    format!("query result exceeds limit of {max_bytes} bytes")
}

impl Store {
    /// The whole value is read before it is weighed (its bytes and an `Option<Vec<u8>>`),
    /// as in Spin.
    pub async fn get(&self, key: &str, max_bytes: usize) -> Result<Option<Vec<u8>>, String> {
        let value = match self {
            Self::File(s) => s.get(key),
            Self::Redis(s) => s.get(key).await,
        }?;
        let weight = std::mem::size_of::<Option<Vec<u8>>>() + value.as_ref().map_or(0, Vec::len);
        if weight > max_bytes {
            return Err(too_large(max_bytes));
        }
        Ok(value)
    }

    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        match self {
            Self::File(s) => s.set(key, value),
            Self::Redis(s) => s.set(key, value).await,
        }
    }

    /// A missing key is no error.
    pub async fn delete(&self, key: &str) -> Result<(), String> {
        match self {
            Self::File(s) => s.delete(key),
            Self::Redis(s) => s.delete(key).await,
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool, String> {
        match self {
            Self::File(s) => s.exists(key),
            Self::Redis(s) => s.exists(key).await,
        }
    }

    /// Weighed as Spin weighs them: a `Vec<String>`, and a `String` and its bytes a key.
    pub async fn get_keys(&self, max_bytes: usize) -> Result<Vec<String>, String> {
        let keys = match self {
            Self::File(s) => s.get_keys(max_bytes)?,
            Self::Redis(s) => {
                let keys = s.get_keys().await?;
                let weight = std::mem::size_of::<Vec<String>>()
                    + keys
                        .iter()
                        .map(|k| std::mem::size_of::<String>() + k.len())
                        .sum::<usize>();
                (weight <= max_bytes).then_some(keys)
            }
        };
        keys.ok_or_else(|| too_large(max_bytes))
    }
}
