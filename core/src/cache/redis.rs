//! The Redis cache: a `ConnectionManager` (reconnects in the background) with short timeouts, so a Redis
//! outage turns into quick errors rather than hung requests.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use super::CacheError;
use crate::config::redact_url;

#[derive(Clone)]
pub struct RedisCache {
    manager: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn unavailable(e: redis::RedisError) -> CacheError {
    CacheError::Unavailable(e.to_string())
}

impl RedisCache {
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, CacheError> {
        let connect_error = |reason: String| CacheError::Connect { url: redact_url(url), reason };
        let client = redis::Client::open(url).map_err(|e| connect_error(format!("invalid URL ({e})")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let manager =
            tokio::time::timeout(Duration::from_secs(10), client.get_connection_manager_with_config(config))
                .await
                .map_err(|_| connect_error("timed out connecting to Redis".into()))?
                .map_err(|e| connect_error(e.to_string()))?;
        let cache = Self { manager, prefix: prefix.to_owned() };
        cache.ping().await.map_err(|e| connect_error(e.to_string()))?;
        Ok(cache)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    pub async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.manager.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await.map_err(unavailable)?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut conn = self.manager.clone();
        conn.get(self.key(key)).await.map_err(unavailable)
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), CacheError> {
        let mut conn = self.manager.clone();
        let key = self.key(key);
        match ttl {
            Some(ttl) => conn.pset_ex::<_, _, ()>(key, value, millis(ttl)).await,
            None => conn.set::<_, _, ()>(key, value).await,
        }
        .map_err(unavailable)
    }

    pub async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let mut conn = self.manager.clone();
        let removed: u64 = conn.del(self.key(key)).await.map_err(unavailable)?;
        Ok(removed > 0)
    }

    pub async fn set_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, CacheError> {
        let mut conn = self.manager.clone();
        let stored: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(stored.is_some())
    }

    pub async fn hit(&self, key: &str, window: Duration) -> Result<(u64, Duration), CacheError> {
        let mut conn = self.manager.clone();
        let key = self.key(key);
        // INCR, then start the window on the first hit; PTTL tells the client when it ends.
        let (count, ttl): (u64, i64) = redis::pipe()
            .atomic()
            .incr(&key, 1u64)
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(millis(window))
            .arg("NX")
            .ignore()
            .cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let remaining = u64::try_from(ttl).map_or(window, Duration::from_millis);
        Ok((count, remaining))
    }

    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut conn = self.manager.clone();
        redis::cmd("GETDEL").arg(self.key(key)).query_async(&mut conn).await.map_err(unavailable)
    }
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}
