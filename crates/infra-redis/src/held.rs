//! The keys one acquisition holds, and their release.
//!
//! `Drop` cannot await, so dropping [`HeldLocks`] spawns the release on the runtime that took the
//! keys (captured at creation, so a guard dropped on another thread or during a panic's unwinding
//! still finds it). If that runtime is already gone the keys simply expire after their TTL.

use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::Pool;
use redis::Script;
use tokio::runtime::Handle;

/// What is needed to give keys back.
#[derive(Clone)]
pub(crate) struct Releaser {
    pool: Pool,
    script: Arc<Script>,
    timeout: Duration,
}

impl Releaser {
    pub(crate) fn new(pool: Pool, script: Arc<Script>, timeout: Duration) -> Self {
        Self {
            pool,
            script,
            timeout,
        }
    }

    /// Releases `keys` (pairs of Redis key and token), last taken first, within one timeout.
    async fn release(&self, keys: Vec<(String, String)>) {
        let work = async {
            let mut conn = match self.pool.get().await {
                Ok(conn) => conn,
                Err(error) => {
                    tracing::warn!(%error, count = keys.len(), "cannot release locks; they will expire");
                    return;
                }
            };
            for (key, token) in keys.iter().rev() {
                let deleted = self
                    .script
                    .key(key)
                    .arg(token)
                    .invoke_async::<i64>(&mut conn)
                    .await;
                match deleted {
                    Ok(1) => {}
                    Ok(_) => tracing::debug!(key, "lock was no longer ours when released"),
                    Err(error) => {
                        tracing::warn!(%error, key, "cannot release lock; it will expire")
                    }
                }
            }
        };
        if tokio::time::timeout(self.timeout, work).await.is_err() {
            tracing::warn!("releasing locks timed out; they will expire");
        }
    }
}

/// Keys taken (or being taken) by one acquisition; released when dropped.
pub(crate) struct HeldLocks {
    releaser: Releaser,
    runtime: Option<Handle>,
    keys: Vec<(String, String)>,
}

impl HeldLocks {
    pub(crate) fn new(releaser: Releaser) -> Self {
        Self {
            releaser,
            runtime: Handle::try_current().ok(),
            keys: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, key: String, token: String) {
        self.keys.push((key, token));
    }

    pub(crate) fn pop(&mut self) {
        self.keys.pop();
    }

    /// Releases everything now and waits for it (the acquisition failed).
    pub(crate) async fn release_now(&mut self) {
        let keys = std::mem::take(&mut self.keys);
        if !keys.is_empty() {
            self.releaser.release(keys).await;
        }
    }
}

impl Drop for HeldLocks {
    fn drop(&mut self) {
        let keys = std::mem::take(&mut self.keys);
        if keys.is_empty() {
            return;
        }
        match &self.runtime {
            Some(runtime) => {
                let releaser = self.releaser.clone();
                runtime.spawn(async move { releaser.release(keys).await });
            }
            None => tracing::warn!(
                count = keys.len(),
                "no runtime to release locks; they will expire"
            ),
        }
    }
}
