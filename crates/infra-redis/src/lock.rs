//! The distributed lock: one Redis key per [`LockKey`], owned through a random token.
//!
//! A key is taken with `SET key token NX PX ttl`, so a holder that dies frees it after `ttl`
//! without anyone's help. It is given back with a compare-and-delete script ([`RELEASE_SCRIPT`]):
//! a holder whose key already expired — and was perhaps taken by someone else — deletes nothing.
//!
//! Keys are taken one after another in the order given (callers sort them), retrying a busy key
//! with jittered backoff until the caller's total wait runs out. Every key taken so far is released
//! before `Timeout` or `Unavailable` is returned, and the [`LockGuard`] handed out releases on drop,
//! so a failure or a panic in the guarded work never leaves a key behind longer than it takes one
//! round trip to Redis.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::Pool;
use domain::lock::{LockError, LockGuard, LockKey, LockManager, Unreachable};
use redis::Script;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::held::{HeldLocks, Releaser, Unreleased};
use crate::pool::{self, build_pool};

/// Prefix of every lock key in Redis; the rest is the [`LockKey`] text.
pub const KEY_PREFIX: &str = "stockroom:lock:";

/// Deletes `KEYS[1]` only while it still holds the token `ARGV[1]`; returns 1 if it deleted.
pub const RELEASE_SCRIPT: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
else
    return 0
end
"#;

/// Tuning of [`RedisLock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisLockConfig {
    /// How long a key lives when its holder never releases it (it crashed or hung).
    pub ttl: Duration,
    /// Shortest pause between two attempts on a busy key.
    pub retry_min: Duration,
    /// Longest pause between two attempts on a busy key.
    pub retry_max: Duration,
    /// Longest a single Redis command (or getting a connection) may take before Redis is deemed
    /// unavailable.
    pub command_timeout: Duration,
}

impl Default for RedisLockConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(10),
            retry_min: Duration::from_millis(5),
            retry_max: Duration::from_millis(100),
            command_timeout: Duration::from_secs(1),
        }
    }
}

/// [`LockManager`] on Redis. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct RedisLock {
    pool: Pool,
    release_script: Arc<Script>,
    config: RedisLockConfig,
    unreleased: Unreleased,
}

impl std::fmt::Debug for RedisLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLock")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RedisLock {
    /// A lock on the Redis at `url` (e.g. `redis://127.0.0.1:6379`) with the default config.
    ///
    /// Connects lazily: this only checks the URL, so it succeeds while Redis is down. Use
    /// [`LockManager::ping`] to check that Redis answers.
    pub fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, RedisLockConfig::default())
    }

    /// Like [`RedisLock::connect`] with an explicit config.
    pub fn connect_with(url: &str, config: RedisLockConfig) -> anyhow::Result<Self> {
        Ok(Self {
            pool: build_pool(url, config.command_timeout)?,
            release_script: Arc::new(Script::new(RELEASE_SCRIPT)),
            config,
            unreleased: Unreleased::default(),
        })
    }

    /// The Redis key that stands for `key`.
    pub fn redis_key(key: &LockKey) -> String {
        format!("{KEY_PREFIX}{}", key.as_str())
    }

    /// One `SET NX PX` attempt: `Ok(true)` when the key is now ours. A failure says whether
    /// the command may have reached Redis (and so may have taken the key).
    async fn try_take(&self, redis_key: &str, token: &str) -> Result<bool, (Sent, LockError)> {
        let ttl_ms = u64::try_from(self.config.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let work = async {
            let mut conn = self
                .pool
                .get()
                .await
                .map_err(|e| (Sent::No, unavailable(e)))?;
            redis::cmd("SET")
                .arg(redis_key)
                .arg(token)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query_async::<Option<String>>(&mut conn)
                .await
                .map(|reply| reply.is_some())
                .map_err(|e| (Sent::Maybe, unavailable(e)))
        };
        tokio::time::timeout(self.config.command_timeout, work)
            .await
            .map_err(|_| {
                (
                    Sent::Maybe,
                    LockError::Unavailable("Redis did not answer in time".into()),
                )
            })?
    }

    fn releaser(&self) -> Releaser {
        Releaser::new(
            self.pool.clone(),
            self.release_script.clone(),
            self.config.command_timeout,
            self.config.ttl,
            self.unreleased.clone(),
        )
    }
}

/// Whether a failed command may have reached Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// No connection could be had: nothing was sent.
    No,
    /// Sent, or perhaps sent, with no answer.
    Maybe,
}

fn unavailable(error: impl std::fmt::Display) -> LockError {
    LockError::Unavailable(error.to_string())
}

/// A fresh, unguessable owner token for one acquisition of one key.
fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[async_trait]
impl LockManager for RedisLock {
    async fn acquire(&self, keys: &[LockKey], wait: Duration) -> Result<LockGuard, LockError> {
        let deadline = Instant::now() + wait;
        if !self.unreleased.is_empty() {
            // Keys an outage kept us from giving back may still block their variants (perhaps
            // the ones wanted now): give them back first. While Redis is still away this fails
            // at once and they stay listed.
            self.releaser().release_unreleased().await;
        }
        // Dropping `held` (also when this future is cancelled) releases what it lists, so a key
        // is listed *before* the attempt to take it: releasing a key we never got is harmless
        // because the script compares tokens.
        let mut held = HeldLocks::new(self.releaser());
        for key in keys {
            let redis_key = Self::redis_key(key);
            let token = new_token();
            let mut backoff = Backoff::new(self.config.retry_min, self.config.retry_max);
            loop {
                held.push(redis_key.clone(), token.clone());
                match self.try_take(&redis_key, &token).await {
                    Ok(true) => break,
                    Ok(false) => {
                        held.pop();
                        if !self.unreleased.is_empty() {
                            // The key may be one an outage kept us from giving back; while we
                            // wait for it, nobody else on this instance may come to free it.
                            self.releaser().release_unreleased().await;
                        }
                    }
                    Err((sent, error)) => {
                        if sent == Sent::No {
                            held.pop();
                        }
                        held.release_now().await;
                        return Err(error);
                    }
                }
                let now = Instant::now();
                if now >= deadline {
                    held.release_now().await;
                    return Err(LockError::Timeout);
                }
                tokio::time::sleep(backoff.next_wait().min(deadline - now)).await;
            }
        }
        Ok(LockGuard::new(held))
    }

    /// Succeeds when Redis answers a PING within the command timeout (readiness probe).
    async fn ping(&self) -> Result<(), Unreachable> {
        pool::ping(&self.pool, self.config.command_timeout).await
    }
}
