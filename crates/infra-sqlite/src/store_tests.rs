//! The store's level-keeping on a memory database: the conditional write per level with the
//! total beside it, variant reads with their levels, the audit of both sums, the default
//! location's single-statement move, a location's levels and holdings, and transfers.

use chrono::{DateTime, SubsecRound, Utc};
use contract_tests::fixtures::AppliedExt;
use domain::auth::models::{Role, Tenant, User};
use domain::auth::ports::TenantRepository;
use domain::catalog::models::{Product, Variant, VariantLevel};
use domain::catalog::ports::{ProductRepository, VariantRepository};
use domain::error::Shortage;
use domain::ids::{
    LocationId, ProductId, PurchaseOrderId, TenantId, TransferId, UserId, VariantId,
};
use domain::locations::models::{Holdings, LevelFilter, Location, LocationLevel};
use domain::locations::ports::LocationRepository;
use domain::pagination::PageRequest;
use domain::purchasing::models::{PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus};
use domain::stock::models::{
    AuditedState, Committed, DocumentWrite, Drift, LedgerError, LedgerWrite, Level, StockChange,
};
use domain::stock::ports::LedgerRepository;
use domain::stock::state::{Claims, StockState, UnitState};
use domain::transfers::models::{Transfer, TransferLine, TransferStatus};
use domain::transfers::ports::TransferRepository;
use domain::values::{
    Attributes, EmailAddress, LocationCode, LocationPriority, Money, PasswordHash, Sku, StockLevel,
    TenantSlug, Text,
};
use domain::StoreError;

use crate::SqliteStore;

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

pub(crate) fn unique() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    id[id.len() - 10..].to_owned()
}

/// A memory store with one tenant (and its default location) and one product.
pub(crate) struct Shop {
    pub(crate) store: SqliteStore,
    pub(crate) tenant: TenantId,
    pub(crate) main: Location,
    pub(crate) product: ProductId,
}

impl Shop {
    pub(crate) async fn open() -> Shop {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        let at = now();
        let tenant = Tenant {
            id: TenantId::new(),
            name: Text::name("Shop").unwrap(),
            slug: TenantSlug::new(&format!("shop-{}", unique())).unwrap(),
            created_at: at,
        };
        let owner = User {
            id: UserId::new(),
            tenant_id: tenant.id,
            email: EmailAddress::new("owner@shop.example").unwrap(),
            name: Text::name("Owner").unwrap(),
            role: Role::Owner,
            active: true,
            password_hash: PasswordHash::from_phc("$argon2id$x".into()),
            token_version: 0,
            created_at: at,
            updated_at: at,
        };
        let main = Location::first_of(tenant.id, at);
        store
            .create_with_owner(&tenant, &owner, &main)
            .await
            .unwrap();
        let product = Product {
            id: ProductId::new(),
            tenant_id: tenant.id,
            name: Text::name("Tee").unwrap(),
            description: None,
            created_at: at,
            updated_at: at,
        };
        ProductRepository::insert(&store, &tenant.id, &product, None)
            .await
            .unwrap();
        Shop {
            store,
            tenant: tenant.id,
            main,
            product: product.id,
        }
    }

    pub(crate) async fn location(&self, code: &str) -> Location {
        let at = now();
        let location = Location {
            id: LocationId::new(),
            tenant_id: self.tenant,
            name: Text::name(code).unwrap(),
            code: LocationCode::new(code).unwrap(),
            is_default: false,
            active: true,
            priority: LocationPriority::DEFAULT,
            created_at: at,
            updated_at: at,
        };
        LocationRepository::insert(&self.store, &self.tenant, &location, None)
            .await
            .unwrap();
        location
    }

    pub(crate) async fn variant(&self, sku: &str) -> VariantId {
        let at = now();
        let variant = Variant {
            id: VariantId::new(),
            tenant_id: self.tenant,
            product_id: self.product,
            sku: Sku::new(sku).unwrap(),
            attributes: Attributes::default(),
            price: Money::new(1000).unwrap(),
            reorder_level: StockLevel::new(2).unwrap(),
            stock: 0,
            state: Default::default(),
            incoming: 0,
            levels: Vec::new(),
            in_transit: 0,
            created_at: at,
            updated_at: at,
        };
        VariantRepository::insert(&self.store, &self.tenant, &variant, None)
            .await
            .unwrap();
        variant.id
    }

    pub(crate) async fn read(&self, id: VariantId) -> Variant {
        VariantRepository::get(&self.store, &self.tenant, &id)
            .await
            .unwrap()
            .unwrap()
    }

    pub(crate) async fn commit(
        &self,
        changes: Vec<StockChange>,
        document: DocumentWrite,
    ) -> Result<Committed, LedgerError> {
        let write = LedgerWrite {
            changes,
            document,
            idempotency: None,
        };
        self.store.commit(&self.tenant, write).await
    }

    pub(crate) async fn adjust(
        &self,
        variant: VariantId,
        location: LocationId,
        delta: i64,
    ) -> Committed {
        self.commit(
            vec![adjustment(variant, location, delta, None)],
            DocumentWrite::None,
        )
        .await
        .unwrap()
    }
}

pub(crate) fn adjustment(
    variant: VariantId,
    location: LocationId,
    delta: i64,
    expected: Option<i64>,
) -> StockChange {
    StockChange::adjustment(
        Level::new(variant, location),
        delta,
        UnitState::Available,
        expected,
        "count".into(),
        UserId::new(),
        now(),
    )
}

fn level(location: LocationId, stock: i64, incoming: i64) -> VariantLevel {
    VariantLevel::new(
        location,
        StockState::new(stock, Claims::default()),
        incoming,
    )
}

fn transfer(shop: &Shop, to: LocationId, variant: VariantId, quantity: i64) -> Transfer {
    let at = now();
    Transfer {
        id: TransferId::new(),
        tenant_id: shop.tenant,
        from_location_id: shop.main.id,
        to_location_id: to,
        status: TransferStatus::Draft,
        lines: vec![TransferLine {
            variant_id: variant,
            quantity,
            received: 0,
        }],
        created_by: UserId::new(),
        created_at: at,
        updated_at: at,
        shipped_at: None,
        version: 1,
    }
}

#[tokio::test]
async fn each_level_keeps_its_own_stock_and_the_variant_their_total() {
    let shop = Shop::open().await;
    let shelf = shop.location("SHELF").await;
    let v = shop.variant("TEE-M").await;

    let first = shop.adjust(v, shop.main.id, 5).await;
    let second = shop.adjust(v, shelf.id, 3).await;
    assert_eq!(first.applied[0].moved().stock_after, 5);
    let applied = &second.applied[0];
    assert_eq!(
        (
            applied.stock_before(),
            applied.moved().stock_after,
            applied.total()
        ),
        (0, 3, 8)
    );
    assert_eq!(applied.moved().location_id, shelf.id);

    let read = shop.read(v).await;
    assert_eq!(read.stock, 8);
    assert_eq!(
        read.levels,
        vec![level(shop.main.id, 5, 0), level(shelf.id, 3, 0)]
    );
    let many = VariantRepository::get_many(&shop.store, &shop.tenant, &[v, VariantId::new()])
        .await
        .unwrap();
    assert_eq!(many, vec![read]);
}

#[tokio::test]
async fn a_level_is_judged_alone_whatever_the_total() {
    let shop = Shop::open().await;
    let shelf = shop.location("SHELF").await;
    let v = shop.variant("TEE-M").await;
    shop.adjust(v, shop.main.id, 5).await;
    shop.adjust(v, shelf.id, 1).await;

    let short = shop
        .commit(vec![adjustment(v, shelf.id, -2, None)], DocumentWrite::None)
        .await;
    assert!(
        matches!(&short, Err(LedgerError::Insufficient(s)) if s == &vec![Shortage {
            variant_id: v,
            location_id: Some(shelf.id),
            requested: 2,
            available: 1,
        }]),
        "{short:?}"
    );
    // A level the variant never had reads as 0, for a shortage and for compare-and-set.
    let elsewhere = LocationId::new();
    let none = shop
        .commit(
            vec![adjustment(v, elsewhere, 4, Some(1))],
            DocumentWrite::None,
        )
        .await;
    assert!(
        matches!(
            none,
            Err(LedgerError::StockMismatch {
                expected: 1,
                actual: 0,
                ..
            })
        ),
        "{none:?}"
    );
    let created = shop
        .commit(
            vec![adjustment(v, elsewhere, 4, Some(0))],
            DocumentWrite::None,
        )
        .await
        .unwrap();
    assert_eq!(created.applied[0].total(), 10);
    let missing = shop
        .commit(
            vec![adjustment(VariantId::new(), shop.main.id, 1, None)],
            DocumentWrite::None,
        )
        .await;
    assert!(
        matches!(missing, Err(LedgerError::VariantMissing(_))),
        "{missing:?}"
    );
    assert_eq!(shop.read(v).await.stock, 10);
}

#[tokio::test]
async fn a_refused_write_of_a_batch_leaves_no_level_behind() {
    let shop = Shop::open().await;
    let v = shop.variant("TEE-M").await;
    let shelf = LocationId::new();
    let write = |changes| LedgerWrite {
        changes,
        document: DocumentWrite::None,
        idempotency: None,
    };
    let results = shop
        .store
        .commit_batch(
            &shop.tenant,
            vec![
                // Creates the shelf's level, then fails on the main one: nothing stays.
                write(vec![
                    adjustment(v, shelf, 2, None),
                    adjustment(v, shop.main.id, -1, None),
                ]),
                write(vec![adjustment(v, shop.main.id, 3, None)]),
            ],
        )
        .await
        .unwrap();
    assert!(matches!(results[0], Err(LedgerError::Insufficient(_))));
    assert_eq!(results[1].as_ref().unwrap().applied[0].total(), 3);
    assert_eq!(shop.read(v).await.levels, vec![level(shop.main.id, 3, 0)]);
}

#[tokio::test]
async fn the_audit_reports_a_tampered_level_and_the_total_follows_it() {
    let shop = Shop::open().await;
    let shelf = shop.location("SHELF").await;
    let (a, b) = (shop.variant("A").await, shop.variant("B").await);
    for (v, at, n) in [(a, shop.main.id, 4), (a, shelf.id, 2), (b, shop.main.id, 1)] {
        shop.adjust(v, at, n).await;
    }
    let clean = shop.store.audit(&shop.tenant).await.unwrap();
    assert_eq!((clean.variants_checked, clean.levels_checked), (2, 3));
    assert!(clean.drift.is_empty());

    for (v, at, n) in [(b, shop.main.id, 9), (a, shelf.id, 7)] {
        let written = shop
            .store
            .set_stock_behind_the_ledger(&shop.tenant, &v, &at, n)
            .await
            .unwrap();
        assert_eq!(written, 1);
    }
    let drift = |v, location, sku: &str, stock, ledger_sum| Drift {
        variant_id: v,
        location_id: location,
        state: AuditedState::OnHand,
        sku: sku.into(),
        stock,
        ledger_sum,
    };
    assert_eq!(
        shop.store.audit(&shop.tenant).await.unwrap().drift,
        vec![
            drift(a, Some(shelf.id), "A", 7, 2),
            drift(b, Some(shop.main.id), "B", 9, 1),
        ]
    );
    // The total is derived from the levels, so it reads what they hold.
    for (v, total) in [(a, 11), (b, 9)] {
        let variant = VariantRepository::get(&shop.store, &shop.tenant, &v).await;
        assert_eq!(variant.unwrap().unwrap().stock, total);
    }
}

#[tokio::test]
async fn the_default_moves_in_one_write_and_only_to_an_active_location() {
    let shop = Shop::open().await;
    let shelf = shop.location("SHELF").await;
    let mut closed = shop.location("CLOSED").await;
    closed.active = false;
    LocationRepository::update(&shop.store, &shop.tenant, &closed, None)
        .await
        .unwrap();

    let defaults = |all: Vec<Location>| {
        all.into_iter()
            .filter(|l| l.is_default)
            .map(|l| l.id)
            .collect::<Vec<_>>()
    };
    shop.store
        .make_default(&shop.tenant, &shelf.id, now())
        .await
        .unwrap();
    assert_eq!(
        defaults(shop.store.all(&shop.tenant).await.unwrap()),
        vec![shelf.id]
    );
    for refused in [closed.id, LocationId::new()] {
        let answer = shop.store.make_default(&shop.tenant, &refused, now()).await;
        assert!(matches!(answer, Err(StoreError::NotFound)), "{answer:?}");
    }
    let other = TenantId::new();
    let foreign = shop.store.make_default(&other, &shop.main.id, now()).await;
    assert!(matches!(foreign, Err(StoreError::NotFound)));
    assert_eq!(
        defaults(shop.store.all(&shop.tenant).await.unwrap()),
        vec![shelf.id]
    );

    let duplicate = Location {
        id: LocationId::new(),
        ..shelf.clone()
    };
    let taken = LocationRepository::insert(&shop.store, &shop.tenant, &duplicate, None).await;
    assert!(matches!(taken, Err(StoreError::Duplicate)));
}

#[tokio::test]
async fn a_location_lists_its_levels_and_what_is_bound_for_it() {
    let shop = Shop::open().await;
    let shelf = shop.location("SHELF").await;
    let (a, b, c) = (
        shop.variant("A").await,
        shop.variant("B").await,
        shop.variant("C").await,
    );
    shop.adjust(a, shelf.id, 5).await;
    shop.adjust(b, shelf.id, 1).await;
    shop.adjust(c, shop.main.id, 1).await;
    // Three units of C ordered for the shelf, where it has no level yet.
    let at = now();
    let mill = contract_tests::fixtures::supplier(shop.tenant, "Mill");
    domain::purchasing::ports::SupplierRepository::insert(&shop.store, &shop.tenant, &mill, None)
        .await
        .unwrap();
    let po = PurchaseOrder {
        id: PurchaseOrderId::new(),
        tenant_id: shop.tenant,
        supplier_id: mill.id,
        location_id: shelf.id,
        status: PurchaseOrderStatus::Ordered,
        lines: vec![PurchaseOrderLine {
            variant_id: c,
            quantity: 3,
            unit_cost: Money::new(250).unwrap(),
            received: 0,
        }],
        expected_at: None,
        created_by: UserId::new(),
        created_at: at,
        updated_at: at,
        version: 1,
    };
    shop.commit(Vec::new(), DocumentWrite::InsertPurchaseOrder(po))
        .await
        .unwrap();

    let row = |v, sku: &str, stock, incoming| LocationLevel {
        variant_id: v,
        sku: Sku::new(sku).unwrap(),
        stock,
        state: StockState::new(stock, Claims::default()),
        incoming,
        reorder_level: 2,
    };
    let all = shop
        .store
        .levels(
            &shop.tenant,
            &shelf.id,
            &LevelFilter::default(),
            &PageRequest::first(2),
        )
        .await
        .unwrap();
    assert_eq!(all.items, vec![row(a, "A", 5, 0), row(b, "B", 1, 0)]);
    let after = PageRequest::parse(Some(2), all.next_cursor.as_deref()).unwrap();
    let rest = shop
        .store
        .levels(&shop.tenant, &shelf.id, &LevelFilter::default(), &after)
        .await
        .unwrap();
    assert_eq!(
        (rest.items, rest.next_cursor),
        (vec![row(c, "C", 0, 3)], None)
    );
    let low = shop
        .store
        .levels(
            &shop.tenant,
            &shelf.id,
            &LevelFilter { low_stock: true },
            &PageRequest::first(50),
        )
        .await
        .unwrap();
    assert_eq!(low.items, vec![row(b, "B", 1, 0), row(c, "C", 0, 3)]);

    assert_eq!(
        shop.read(c).await.levels,
        vec![level(shop.main.id, 1, 0), level(shelf.id, 0, 3)]
    );
    assert_eq!(
        shop.store.holdings(&shop.tenant, &shelf.id).await.unwrap(),
        Holdings {
            units: 6,
            in_transit_to: 0,
            open_purchase_orders: 1,
            draft_transfers: 0,
        }
    );
}

#[tokio::test]
async fn units_in_transit_are_counted_and_keep_their_variant() {
    let shop = Shop::open().await;
    let shelf = shop.location("SHELF").await;
    let v = shop.variant("TEE-M").await;
    shop.adjust(v, shop.main.id, 5).await;

    let draft = transfer(&shop, shelf.id, v, 3);
    shop.commit(Vec::new(), DocumentWrite::InsertTransfer(draft.clone()))
        .await
        .unwrap();
    let held = shop.store.holdings(&shop.tenant, &shelf.id).await.unwrap();
    assert_eq!((held.draft_transfers, held.in_transit_to), (1, 0));

    let shipped = Transfer {
        status: TransferStatus::Shipped,
        shipped_at: Some(now()),
        version: 2,
        ..draft.clone()
    };
    let out = StockChange::transfer_out(
        Level::new(v, shop.main.id),
        3,
        draft.id,
        UserId::new(),
        now(),
    );
    let committed = shop
        .commit(
            vec![out],
            DocumentWrite::UpdateTransfer {
                transfer: shipped.clone(),
                expected_version: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(committed.applied[0].moved().transfer_id, Some(draft.id));
    let stale = shop
        .commit(
            Vec::new(),
            DocumentWrite::UpdateTransfer {
                transfer: shipped.clone(),
                expected_version: 1,
            },
        )
        .await;
    assert!(matches!(
        stale,
        Err(LedgerError::Store(StoreError::VersionConflict))
    ));

    let read = shop.read(v).await;
    assert_eq!((read.stock, read.in_transit), (2, 3));
    assert_eq!(
        TransferRepository::get(&shop.store, &shop.tenant, &draft.id)
            .await
            .unwrap(),
        Some(shipped)
    );
    let held = shop.store.holdings(&shop.tenant, &shelf.id).await.unwrap();
    assert_eq!((held.draft_transfers, held.in_transit_to), (0, 3));

    // Emptied, but 3 units are on their way: the variant and its product stay.
    shop.adjust(v, shop.main.id, -2).await;
    let refused = VariantRepository::delete(&shop.store, &shop.tenant, &v, None).await;
    assert!(matches!(refused, Err(StoreError::InUse)), "{refused:?}");
    let refused = ProductRepository::delete(&shop.store, &shop.tenant, &shop.product, None).await;
    assert!(matches!(refused, Err(StoreError::InUse)), "{refused:?}");
}

#[tokio::test]
async fn deleting_a_variant_takes_its_levels_with_it() {
    let shop = Shop::open().await;
    let v = shop.variant("TEE-M").await;
    shop.adjust(v, shop.main.id, 2).await;
    let held = VariantRepository::delete(&shop.store, &shop.tenant, &v, None).await;
    assert!(matches!(held, Err(StoreError::InUse)));
    shop.adjust(v, shop.main.id, -2).await;
    VariantRepository::delete(&shop.store, &shop.tenant, &v, None)
        .await
        .unwrap();
    let audit = shop.store.audit(&shop.tenant).await.unwrap();
    assert_eq!((audit.variants_checked, audit.levels_checked), (0, 0));
    let rows = shop
        .store
        .levels(
            &shop.tenant,
            &shop.main.id,
            &LevelFilter::default(),
            &PageRequest::first(50),
        )
        .await
        .unwrap();
    assert!(rows.items.is_empty());
}
