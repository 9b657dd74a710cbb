//! Picks the storage adapter named by `STOCKROOM_DATABASE_URL` and hands out its ports.

use std::sync::Arc;

use anyhow::Context;

use domain::auth::ports::{TenantRepository, UserRepository};
use domain::catalog::ports::{ProductRepository, VariantRepository};
use domain::idempotency::IdempotencyRepository;
use domain::orders::ports::OrderRepository;
use domain::purchasing::ports::{PurchaseOrderRepository, SupplierRepository};
use domain::reports::ports::ReportRepository;
use domain::stock::ports::LedgerRepository;

use crate::config::DatabaseUrl;

/// Every repository port, backed by one store.
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
}

impl Stores {
    /// The same adapter behind every port.
    fn of<S>(store: S) -> Self
    where
        S: TenantRepository
            + UserRepository
            + ProductRepository
            + VariantRepository
            + LedgerRepository
            + OrderRepository
            + SupplierRepository
            + PurchaseOrderRepository
            + IdempotencyRepository
            + ReportRepository
            + 'static,
    {
        let s = Arc::new(store);
        Stores {
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

    pub async fn open(url: &DatabaseUrl) -> anyhow::Result<Self> {
        match url {
            DatabaseUrl::Sqlite(url) => {
                let store = infra_sqlite::SqliteStore::open(url)
                    .await
                    .with_context(|| format!("cannot open the SQLite store {url}"))?;
                Ok(Self::of(store))
            }
            DatabaseUrl::Mongo(url) => {
                let store = infra_mongo::MongoStore::connect(url)
                    .await
                    .context("STOCKROOM_DATABASE_URL")?;
                Ok(Self::of(store))
            }
        }
    }
}
