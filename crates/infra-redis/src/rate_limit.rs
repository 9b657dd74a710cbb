//! The shared [`RateLimiter`]: one Redis counter per key, so every instance counts the same hits.
//!
//! A hit is one script on one key ([`HIT_SCRIPT`]: `INCR`, then `PEXPIRE` when the `INCR` opened
//! the window, then `PTTL`), so it is atomic and, touching a single key, safe on Redis Cluster.
//! The key expires with its window, so Redis keeps only live windows and needs no sweeping. Every
//! command is bounded by a timeout: a sick Redis answers `Unavailable` quickly, and the domain
//! then counts on this instance instead.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::Pool;
use domain::rate_limit::{Count, RateLimitError, RateLimiter};
use redis::Script;

use crate::pool::build_pool;

/// Prefix of every counter key in Redis; the rest is the domain's key.
pub const RATE_KEY_PREFIX: &str = "stockroom:rate:";

/// Counts a hit on `KEYS[1]` in a window of `ARGV[1]` milliseconds opened by its first hit;
/// returns `{hits, milliseconds left}`. A key found without an expiry (written by hand, or
/// persisted by an operator) is given one, so it can never count forever.
pub const HIT_SCRIPT: &str = r#"
local hits = redis.call("INCR", KEYS[1])
if hits == 1 then
    redis.call("PEXPIRE", KEYS[1], ARGV[1])
end
local left = redis.call("PTTL", KEYS[1])
if left < 0 then
    redis.call("PEXPIRE", KEYS[1], ARGV[1])
    left = tonumber(ARGV[1])
end
return {hits, left}
"#;

/// [`RateLimiter`] on Redis. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct RedisRateLimiter {
    pool: Pool,
    hit_script: Arc<Script>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// Counters on the Redis at `url`, each command bounded by `timeout`. Connects lazily: this
    /// only checks the URL.
    pub fn connect(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            pool: build_pool(url, timeout)?,
            hit_script: Arc::new(Script::new(HIT_SCRIPT)),
            timeout,
        })
    }

    /// The Redis key counting `key`.
    pub fn redis_key(key: &str) -> String {
        format!("{RATE_KEY_PREFIX}{key}")
    }

    async fn bounded<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, RateLimitError>>,
    ) -> Result<T, RateLimitError> {
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| RateLimitError::Unavailable("Redis did not answer in time".into()))?
    }
}

fn unavailable(error: impl std::fmt::Display) -> RateLimitError {
    RateLimitError::Unavailable(error.to_string())
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn hit(&self, key: &str, period: Duration) -> Result<Count, RateLimitError> {
        let period_ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX).max(1);
        let redis_key = Self::redis_key(key);
        let (hits, left_ms) = self
            .bounded(async {
                let mut conn = self.pool.get().await.map_err(unavailable)?;
                self.hit_script
                    .key(&redis_key)
                    .arg(period_ms)
                    .invoke_async::<(u64, i64)>(&mut conn)
                    .await
                    .map_err(unavailable)
            })
            .await?;
        Ok(Count {
            hits,
            resets_in: Duration::from_millis(left_ms.max(0) as u64),
        })
    }

    async fn clear(&self, key: &str) -> Result<(), RateLimitError> {
        let redis_key = Self::redis_key(key);
        self.bounded(async {
            let mut conn = self.pool.get().await.map_err(unavailable)?;
            redis::cmd("DEL")
                .arg(&redis_key)
                .query_async::<i64>(&mut conn)
                .await
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }
}
