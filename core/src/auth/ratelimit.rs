//! Fixed-window rate limits on the shared cache (Redis when configured, so every instance counts together).
//!
//! A cache outage fails open: the limit is skipped and a warning logged; an unreachable Redis must not turn
//! into an outage of the whole API (the same stance as `/health/ready`'s `degraded`).

use std::time::Duration;

use crate::cache::Cache;

/// The state of one limit after counting a request (`RateLimit-*` headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    pub limit: u64,
    pub remaining: u64,
    /// Until the window resets.
    pub reset: Duration,
    /// True when this request is over the limit.
    pub limited: bool,
}

/// Counts one request against `limit` per `window` for `bucket` (e.g. `ip:203.0.113.9`, `login:…`).
/// `None` when the limit is disabled (`limit == 0`) or the cache is unavailable.
pub async fn hit(cache: &Cache, bucket: &str, limit: u64, window: Duration) -> Option<RateState> {
    if limit == 0 {
        return None;
    }
    match cache.hit(&format!("ratelimit:{bucket}"), window).await {
        Ok((count, reset)) => {
            Some(RateState { limit, remaining: limit.saturating_sub(count), reset, limited: count > limit })
        }
        Err(e) => {
            tracing::warn!(error = %e, "rate limit skipped: cache unavailable");
            None
        }
    }
}

/// One request counted against its user's budget.
#[derive(Debug, Clone, Copy)]
pub struct UserLimit {
    /// The bucket after this request (for `RateLimit-*` headers); `None` when the limit is off or the cache
    /// is unreachable.
    pub state: Option<RateState>,
}

impl UserLimit {
    /// 429 once the budget is used up.
    pub fn check(&self) -> crate::error::Result<()> {
        match self.state {
            Some(state) if state.limited => Err(crate::Error::TooManyRequests {
                detail: "too many requests for this user; slow down".into(),
                retry_after: state.reset,
            }),
            _ => Ok(()),
        }
    }
}

impl super::Auth {
    /// Counts one authenticated request against the per-user limit (REST and server functions alike).
    pub async fn limit_user(&self, user_id: uuid::Uuid) -> UserLimit {
        let limit = self.config.auth.rate_limit_user_per_min;
        UserLimit {
            state: hit(&self.cache, &format!("user:{user_id}"), limit, Duration::from_secs(60)).await,
        }
    }

    /// The stricter per-IP limit on sign-in, reset, setup and enrollment (spec §11: 10 per minute by
    /// default), for every adapter that signs people in (REST and server functions).
    pub async fn limit_sign_in(&self, ip: Option<&str>) -> crate::error::Result<()> {
        let limit = self.config.auth.rate_limit_login_per_min;
        let bucket = format!("login:{}", ip.unwrap_or("unknown"));
        match hit(&self.cache, &bucket, limit, Duration::from_secs(60)).await {
            Some(state) if state.limited => Err(crate::Error::TooManyRequests {
                detail: "too many sign-in attempts from this address; wait a minute".into(),
                retry_after: state.reset,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn the_request_over_the_limit_is_limited_and_remaining_counts_down() {
        let cache = Cache::memory();
        let window = Duration::from_secs(60);
        let first = hit(&cache, "ip:a", 2, window).await.unwrap();
        assert_eq!((first.remaining, first.limited), (1, false));
        let second = hit(&cache, "ip:a", 2, window).await.unwrap();
        assert_eq!((second.remaining, second.limited), (0, false));
        let third = hit(&cache, "ip:a", 2, window).await.unwrap();
        assert_eq!((third.remaining, third.limited), (0, true));
        assert!(third.reset <= window);
        assert!(!hit(&cache, "ip:b", 2, window).await.unwrap().limited, "buckets are separate");
        assert_eq!(hit(&cache, "ip:a", 0, window).await, None, "0 disables the limit");
    }
}
