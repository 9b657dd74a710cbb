//! Wiring of the use cases: the ports they share, their settings, and the idempotency wrapper
//! every creating or changing use case runs inside.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::auth::ports::{PasswordHasher, TenantRepository, UserRepository};
use crate::auth::service::AuthService;
use crate::catalog::ports::{ProductRepository, VariantRepository};
use crate::catalog::service::CatalogService;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::events::{DomainEvent, EventPublisher};
use crate::idempotency::{
    Idempotency, IdempotencyRepository, IdempotencyWrite, Outcome, RETENTION_HOURS,
};
use crate::ids::TenantId;
use crate::lock::{LockError, LockKey, LockManager};
use crate::orders::ports::OrderRepository;
use crate::orders::service::OrderService;
use crate::purchasing::ports::{PurchaseOrderRepository, SupplierRepository};
use crate::purchasing::service::PurchasingService;
use crate::reports::ports::ReportRepository;
use crate::reports::service::ReportService;
use crate::stock::combine::Combiner;
use crate::stock::models::{Committed, LedgerIdempotency};
use crate::stock::ports::LedgerRepository;
use crate::stock::service::StockService;

/// Tunables of the use cases.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Longest wait for the locks of the variants a write touches; beyond it the write is
    /// refused as retryable.
    pub lock_wait: Duration,
    /// Longest wait for a concurrent request with the same `Idempotency-Key` to finish.
    pub idempotency_wait: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            lock_wait: Duration::from_secs(5),
            idempotency_wait: Duration::from_secs(10),
        }
    }
}

/// Every repository port, usually all served by one storage adapter.
#[derive(Clone)]
pub struct Repositories {
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub products: Arc<dyn ProductRepository>,
    pub variants: Arc<dyn VariantRepository>,
    pub ledger: Arc<dyn LedgerRepository>,
    pub orders: Arc<dyn OrderRepository>,
    pub suppliers: Arc<dyn SupplierRepository>,
    pub purchase_orders: Arc<dyn PurchaseOrderRepository>,
    pub idempotency: Arc<dyn IdempotencyRepository>,
    pub reports: Arc<dyn ReportRepository>,
}

/// A storage adapter that implements every repository port.
pub trait AllRepositories:
    TenantRepository
    + UserRepository
    + ProductRepository
    + VariantRepository
    + LedgerRepository
    + OrderRepository
    + SupplierRepository
    + PurchaseOrderRepository
    + IdempotencyRepository
    + ReportRepository
    + 'static
{
}

impl<T> AllRepositories for T where
    T: TenantRepository
        + UserRepository
        + ProductRepository
        + VariantRepository
        + LedgerRepository
        + OrderRepository
        + SupplierRepository
        + PurchaseOrderRepository
        + IdempotencyRepository
        + ReportRepository
        + 'static
{
}

impl Repositories {
    /// Every port served by one adapter.
    pub fn of<S: AllRepositories>(store: S) -> Self {
        let s = Arc::new(store);
        Self {
            tenants: s.clone(),
            users: s.clone(),
            products: s.clone(),
            variants: s.clone(),
            ledger: s.clone(),
            orders: s.clone(),
            suppliers: s.clone(),
            purchase_orders: s.clone(),
            idempotency: s.clone(),
            reports: s,
        }
    }
}

/// The ports every service may use. The repositories are reached through `Deref`
/// (`deps.ledger`, `deps.variants`, …).
#[derive(Clone)]
pub struct Deps {
    pub repos: Repositories,
    pub lock: Arc<dyn LockManager>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub settings: Settings,
    /// Stock writes waiting for the same locks, committed together.
    pub(crate) combiner: Arc<Combiner>,
}

impl Deps {
    pub fn new(
        repos: Repositories,
        lock: Arc<dyn LockManager>,
        events: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        hasher: Arc<dyn PasswordHasher>,
        settings: Settings,
    ) -> Self {
        Self {
            repos,
            lock,
            events,
            clock,
            hasher,
            settings,
            combiner: Arc::default(),
        }
    }
}

impl std::ops::Deref for Deps {
    type Target = Repositories;

    fn deref(&self) -> &Repositories {
        &self.repos
    }
}

/// All use cases, ready to be shared by the inbound adapters.
#[derive(Clone)]
pub struct Services {
    pub auth: AuthService,
    pub catalog: CatalogService,
    pub stock: StockService,
    pub orders: OrderService,
    pub purchasing: PurchasingService,
    pub reports: ReportService,
    pub deps: Arc<Deps>,
}

impl Services {
    pub fn new(deps: Deps) -> Self {
        let deps = Arc::new(deps);
        let purchasing = PurchasingService::new(deps.clone());
        Self {
            reports: ReportService::new(deps.clone(), purchasing.clone()),
            auth: AuthService::new(deps.clone()),
            catalog: CatalogService::new(deps.clone()),
            stock: StockService::new(deps.clone()),
            orders: OrderService::new(deps.clone()),
            purchasing,
            deps,
        }
    }
}

/// Handed to an idempotent use case's write: builds the record stored with it.
pub struct IdemScope<T> {
    idem: Idempotency<T>,
    now: DateTime<Utc>,
}

impl<T: 'static> IdemScope<T> {
    /// The record to store beside a write whose result `value` is known before writing.
    pub fn record(&self, value: &T) -> IdempotencyWrite {
        IdempotencyWrite {
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
            key: self.idem.key.as_str().to_owned(),
            fingerprint: self.idem.fingerprint.clone(),
            created_at: self.now,
            expires_at: self.now + chrono::Duration::hours(RETENTION_HOURS),
            render: Arc::new(move |committed| render(&to_value(committed))),
        }
    }
}

impl Deps {
    /// Runs `write` at most once per idempotency key (see [`crate::idempotency`]).
    pub async fn idempotent<T, F, Fut>(
        &self,
        tenant: &TenantId,
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
        let key = LockKey::idempotency(tenant, idem.key.as_str());
        let _held = match self
            .lock
            .acquire(std::slice::from_ref(&key), self.settings.idempotency_wait)
            .await
        {
            Ok(guard) => guard,
            Err(LockError::Timeout) => return Err(DomainError::IdempotencyInProgress),
            Err(LockError::Unavailable(m)) => return Err(DomainError::Unavailable(m)),
        };
        if let Some(replay) = self.replay(tenant, &idem).await? {
            return Ok(replay);
        }
        let fingerprint = idem.fingerprint.clone();
        let scope = IdemScope {
            idem: idem.clone(),
            now: self.clock.now(),
        };
        match write(Some(scope)).await {
            Ok(value) => Ok(Outcome::Fresh(value)),
            // The lock lapsed and another request stored the key first: answer as it did.
            Err(DomainError::IdempotencyInProgress) => match self.replay(tenant, &idem).await? {
                Some(replay) => Ok(replay),
                None => Err(DomainError::IdempotencyInProgress),
            },
            Err(e) => {
                tracing::debug!(%fingerprint, error = %e, "idempotent write refused; key not stored");
                Err(e)
            }
        }
    }

    async fn replay<T>(
        &self,
        tenant: &TenantId,
        idem: &Idempotency<T>,
    ) -> Result<Option<Outcome<T>>, DomainError> {
        let now = self.clock.now();
        match self
            .idempotency
            .find(tenant, idem.key.as_str(), now)
            .await?
        {
            Some(record) if record.fingerprint == idem.fingerprint => {
                Ok(Some(Outcome::Replayed(record.response)))
            }
            Some(_) => Err(DomainError::IdempotencyMismatch),
            None => Ok(None),
        }
    }

    /// Publishes committed events; publishing never fails a use case.
    pub async fn publish(&self, events: Vec<DomainEvent>) {
        if !events.is_empty() {
            self.events.publish(events).await;
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
            .returning(|_, _, _| Ok(Some(record("same"))));
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
            .returning(|_, _, _| Ok(Some(record("other"))));
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
            .returning(|_, _, _| Ok(None));
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
