//! Wiring of the use cases: the ports they share, their settings, and the two paths every
//! write takes — the idempotency protocol ([`crate::idempotency`]) and the lock-and-commit path
//! of stock writes ([`crate::stock::writer`]).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::models::Actor;
use crate::auth::ports::{PasswordHasher, TenantRepository, UserRepository};
use crate::auth::service::AuthService;
use crate::catalog::models::Variant;
use crate::catalog::ports::{ProductRepository, VariantRepository};
use crate::catalog::service::CatalogService;
use crate::clock::Clock;
use crate::error::{DomainError, FieldErrors, StoreError};
use crate::events::{DomainEvent, EventPublisher};
use crate::idempotency::{
    IdemScope, Idempotency, IdempotencyProtocol, IdempotencyRepository, Outcome,
};
use crate::ids::{TenantId, VariantId};
use crate::locations::cache::LocationCache;
use crate::locations::ports::LocationRepository;
use crate::locations::service::LocationService;
use crate::lock::LockManager;
use crate::orders::ports::OrderRepository;
use crate::orders::service::OrderService;
use crate::purchasing::ports::{PurchaseOrderRepository, SupplierRepository};
use crate::purchasing::service::PurchasingService;
use crate::reports::ports::ReportRepository;
use crate::reports::service::ReportService;
use crate::reservations::ports::ReservationRepository;
use crate::reservations::service::ReservationService;
use crate::stock::models::{Committed, DocumentWrite, LedgerError, LedgerWrite, StockChange};
use crate::stock::ports::LedgerRepository;
use crate::stock::reserve::ledger_error;
use crate::stock::service::StockService;
use crate::stock::writer::StockWriter;
use crate::transfers::ports::TransferRepository;
use crate::transfers::service::TransferService;

/// Tunables of the use cases.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Longest wait for the locks of the variants a write touches; beyond it the write is
    /// refused as retryable.
    pub lock_wait: Duration,
    /// Longest wait for a concurrent request with the same `Idempotency-Key` to finish.
    pub idempotency_wait: Duration,
    /// How old the locations an order's allocation draws on may be (see
    /// [`crate::locations::cache`]).
    pub location_cache_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            lock_wait: Duration::from_secs(5),
            idempotency_wait: Duration::from_secs(10),
            location_cache_ttl: Duration::from_secs(1),
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
    pub locations: Arc<dyn LocationRepository>,
    pub transfers: Arc<dyn TransferRepository>,
    pub reservations: Arc<dyn ReservationRepository>,
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
    + LocationRepository
    + TransferRepository
    + ReservationRepository
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
        + LocationRepository
        + TransferRepository
        + ReservationRepository
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
            reports: s.clone(),
            locations: s.clone(),
            transfers: s.clone(),
            reservations: s,
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
    /// The lock-and-commit path of stock writes.
    pub(crate) writer: StockWriter,
    /// The idempotency protocol every creating or changing use case runs inside.
    pub(crate) keys: IdempotencyProtocol,
    /// The tenants' locations as allocations read them.
    pub(crate) location_cache: Arc<LocationCache>,
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
        let writer = StockWriter::new(
            repos.ledger.clone(),
            lock.clone(),
            events.clone(),
            settings.lock_wait,
        );
        let keys = IdempotencyProtocol::new(
            repos.idempotency.clone(),
            lock.clone(),
            clock.clone(),
            settings.idempotency_wait,
        );
        Self {
            location_cache: Arc::new(LocationCache::new(settings.location_cache_ttl)),
            repos,
            lock,
            events,
            clock,
            hasher,
            settings,
            writer,
            keys,
        }
    }

    /// Runs `write` at most once per idempotency key (see [`crate::idempotency`]).
    pub async fn idempotent<T, F, Fut>(
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
        self.keys.run(actor, idem, write).await
    }

    /// Applies a ledger write under its variants' locks and publishes its stock events (see
    /// [`StockWriter::commit`]).
    pub async fn commit_stock(
        &self,
        tenant: &TenantId,
        write: LedgerWrite,
    ) -> Result<Result<Committed, LedgerError>, DomainError> {
        self.writer.commit(tenant, write).await
    }

    /// Writes the next version of an aggregate with the stock changes its transition moves, in
    /// one ledger write guarded by the version read (`expected` in `document`): a lost race is
    /// `VersionConflict` naming `entity` and `id`. Returns `next`.
    pub(crate) async fn commit_transition<T: Clone + Send + Sync + 'static>(
        &self,
        tenant: &TenantId,
        changes: Vec<StockChange>,
        document: DocumentWrite,
        next: T,
        scope: Option<IdemScope<T>>,
        (entity, id): (&'static str, String),
    ) -> Result<T, DomainError> {
        let written = next.clone();
        let write = LedgerWrite {
            changes,
            document,
            idempotency: scope.map(|s| s.ledger(move |_| written.clone())),
        };
        match self.commit_stock(tenant, write).await? {
            Ok(_) => Ok(next),
            Err(LedgerError::Store(StoreError::VersionConflict)) => {
                Err(DomainError::VersionConflict { entity, id })
            }
            Err(e) => Err(ledger_error(e)),
        }
    }

    /// The variants among `ids` that exist in `tenant`, by id: the reading every write that
    /// judges stock before committing starts from.
    pub(crate) async fn variants_by_id(
        &self,
        tenant: &TenantId,
        ids: &[VariantId],
    ) -> Result<HashMap<VariantId, Variant>, DomainError> {
        Ok(self
            .variants
            .get_many(tenant, ids)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect())
    }

    /// Records in `errors` every line of a request naming a variant the tenant does not have
    /// (`lines[i].variantId`) or one named before, and `lines` when there is none.
    pub(crate) async fn check_variant_lines(
        &self,
        tenant: &TenantId,
        variants: &[VariantId],
        errors: &mut FieldErrors,
    ) -> Result<(), DomainError> {
        if variants.is_empty() {
            errors.add("lines", "must have at least one line");
        }
        let known: HashSet<VariantId> = self
            .variants
            .get_many(tenant, variants)
            .await?
            .into_iter()
            .map(|v| v.id)
            .collect();
        let mut seen = HashSet::new();
        for (i, variant) in variants.iter().enumerate() {
            if !known.contains(variant) {
                errors.add(format!("lines[{i}].variantId"), "no such variant");
            } else if !seen.insert(*variant) {
                errors.add(format!("lines[{i}].variantId"), "is listed twice");
            }
        }
        Ok(())
    }

    /// Publishes committed events; publishing never fails a use case.
    pub async fn publish(&self, events: Vec<DomainEvent>) {
        if !events.is_empty() {
            self.events.publish(events).await;
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
    pub locations: LocationService,
    pub transfers: TransferService,
    pub reservations: ReservationService,
    pub deps: Arc<Deps>,
}

impl Services {
    pub fn new(deps: Deps) -> Self {
        let deps = Arc::new(deps);
        Self {
            reports: ReportService::new(deps.clone()),
            purchasing: PurchasingService::new(deps.clone()),
            auth: AuthService::new(deps.clone()),
            catalog: CatalogService::new(deps.clone()),
            stock: StockService::new(deps.clone()),
            orders: OrderService::new(deps.clone()),
            locations: LocationService::new(deps.clone()),
            transfers: TransferService::new(deps.clone()),
            reservations: ReservationService::new(deps.clone()),
            deps,
        }
    }
}
