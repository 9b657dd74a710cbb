//! Builders for unit tests of the use cases over mocked ports.

use std::sync::Arc;

use chrono::{TimeZone, Utc};

use crate::auth::models::{Actor, Role};
use crate::auth::ports::{MockPasswordHasher, MockTenantRepository, MockUserRepository};
use crate::catalog::models::Variant;
use crate::catalog::models::VariantLevel;
use crate::catalog::ports::{MockProductRepository, MockVariantRepository};
use crate::clock::{Clock, MockClock};
use crate::events::MockEventPublisher;
use crate::idempotency::MockIdempotencyRepository;
use crate::ids::{LocationId, ProductId, TenantId, UserId, VariantId};
use crate::locations::models::Location;
use crate::locations::ports::MockLocationRepository;
use crate::lock::{LockManager, MockLockManager};
use crate::orders::ports::MockOrderRepository;
use crate::purchasing::ports::{MockPurchaseOrderRepository, MockSupplierRepository};
use crate::reports::ports::MockReportRepository;
use crate::reservations::ports::MockReservationRepository;
use crate::services::{Deps, Repositories, Services, Settings};
use crate::stock::ports::MockLedgerRepository;
use crate::stock::state::{Claims, StockState};
use crate::transfers::ports::MockTransferRepository;
use crate::values::{Attributes, LocationCode, LocationPriority, Money, Sku, StockLevel, Text};

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
    pub locations: MockLocationRepository,
    pub transfers: MockTransferRepository,
    pub reservations: MockReservationRepository,
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
        self.deps_with(Arc::new(clock), None)
    }

    /// The ports with `clock`, and `lock` instead of the mock lock when given. Everything built
    /// from the ports (the stock writer, the idempotency protocol) uses the same ones.
    pub fn deps_with(self, clock: Arc<dyn Clock>, lock: Option<Arc<dyn LockManager>>) -> Deps {
        let lock: Arc<dyn LockManager> = lock.unwrap_or_else(|| Arc::new(self.lock));
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
            locations: Arc::new(self.locations),
            transfers: Arc::new(self.transfers),
            reservations: Arc::new(self.reservations),
        };
        Deps::new(
            repos,
            lock,
            Arc::new(self.events),
            clock,
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

/// The location every test variant keeps its stock at ([`MockPorts::one_location`]).
pub fn home() -> LocationId {
    LocationId::from_uuid(uuid::Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0000_0001,
    ))
}

/// A variant holding `stock` at [`home`].
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
        stock: 0,
        state: StockState::default(),
        incoming: 0,
        levels: Vec::new(),
        in_transit: 0,
        created_at: now,
        updated_at: now,
    }
    .with_levels(vec![VariantLevel::new(
        home(),
        StockState::new(stock, Claims::default()),
        0,
    )])
}

/// A variant holding `levels` (its stock the sum of them), ordered by location id as a store
/// reads them.
pub fn stocked(tenant: TenantId, levels: &[(LocationId, i64)]) -> Variant {
    let mut levels: Vec<VariantLevel> = levels
        .iter()
        .map(|(location_id, stock)| {
            VariantLevel::new(*location_id, StockState::new(*stock, Claims::default()), 0)
        })
        .collect();
    levels.sort_by_key(|l| l.location_id);
    variant(tenant, 0, 0).with_levels(levels)
}

/// An active location of `tenant` that is not the default.
pub fn location(tenant: TenantId, code: &str, priority: i64) -> Location {
    let then = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    Location {
        id: LocationId::new(),
        tenant_id: tenant,
        name: Text::name(&format!("Site {code}")).unwrap(),
        code: LocationCode::new(code).unwrap(),
        is_default: false,
        active: true,
        priority: LocationPriority::new(priority).unwrap(),
        created_at: then,
        updated_at: then,
    }
}

/// A clock that always answers `now`, for tests that check which instant the domain used.
pub fn clock_at(now: chrono::DateTime<Utc>) -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now);
    clock
}

impl MockPorts {
    /// The tenant of any caller has one location, [`home`], its default.
    pub fn one_location(&mut self) {
        let location = |tenant: &TenantId| Location {
            id: home(),
            ..Location::first_of(*tenant, Utc::now())
        };
        self.locations
            .expect_all()
            .returning(move |tenant| Ok(vec![location(tenant)]));
        self.locations
            .expect_get()
            .returning(move |tenant, id| Ok((*id == home()).then(|| location(tenant))));
    }

    /// The tenant of any caller has exactly `locations` (listed oldest first, i.e. by id).
    pub fn locations_of(&mut self, locations: Vec<Location>) {
        let mut listed = locations;
        listed.sort_by_key(|l| l.id);
        let found = listed.clone();
        self.locations
            .expect_all()
            .returning(move |_| Ok(listed.clone()));
        self.locations
            .expect_get()
            .returning(move |_, id| Ok(found.iter().find(|l| l.id == *id).cloned()));
    }

    /// The services over these ports with the clock pinned at `now`.
    pub fn build_at(self, now: chrono::DateTime<Utc>) -> Services {
        Services::new(self.deps_with(Arc::new(clock_at(now)), None))
    }
}

/// What a store would answer for `write`: each change applied to `stock_before[i]` (the stock
/// the store found for the i-th change), in order.
pub fn committed(
    tenant: TenantId,
    write: &crate::stock::models::LedgerWrite,
    stock_before: &[i64],
    reorder_level: i64,
) -> crate::stock::models::Committed {
    use crate::stock::models::{AppliedChange, Committed};
    use crate::stock::state::{Claims, StockState};
    use chrono::SubsecRound;
    Committed {
        applied: write
            .changes
            .iter()
            .zip(stock_before)
            .map(|(c, before)| {
                // The level held `before` on hand and nothing claimed.
                let before = StockState::new(*before, Claims::default());
                let after = c.apply_to(&before);
                AppliedChange {
                    level: c.level(),
                    movement: (c.delta != 0).then(|| c.movement(&tenant, after.on_hand)),
                    sku: Sku::new(&format!("SKU-{}", c.variant_id)).unwrap(),
                    reorder_level,
                    before,
                    after,
                    total_after: after,
                    order_id: c.order_id,
                    reservation_id: c.hold.map(|h| h.reservation_id()),
                    at: c.at.trunc_subsecs(3),
                }
            })
            .collect(),
    }
}
