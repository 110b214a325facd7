//! The cache/ephemeral store: Redis when `REDIS_URL` is set, an in-process map otherwise.
//!
//! The database stays the source of truth; a cache failure is reported (`degraded`) but never fatal once
//! the server runs. Every key is namespaced by the configured prefix.

mod memory;
mod redis;

use std::time::Duration;

pub use self::memory::MemoryCache;
pub use self::redis::RedisCache;

/// Cache errors (only Redis can fail).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("REDIS_URL={url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("cache unavailable: {0}")]
    Unavailable(String),
}

/// The state of the cache as reported by `/health/ready`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CacheHealth {
    /// `memory` or `redis`.
    pub kind: &'static str,
    /// `ok` or `unavailable`.
    pub status: &'static str,
}

/// A cache handle, cheap to clone.
#[derive(Debug, Clone)]
pub enum Cache {
    Memory(MemoryCache),
    Redis(RedisCache),
}

impl Cache {
    /// The in-process cache.
    pub fn memory() -> Self {
        Cache::Memory(MemoryCache::default())
    }

    /// Connects to Redis and checks it answers `PING`; keys are prefixed with `prefix`.
    pub async fn redis(url: &str, prefix: &str) -> Result<Self, CacheError> {
        RedisCache::connect(url, prefix).await.map(Cache::Redis)
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Cache::Memory(_) => "memory",
            Cache::Redis(_) => "redis",
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        match self {
            Cache::Memory(c) => Ok(c.get(key)),
            Cache::Redis(c) => c.get(key).await,
        }
    }

    /// Stores `value` under `key`, expiring after `ttl` when given.
    pub async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), CacheError> {
        match self {
            Cache::Memory(c) => {
                c.set(key, value, ttl);
                Ok(())
            }
            Cache::Redis(c) => c.set(key, value, ttl).await,
        }
    }

    /// Removes `key`; true when it existed.
    pub async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        match self {
            Cache::Memory(c) => Ok(c.delete(key)),
            Cache::Redis(c) => c.delete(key).await,
        }
    }

    /// Stores `value` only if `key` is absent (single use tokens, leases); true when stored.
    pub async fn set_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, CacheError> {
        match self {
            Cache::Memory(c) => Ok(c.set_if_absent(key, value, ttl)),
            Cache::Redis(c) => c.set_if_absent(key, value, ttl).await,
        }
    }

    /// Reads and removes `key` atomically (single-use ceremony state).
    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        match self {
            Cache::Memory(c) => Ok(c.take(key)),
            Cache::Redis(c) => c.take(key).await,
        }
    }

    /// Counts one hit in the fixed window `key` (created with `window` as its lifetime) and returns the count
    /// so far and how long the window still runs. Rate limits are built on this.
    pub async fn hit(&self, key: &str, window: Duration) -> Result<(u64, Duration), CacheError> {
        match self {
            Cache::Memory(c) => Ok(c.hit(key, window)),
            Cache::Redis(c) => c.hit(key, window).await,
        }
    }

    pub async fn health(&self) -> CacheHealth {
        let status = match self {
            Cache::Memory(_) => "ok",
            Cache::Redis(c) => {
                if c.ping().await.is_ok() {
                    "ok"
                } else {
                    "unavailable"
                }
            }
        };
        CacheHealth { kind: self.kind(), status }
    }
}

/// The default Redis key prefix: derived from the database, so two deployments sharing a Redis but not a
/// database never see each other's keys.
pub fn default_prefix(database_url: &str) -> String {
    // FNV-1a: stable across builds and platforms (std's hasher is not).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in database_url.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("tessera:{hash:016x}:")
}
