//! The keys one acquisition holds, and their release.
//!
//! `Drop` cannot await, so dropping [`HeldLocks`] spawns the release on the runtime that took the
//! keys (captured at creation, so a guard dropped on another thread or during a panic's unwinding
//! still finds it). If that runtime is already gone the keys simply expire after their TTL.
//!
//! A release that cannot reach Redis (it is down, or the connection was cut) is not forgotten:
//! its keys wait in the releaser's [`Unreleased`] list, and the next acquisition that finds
//! Redis answering gives them back first. Without that, a key held when Redis went away would
//! block its variant for the rest of its TTL after Redis returned, although its holder finished
//! long ago.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_redis::Pool;
use redis::Script;
use tokio::runtime::Handle;
use tokio::time::Instant;

/// The most keys kept for a later release.
const MAX_UNRELEASED: usize = 1024;

/// Keys whose release failed, each with the moment after which it has expired on its own.
#[derive(Clone, Default)]
pub(crate) struct Unreleased(Arc<Mutex<Vec<(String, String, Instant)>>>);

impl Unreleased {
    fn add(&self, keys: Vec<(String, String)>, ttl: Duration) {
        let now = Instant::now();
        let until = now + ttl;
        let mut list = self.0.lock().expect("unreleased list");
        list.retain(|(_, _, until)| *until > now);
        list.extend(keys.into_iter().map(|(k, t)| (k, t, until)));
        // A long outage must not grow this without bound: the oldest go first, and at worst
        // they expire on their own.
        let excess = list.len().saturating_sub(MAX_UNRELEASED);
        list.drain(..excess);
    }

    /// Takes the keys that may still be alive in Redis; forgets the expired ones.
    fn take_live(&self) -> Vec<(String, String)> {
        let mut list = self.0.lock().expect("unreleased list");
        let now = Instant::now();
        list.drain(..)
            .filter(|(_, _, until)| *until > now)
            .map(|(k, t, _)| (k, t))
            .collect()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.lock().expect("unreleased list").is_empty()
    }
}

/// What is needed to give keys back.
#[derive(Clone)]
pub(crate) struct Releaser {
    pool: Pool,
    script: Arc<Script>,
    timeout: Duration,
    ttl: Duration,
    unreleased: Unreleased,
}

impl Releaser {
    pub(crate) fn new(
        pool: Pool,
        script: Arc<Script>,
        timeout: Duration,
        ttl: Duration,
        unreleased: Unreleased,
    ) -> Self {
        Self {
            pool,
            script,
            timeout,
            ttl,
            unreleased,
        }
    }

    /// Releases `keys` (pairs of Redis key and token), last taken first, within one timeout.
    /// What cannot be released is kept for [`Releaser::release_unreleased`].
    async fn release(&self, keys: Vec<(String, String)>) {
        let mut left = keys;
        let work = async {
            let mut conn = match self.pool.get().await {
                Ok(conn) => conn,
                Err(error) => {
                    tracing::warn!(%error, count = left.len(), "cannot release locks yet");
                    return;
                }
            };
            while let Some((key, token)) = left.last() {
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
                        tracing::warn!(%error, key, "cannot release lock yet");
                        return;
                    }
                }
                left.pop();
            }
        };
        if tokio::time::timeout(self.timeout, work).await.is_err() {
            tracing::warn!("releasing locks timed out");
        }
        if !left.is_empty() {
            self.unreleased.add(left, self.ttl);
        }
    }

    /// Gives back the keys earlier releases could not, while they may still be alive.
    pub(crate) async fn release_unreleased(&self) {
        let keys = self.unreleased.take_live();
        if !keys.is_empty() {
            tracing::info!(
                count = keys.len(),
                "releasing locks left over from a Redis outage"
            );
            self.release(keys).await;
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
