//! Builders for unit tests of the use cases over mocked ports.

use std::sync::Arc;

use chrono::{TimeZone, Utc};

use crate::auth::models::{Actor, Role};
use crate::auth::ports::{MockPasswordHasher, MockTenantRepository, MockUserRepository};
use crate::catalog::models::Variant;
use crate::catalog::ports::{MockProductRepository, MockVariantRepository};
use crate::clock::MockClock;
use crate::events::MockEventPublisher;
use crate::idempotency::MockIdempotencyRepository;
use crate::ids::{ProductId, TenantId, UserId, VariantId};
use crate::lock::MockLockManager;
use crate::orders::ports::MockOrderRepository;
use crate::purchasing::ports::{MockPurchaseOrderRepository, MockSupplierRepository};
use crate::reports::ports::MockReportRepository;
use crate::services::{Deps, Repositories, Services, Settings};
use crate::stock::ports::MockLedgerRepository;
use crate::values::{Attributes, Money, Sku, StockLevel};

/// Every port as a mock; set expectations on the ones a test cares about, then `build()`.
#[derive(Default)]
pub struct MockPorts {
    pub tenants: MockTenantRepository,
    pub users: MockUserRepository,
    pub products: MockProductRepository,
    pub variants: MockVariantRepository,
    pub ledger: MockLedgerRepository,
    pub orders: MockOrderRepository,
    pub suppliers: MockSupplierRepository,
    pub purchase_orders: MockPurchaseOrderRepository,
    pub idempotency: MockIdempotencyRepository,
    pub reports: MockReportRepository,
    pub lock: MockLockManager,
    pub events: MockEventPublisher,
    pub hasher: MockPasswordHasher,
}

impl MockPorts {
    pub fn build(self) -> Services {
        Services::new(self.deps())
    }

    /// The ports without the services, for tests of `Deps` itself.
    pub fn deps(self) -> Deps {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap());
        let repos = Repositories {
            tenants: Arc::new(self.tenants),
            users: Arc::new(self.users),
            products: Arc::new(self.products),
            variants: Arc::new(self.variants),
            ledger: Arc::new(self.ledger),
            orders: Arc::new(self.orders),
            suppliers: Arc::new(self.suppliers),
            purchase_orders: Arc::new(self.purchase_orders),
            idempotency: Arc::new(self.idempotency),
            reports: Arc::new(self.reports),
        };
        Deps::new(
            repos,
            Arc::new(self.lock),
            Arc::new(self.events),
            Arc::new(clock),
            Arc::new(self.hasher),
            Settings::default(),
        )
    }
}

pub fn actor(role: Role) -> Actor {
    Actor {
        tenant_id: TenantId::new(),
        user_id: UserId::new(),
        role,
    }
}

pub fn variant(tenant: TenantId, stock: i64, reorder_level: i64) -> Variant {
    let now = Utc::now();
    Variant {
        id: VariantId::new(),
        tenant_id: tenant,
        product_id: ProductId::new(),
        sku: Sku::new(&format!("SKU-{}", VariantId::new())).unwrap(),
        attributes: Attributes::default(),
        price: Money::new(1250).unwrap(),
        reorder_level: StockLevel::new(reorder_level).unwrap(),
        stock,
        incoming: 0,
        created_at: now,
        updated_at: now,
    }
}
