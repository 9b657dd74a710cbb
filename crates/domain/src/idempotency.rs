//! Idempotent writes: a retried request never writes twice.
//!
//! The record of a key (its request fingerprint and the response sent) is written by the store in
//! the *same transaction* as the write it guards, so a crash can never keep one without the other.
//! While a request runs, the key is held through the lock port, so a concurrent duplicate waits for
//! the first to finish and then replays its response; one that still finds the key busy after the
//! bounded wait is refused as in progress. If a lock ever lapsed, the unique (tenant, user, key)
//! index refuses the second write and its transaction rolls back.
//!
//! A key belongs to the user who sent it, not to the whole tenant: two colleagues who happen to
//! pick the same key (or one who learns the other's) each get their own request executed, never
//! the other's stored answer. The record, its unique index, the lock and every lookup are scoped
//! by (tenant, user, key).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::auth::models::Actor;
use crate::clock::Clock;
use crate::error::{DomainError, StoreError};
use crate::ids::{TenantId, UserId};
use crate::lock::{LockError, LockKey, LockManager};
use crate::stock::models::{Committed, LedgerIdempotency};
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
    /// Who sent the key: only that user's repeats replay it.
    pub user_id: UserId,
    pub key: String,
    pub fingerprint: String,
    pub response: StoredResponse,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What a write port stores beside its write when the request carried a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyWrite {
    /// Who sent the key; the record is unique per (tenant, user, key).
    pub user_id: UserId,
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
    /// The fresh value; `None` for a replay (for tests and callers that passed no key).
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
    /// The unexpired record of `key` sent by `user` of `tenant` (expired records and another
    /// user's record of the same key MUST NOT be returned).
    async fn find(
        &self,
        tenant: &TenantId,
        user: &UserId,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
}

/// Handed to an idempotent use case's write: builds the record stored with it.
pub struct IdemScope<T> {
    idem: Idempotency<T>,
    user: UserId,
    now: DateTime<Utc>,
}

impl<T: 'static> IdemScope<T> {
    /// The record to store beside a write whose result `value` is known before writing.
    pub fn record(&self, value: &T) -> IdempotencyWrite {
        IdempotencyWrite {
            user_id: self.user,
            key: self.idem.key.as_str().to_owned(),
            fingerprint: self.idem.fingerprint.clone(),
            response: (self.idem.render)(value),
            created_at: self.now,
            expires_at: self.now + chrono::Duration::hours(RETENTION_HOURS),
        }
    }

    /// The record for a ledger write, whose result is known only once committed.
    pub fn ledger(
        &self,
        to_value: impl Fn(&Committed) -> T + Send + Sync + 'static,
    ) -> LedgerIdempotency {
        let render = self.idem.render.clone();
        LedgerIdempotency {
            user_id: self.user,
            key: self.idem.key.as_str().to_owned(),
            fingerprint: self.idem.fingerprint.clone(),
            created_at: self.now,
            expires_at: self.now + chrono::Duration::hours(RETENTION_HOURS),
            render: Arc::new(move |committed| render(&to_value(committed))),
        }
    }
}

/// Runs a write at most once per idempotency key: the protocol this module describes.
#[derive(Clone)]
pub struct IdempotencyProtocol {
    records: Arc<dyn IdempotencyRepository>,
    lock: Arc<dyn LockManager>,
    clock: Arc<dyn Clock>,
    /// Longest wait for a concurrent request with the same key to finish.
    wait: Duration,
}

impl IdempotencyProtocol {
    pub fn new(
        records: Arc<dyn IdempotencyRepository>,
        lock: Arc<dyn LockManager>,
        clock: Arc<dyn Clock>,
        wait: Duration,
    ) -> Self {
        Self {
            records,
            lock,
            clock,
            wait,
        }
    }

    /// Runs `write` at most once per key: without a key it simply runs; with one, under the
    /// key's lock, a stored response of the same request is replayed, one of another request is
    /// refused, and otherwise `write` runs with the [`IdemScope`] that builds the record it
    /// stores in its own transaction. Keys are the `actor`'s own (tenant and user).
    pub async fn run<T, F, Fut>(
        &self,
        actor: &Actor,
        idem: Option<Idempotency<T>>,
        write: F,
    ) -> Result<Outcome<T>, DomainError>
    where
        T: 'static,
        F: FnOnce(Option<IdemScope<T>>) -> Fut,
        Fut: Future<Output = Result<T, DomainError>>,
    {
        let Some(idem) = idem else {
            return write(None).await.map(Outcome::Fresh);
        };
        let (tenant, user) = (&actor.tenant_id, &actor.user_id);
        let key = LockKey::idempotency(tenant, user, idem.key.as_str());
        let _held = match self
            .lock
            .acquire(std::slice::from_ref(&key), self.wait)
            .await
        {
            Ok(guard) => guard,
            Err(LockError::Timeout) => return Err(DomainError::IdempotencyInProgress),
            Err(LockError::Unavailable(m)) => return Err(DomainError::Unavailable(m)),
        };
        if let Some(replay) = self.replay(tenant, user, &idem).await? {
            return Ok(replay);
        }
        let fingerprint = idem.fingerprint.clone();
        let scope = IdemScope {
            idem: idem.clone(),
            user: *user,
            now: self.clock.now(),
        };
        match write(Some(scope)).await {
            Ok(value) => Ok(Outcome::Fresh(value)),
            // The lock lapsed and another request stored the key first: answer as it did.
            Err(DomainError::IdempotencyInProgress) => {
                match self.replay(tenant, user, &idem).await? {
                    Some(replay) => Ok(replay),
                    None => Err(DomainError::IdempotencyInProgress),
                }
            }
            Err(e) => {
                tracing::debug!(%fingerprint, error = %e, "idempotent write refused; key not stored");
                Err(e)
            }
        }
    }

    async fn replay<T>(
        &self,
        tenant: &TenantId,
        user: &UserId,
        idem: &Idempotency<T>,
    ) -> Result<Option<Outcome<T>>, DomainError> {
        let now = self.clock.now();
        match self
            .records
            .find(tenant, user, idem.key.as_str(), now)
            .await?
        {
            Some(record) if record.fingerprint == idem.fingerprint => {
                Ok(Some(Outcome::Replayed(record.response)))
            }
            Some(_) => Err(DomainError::IdempotencyMismatch),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;

    use crate::auth::models::Role;
    use crate::error::DomainError;
    use crate::idempotency::{
        Idempotency, IdempotencyKey, IdempotencyRecord, Outcome, StoredResponse,
    };
    use crate::lock::{LockError, LockGuard};
    use crate::testing::{actor, MockPorts};
    use crate::values::Text;

    fn key(fingerprint: &str) -> Idempotency<crate::catalog::models::Product> {
        Idempotency {
            key: IdempotencyKey::new("retry-1").unwrap(),
            fingerprint: fingerprint.to_owned(),
            render: Arc::new(|p| StoredResponse {
                status: 201,
                body: p.name.as_str().as_bytes().to_vec(),
            }),
        }
    }

    fn record(fingerprint: &str) -> IdempotencyRecord {
        IdempotencyRecord {
            user_id: crate::ids::UserId::new(),
            key: "retry-1".into(),
            fingerprint: fingerprint.into(),
            response: StoredResponse {
                status: 201,
                body: b"first".to_vec(),
            },
            created_at: Utc::now(),
            expires_at: Utc::now(),
        }
    }

    fn new_product() -> crate::catalog::models::NewProduct {
        crate::catalog::models::NewProduct {
            name: Text::name("Mug").unwrap(),
            description: None,
        }
    }

    #[tokio::test]
    async fn a_stored_key_replays_its_response_without_writing() {
        let mut ports = MockPorts::default();
        ports
            .lock
            .expect_acquire()
            .returning(|_, _| Ok(LockGuard::empty()));
        ports
            .idempotency
            .expect_find()
            .returning(|_, _, _, _| Ok(Some(record("same"))));
        ports.products.expect_insert().never();
        let services = ports.build();
        let out = services
            .catalog
            .create_product(&actor(Role::Owner), new_product(), Some(key("same")))
            .await
            .unwrap();
        assert_eq!(
            out,
            Outcome::Replayed(StoredResponse {
                status: 201,
                body: b"first".to_vec()
            })
        );
    }

    #[tokio::test]
    async fn a_key_reused_with_another_request_is_refused() {
        let mut ports = MockPorts::default();
        ports
            .lock
            .expect_acquire()
            .returning(|_, _| Ok(LockGuard::empty()));
        ports
            .idempotency
            .expect_find()
            .returning(|_, _, _, _| Ok(Some(record("other"))));
        ports.products.expect_insert().never();
        let services = ports.build();
        let err = services
            .catalog
            .create_product(&actor(Role::Owner), new_product(), Some(key("mine")))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::IdempotencyMismatch));
    }

    #[tokio::test]
    async fn a_key_still_held_by_a_running_request_is_in_progress() {
        let mut ports = MockPorts::default();
        ports
            .lock
            .expect_acquire()
            .returning(|_, _| Err(LockError::Timeout));
        ports.idempotency.expect_find().never();
        ports.products.expect_insert().never();
        let services = ports.build();
        let err = services
            .catalog
            .create_product(&actor(Role::Owner), new_product(), Some(key("mine")))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::IdempotencyInProgress));
    }

    #[tokio::test]
    async fn a_fresh_key_is_stored_with_the_write_it_guards() {
        let mut ports = MockPorts::default();
        ports
            .lock
            .expect_acquire()
            .returning(|_, _| Ok(LockGuard::empty()));
        ports
            .idempotency
            .expect_find()
            .returning(|_, _, _, _| Ok(None));
        ports
            .products
            .expect_insert()
            .withf(|_, product, record| {
                record.as_ref().is_some_and(|r| {
                    r.key == "retry-1"
                        && r.fingerprint == "mine"
                        && r.response.body == product.name.as_str().as_bytes()
                })
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let services = ports.build();
        let out = services
            .catalog
            .create_product(&actor(Role::Owner), new_product(), Some(key("mine")))
            .await
            .unwrap();
        assert!(matches!(out, Outcome::Fresh(p) if p.name.as_str() == "Mug"));
    }
}
