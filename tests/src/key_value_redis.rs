//! A key-value store on a Redis server, as Spin 4.0.2's `key-value-redis` serves it (`type =
//! "redis"`, `url`): the `redis` crate Spin links (0.32.5), one connection manager per store,
//! made at the store's first `open` and shared by every request after it (it reconnects by
//! itself); keys are the component's keys as they are, in the server's one key space, whatever
//! the store's label; every error is `other` with its `Debug` text.
//!
//! Spin also links the crate's TLS support for `rediss://`; the test host does not (no test
//! here has a TLS Redis), and refuses such a URL when it loads the runtime config.

use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use tokio::sync::OnceCell;

/// One store's server, and its connection manager once made.
pub struct RedisStores {
    url: String,
    connection: OnceCell<ConnectionManager>,
}

/// An open store.
pub struct RedisStore {
    connection: ConnectionManager,
}

/// Spin's `log_error`: any error as `other`, with its `Debug` text.
fn other(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

impl RedisStores {
    /// Spin refuses to start on a URL the crate cannot parse ("Invalid Redis URL").
    pub fn new(url: &str) -> anyhow::Result<Self> {
        if redis::parse_redis_url(url).is_none() {
            anyhow::bail!("Invalid Redis URL: {url}");
        }
        if url.starts_with("rediss:") {
            anyhow::bail!("{url}: the test host has no TLS for Redis");
        }
        Ok(Self {
            url: url.to_string(),
            connection: OnceCell::new(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The store's connection manager, made at the first `open` (an unreachable server is
    /// this `open`'s error, and the next `open` tries again); then a `PING` whose failure is
    /// ignored, as Spin's `after_open` does (the manager reconnects in the background).
    pub async fn open(&self) -> Result<RedisStore, String> {
        let connection = self
            .connection
            .get_or_try_init(|| async {
                redis::Client::open(self.url.as_str())?
                    .get_connection_manager()
                    .await
            })
            .await
            .map_err(other)?
            .clone();
        let _ = connection.clone().ping::<()>().await;
        Ok(RedisStore { connection })
    }
}

impl RedisStore {
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.connection.clone().get(key).await.map_err(other)
    }

    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.connection.clone().set(key, value).await.map_err(other)
    }

    pub async fn delete(&self, key: &str) -> Result<(), String> {
        self.connection.clone().del(key).await.map_err(other)
    }

    pub async fn exists(&self, key: &str) -> Result<bool, String> {
        self.connection.clone().exists(key).await.map_err(other)
    }

    /// Every key of the server (`KEYS *`), in the server's order.
    pub async fn get_keys(&self) -> Result<Vec<String>, String> {
        self.connection.clone().keys("*").await.map_err(other)
    }
}
