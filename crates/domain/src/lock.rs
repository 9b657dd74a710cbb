//! The lock port: serialises writers of the same variants to cut contention.
//!
//! A lock is never the guard of correctness: the store's conditional write is. Use cases take the
//! keys of every level (variant × location) involved in ascending order, so two orders listing
//! the same SKUs in opposite orders cannot deadlock, and they wait a bounded time. Writers of one
//! variant at different locations do not wait for each other.
//!
//! [`Unreachable`] is what every port that talks to a server answers a readiness probe with when
//! that server does not answer (the lock here, the event fan-out in [`crate::events`]): it names
//! the service, so `/ready` can say what is down without knowing which adapter was wired.

use std::time::Duration;

use async_trait::async_trait;

use crate::ids::{TenantId, UserId};
use crate::stock::models::Level;

/// A lock name, namespaced by tenant. Ordering is by the text, which is what callers sort on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LockKey(String);

impl LockKey {
    /// The key of one level. Keys of a tenant sort by variant, then location, like [`Level`].
    pub fn level(tenant: &TenantId, level: &Level) -> Self {
        Self(format!(
            "{tenant}:{}:{}",
            level.variant_id, level.location_id
        ))
    }

    /// A user's idempotency key: colleagues sending the same key never wait on each other.
    pub fn idempotency(tenant: &TenantId, user: &UserId, key: &str) -> Self {
        Self(format!("{tenant}:idem:{user}:{key}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Holds acquired locks; dropping it releases them (also on errors and panics).
pub struct LockGuard {
    _held: Box<dyn Send + Sync>,
}

impl LockGuard {
    pub fn new(held: impl Send + Sync + 'static) -> Self {
        Self {
            _held: Box::new(held),
        }
    }

    /// A guard that holds nothing (for locks that do not lock, and tests).
    pub fn empty() -> Self {
        Self::new(())
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LockGuard")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("timed out waiting for a lock")]
    Timeout,
    #[error("lock service unavailable: {0}")]
    Unavailable(String),
}

/// A readiness probe's answer when the server behind a port does not answer.
///
/// Its text is `{service}: {reason}`, which `/ready` logs; callers of `/ready` see only
/// `{service} unreachable`. The reason must still carry no secrets (no URLs with passwords).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{service}: {reason}")]
pub struct Unreachable {
    /// What does not answer, in lower case (`redis`).
    pub service: &'static str,
    /// Why, for an operator.
    pub reason: String,
}

impl Unreachable {
    pub fn new(service: &'static str, reason: impl Into<String>) -> Self {
        Self {
            service,
            reason: reason.into(),
        }
    }
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LockManager: Send + Sync {
    /// Acquires every key, in the order given (callers pass them sorted and without duplicates),
    /// waiting at most `wait` in total.
    ///
    /// MUST return `Timeout` when `wait` elapses and `Unavailable` when the lock service cannot be
    /// reached; in both cases every key acquired so far MUST already be released.
    async fn acquire(&self, keys: &[LockKey], wait: Duration) -> Result<LockGuard, LockError>;

    /// `Ok` when the service the lock runs on answers (readiness probe). A lock that needs no
    /// server keeps this default.
    ///
    /// An adapter that talks to a server MUST override it, MUST answer within its own command
    /// timeout (never waiting for a key), and MUST name that server in the [`Unreachable`] it
    /// returns.
    async fn ping(&self) -> Result<(), Unreachable> {
        Ok(())
    }
}

/// A lock that locks nothing. Production never uses it; tests inject it to prove that the
/// store's conditional write alone refuses to oversell.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopLock;

#[async_trait]
impl LockManager for NoopLock {
    async fn acquire(&self, _keys: &[LockKey], _wait: Duration) -> Result<LockGuard, LockError> {
        Ok(LockGuard::empty())
    }
}
