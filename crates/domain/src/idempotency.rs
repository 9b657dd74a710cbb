//! Idempotent writes: a retried request never writes twice.
//!
//! The record of a key (its request fingerprint and the response sent) is written by the store in
//! the *same transaction* as the write it guards, so a crash can never keep one without the other.
//! While a request runs, the key is held through the lock port, so a concurrent duplicate waits for
//! the first to finish and then replays its response; one that still finds the key busy after the
//! bounded wait is refused as in progress. If a lock ever lapsed, the unique (tenant, key) index
//! refuses the second write and its transaction rolls back.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::ids::TenantId;
use crate::values::ValueError;

/// How long a key is remembered.
pub const RETENTION_HOURS: i64 = 24;

/// A client-chosen key: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn new(raw: &str) -> Result<Self, ValueError> {
        if raw.is_empty() || raw.len() > 255 || !raw.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ValueError(
                "must be 1 to 255 visible ASCII characters".into(),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The response the API sent for a key, replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A stored key as read back from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub key: String,
    pub fingerprint: String,
    pub response: StoredResponse,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What a write port stores beside its write when the request carried a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyWrite {
    pub key: String,
    pub fingerprint: String,
    pub response: StoredResponse,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A request's key, with how to render the response the key will replay.
pub struct Idempotency<T> {
    pub key: IdempotencyKey,
    /// A digest of the request (method, path, body): the same key with another body is refused.
    pub fingerprint: String,
    pub render: Arc<dyn Fn(&T) -> StoredResponse + Send + Sync>,
}

impl<T> Clone for Idempotency<T> {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            fingerprint: self.fingerprint.clone(),
            render: self.render.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Idempotency<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// What an idempotent use case answers: a fresh result, or the stored response of a repeat.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    Fresh(T),
    Replayed(StoredResponse),
}

impl<T> Outcome<T> {
    /// The fresh value; panics on a replay (for tests and callers that passed no key).
    pub fn fresh(self) -> Option<T> {
        match self {
            Outcome::Fresh(t) => Some(t),
            Outcome::Replayed(_) => None,
        }
    }
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyRepository: Send + Sync {
    /// The unexpired record of `key` for `tenant` (expired records MUST NOT be returned).
    async fn find(
        &self,
        tenant: &TenantId,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
}
