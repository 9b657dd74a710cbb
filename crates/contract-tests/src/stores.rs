//! The set of repository ports a contract case runs against.

use std::sync::Arc;

use domain::auth::ports::{TenantRepository, UserRepository};
use domain::catalog::ports::{ProductRepository, VariantRepository};
use domain::idempotency::IdempotencyRepository;
use domain::orders::ports::OrderRepository;
use domain::purchasing::ports::{PurchaseOrderRepository, SupplierRepository};
use domain::reports::ports::ReportRepository;
use domain::stock::ports::LedgerRepository;

/// Every repository port of one adapter, over one fresh, empty store. Field names match
/// `domain::Deps`. Build it with [`Stores::of`] when one type implements every port, or as a
/// struct literal when the ports are served by different values.
#[derive(Clone)]
pub struct Stores {
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
    /// Resources that must live as long as the store (a temporary folder, a test database);
    /// dropped when the case ends. Usually filled through [`Stores::holding`].
    pub keep_alive: Vec<Arc<dyn Send + Sync>>,
}

/// An adapter type that implements every repository port.
pub trait AllPorts:
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
    + Clone
    + 'static
{
}

impl<T> AllPorts for T where
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
        + Clone
        + 'static
{
}

impl Stores {
    /// Every port served by clones of one adapter value.
    pub fn of<S: AllPorts>(store: S) -> Self {
        Self {
            tenants: Arc::new(store.clone()),
            users: Arc::new(store.clone()),
            products: Arc::new(store.clone()),
            variants: Arc::new(store.clone()),
            ledger: Arc::new(store.clone()),
            orders: Arc::new(store.clone()),
            suppliers: Arc::new(store.clone()),
            purchase_orders: Arc::new(store.clone()),
            idempotency: Arc::new(store.clone()),
            reports: Arc::new(store),
            keep_alive: Vec::new(),
        }
    }

    /// Keeps `resource` alive until the case that received these stores ends.
    pub fn holding(mut self, resource: impl Send + Sync + 'static) -> Self {
        self.keep_alive.push(Arc::new(resource));
        self
    }
}
