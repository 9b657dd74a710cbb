//! Units committed to placed orders, kept beside on hand in the variant document
//! (`committed.<location id>` and `committedTotal`): the conditional write that claims, sells and
//! releases them, what reads and reports make of them, the audit of both directions, and orders
//! stored before orders committed units.

use chrono::Duration;
use domain::catalog::models::VariantFilter;
use domain::catalog::ports::VariantRepository;
use domain::error::Shortage;
use domain::ids::{LocationId, OrderId, UserId, VariantId};
use domain::orders::models::{Allocation, Order, OrderLine, OrderStatus};
use domain::orders::ports::OrderRepository;
use domain::pagination::PageRequest;
use domain::reports::ports::ReportRepository;
use domain::stock::models::{
    AuditedState, DocumentWrite, Drift, LedgerError, LedgerWrite, Level, MovementFilter,
    MovementKind, StockChange,
};
use domain::stock::ports::LedgerRepository;
use domain::stock::state::{Claims, StockState};
use domain::values::{Money, Sku};
use domain::StoreError;
use mongodb::bson::doc;

use crate::support::{change, changes, collection, now, raw_variant, set, Shop, TestDb};

/// A PLACED order of `quantity` units of `variant`, allocated at `at`.
fn order(shop: &Shop, variant: VariantId, at: LocationId, quantity: i64, sold: bool) -> Order {
    Order {
        id: OrderId::new(),
        tenant_id: shop.tenant,
        status: OrderStatus::Placed,
        lines: vec![OrderLine {
            variant_id: variant,
            sku: Sku::new("ANY").unwrap(),
            quantity,
            unit_price: Money::new(100).unwrap(),
            line_total: Money::new(100 * quantity).unwrap(),
            returned: 0,
            allocations: vec![Allocation {
                location_id: at,
                quantity,
                returned: 0,
            }],
        }],
        customer: None,
        note: None,
        location_id: None,
        sold_at_placement: sold,
        total: Money::new(100 * quantity).unwrap(),
        placed_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
        version: 1,
    }
}

/// The changes that commit an order's units where it is allocated.
fn commitments(order: &Order) -> Vec<StockChange> {
    order
        .lines
        .iter()
        .flat_map(|l| {
            l.allocations.iter().map(|a| {
                StockChange::commit(
                    Level::new(l.variant_id, a.location_id),
                    a.quantity,
                    order.id,
                    order.placed_by,
                    now(),
                )
            })
        })
        .collect()
}

/// Places `order`: its commitments and the order, in one write.
async fn place(db: &TestDb, shop: &Shop, order: &Order) -> Result<(), LedgerError> {
    db.store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: commitments(order),
                document: DocumentWrite::InsertOrder(order.clone()),
                idempotency: None,
            },
        )
        .await
        .map(drop)
}

fn committed_drift(
    v: VariantId,
    at: Option<LocationId>,
    sku: &str,
    stock: i64,
    ledger_sum: i64,
) -> Drift {
    Drift {
        variant_id: v,
        location_id: at,
        state: AuditedState::Committed,
        sku: sku.into(),
        stock,
        ledger_sum,
    }
}

#[tokio::test]
async fn placing_commits_units_without_a_movement_and_fulfilling_sells_them() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "commit").await;
    let v = shop.variant(store, "TS-1", 5).await; // reorder level 2
    let low = || async {
        VariantRepository::list(
            store,
            &shop.tenant,
            &VariantFilter {
                low_stock: true,
                ..Default::default()
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|v| v.id)
        .collect::<Vec<_>>()
    };
    assert!(low().await.is_empty());

    let placed = order(&shop, v, shop.main, 3, false);
    let committed = store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: commitments(&placed),
                document: DocumentWrite::InsertOrder(placed.clone()),
                idempotency: None,
            },
        )
        .await
        .expect("3 of 5 can be committed");
    let applied = &committed.applied[0];
    let five_three = StockState::new(5, Claims::committed(3));
    assert_eq!(applied.movement, None, "a commitment moves nothing");
    assert_eq!(
        (applied.before, applied.after, applied.total_after),
        (
            StockState::new(5, Claims::default()),
            five_three,
            five_three
        )
    );
    let raw = raw_variant(&db, &v).await;
    let main = shop.main.to_string();
    assert_eq!(
        (
            raw.get_i64("stock").unwrap(),
            raw.get_document("levels").unwrap().get_i64(&main).unwrap(),
            raw.get_document("committed")
                .unwrap()
                .get_i64(&main)
                .unwrap(),
            raw.get_i64("committedTotal").unwrap(),
        ),
        (5, 5, 3, 3)
    );
    assert_eq!(
        store
            .list_movements(
                &shop.tenant,
                &MovementFilter::default(),
                &PageRequest::first(10)
            )
            .await
            .unwrap()
            .items
            .len(),
        1,
        "the purchase only"
    );
    let read = VariantRepository::get(store, &shop.tenant, &v)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read.stock, read.state), (2, five_three));
    assert_eq!(
        read.levels
            .iter()
            .map(|l| (l.location_id, l.stock, l.state))
            .collect::<Vec<_>>(),
        vec![(shop.main, 2, five_three)]
    );
    assert_eq!(low().await, vec![v], "2 available, at the reorder level");
    assert_eq!(
        OrderRepository::get(store, &shop.tenant, &placed.id)
            .await
            .unwrap()
            .map(|o| o.sold_at_placement),
        Some(false)
    );

    // Committed units are not available: neither to another order nor to a decrease.
    let another = order(&shop, v, shop.main, 3, false);
    let short = vec![Shortage {
        variant_id: v,
        location_id: Some(shop.main),
        requested: 3,
        available: 2,
    }];
    match place(&db, &shop, &another).await {
        Err(LedgerError::Insufficient(s)) => assert_eq!(s, short),
        other => panic!("expected a shortage, got {other:?}"),
    }
    match store
        .commit(
            &shop.tenant,
            changes(vec![change(&v, &shop.main, MovementKind::Adjustment, -3)]),
        )
        .await
    {
        Err(LedgerError::Insufficient(s)) => assert_eq!(s, short),
        other => panic!("expected a shortage, got {other:?}"),
    }
    assert_eq!(
        OrderRepository::get(store, &shop.tenant, &another.id)
            .await
            .unwrap(),
        None
    );
    let audit = store.audit(&shop.tenant).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);

    // Fulfilling sells the committed units: on hand and committed down, available unchanged.
    let mut fulfilled = placed.clone();
    fulfilled.status = OrderStatus::Fulfilled;
    fulfilled.version = 2;
    let sold = store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![StockChange::sale(
                    Level::new(v, shop.main),
                    3,
                    placed.id,
                    UserId::new(),
                    now(),
                )],
                document: DocumentWrite::UpdateOrder {
                    order: fulfilled,
                    expected_version: 1,
                },
                idempotency: None,
            },
        )
        .await
        .expect("the committed units leave");
    let applied = &sold.applied[0];
    let movement = applied.movement.as_ref().expect("a SALE");
    assert_eq!(
        (movement.kind, movement.quantity, movement.stock_after),
        (MovementKind::Sale, -3, 2)
    );
    assert_eq!(applied.after, StockState::new(2, Claims::default()));
    assert_eq!(applied.total_after, applied.after);
    let audit = store.audit(&shop.tenant).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);

    // Nothing is left committed to release: only a level changed behind the ledger's back could
    // be asked to.
    let release =
        StockChange::release(Level::new(v, shop.main), 1, placed.id, UserId::new(), now());
    assert!(matches!(
        store.commit(&shop.tenant, changes(vec![release])).await,
        Err(LedgerError::Store(StoreError::Other(_)))
    ));
    let raw = raw_variant(&db, &v).await;
    assert_eq!(
        (
            raw.get_i64("stock").unwrap(),
            raw.get_document("committed")
                .unwrap()
                .get_i64(&main)
                .unwrap(),
            raw.get_i64("committedTotal").unwrap(),
        ),
        (2, 0, 0)
    );
    db.drop().await;
}

#[tokio::test]
async fn a_commitment_never_creates_a_level_and_a_release_gives_units_back() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "release").await;
    let v = shop.variant(store, "TS-1", 4).await;
    let elsewhere = LocationId::new();

    match place(&db, &shop, &order(&shop, v, elsewhere, 1, false)).await {
        Err(LedgerError::Insufficient(s)) => assert_eq!(
            s,
            vec![Shortage {
                variant_id: v,
                location_id: Some(elsewhere),
                requested: 1,
                available: 0,
            }]
        ),
        other => panic!("expected a shortage, got {other:?}"),
    }
    let raw = raw_variant(&db, &v).await;
    assert_eq!(raw.get_document("levels").unwrap().len(), 1);
    assert!(raw.get_document("committed").unwrap().is_empty());

    let placed = order(&shop, v, shop.main, 4, false);
    place(&db, &shop, &placed).await.expect("all 4");
    let release =
        StockChange::release(Level::new(v, shop.main), 4, placed.id, UserId::new(), now());
    let mut cancelled = placed.clone();
    cancelled.status = OrderStatus::Cancelled;
    cancelled.version = 2;
    let released = store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![release],
                document: DocumentWrite::UpdateOrder {
                    order: cancelled,
                    expected_version: 1,
                },
                idempotency: None,
            },
        )
        .await
        .expect("the commitment is released");
    assert_eq!(released.applied[0].movement, None);
    assert_eq!(
        released.applied[0].after,
        StockState::new(4, Claims::default())
    );
    assert_eq!(shop.stock(store, &v).await, 4);
    let audit = store.audit(&shop.tenant).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);
    db.drop().await;
}

#[tokio::test]
async fn the_audit_compares_committed_units_with_open_allocations_both_ways() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "audit-committed").await;
    let v = shop.variant(store, "TS-1", 6).await;
    let placed = order(&shop, v, shop.main, 2, false);
    place(&db, &shop, &placed).await.unwrap();
    // An order sold at placement holds nothing committed, though it is PLACED.
    let old = order(&shop, v, shop.main, 1, true);
    store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![change(&v, &shop.main, MovementKind::Sale, -1)],
                document: DocumentWrite::InsertOrder(old.clone()),
                idempotency: None,
            },
        )
        .await
        .unwrap();
    let audit = store.audit(&shop.tenant).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);
    assert_eq!((audit.variants_checked, audit.levels_checked), (1, 1));

    // A document written before orders committed units has no `soldAtPlacement`: it sold them.
    collection(&db, "orders")
        .await
        .update_one(
            doc! { "_id": old.id.to_string() },
            doc! { "$unset": { "soldAtPlacement": "" } },
        )
        .await
        .unwrap();
    assert_eq!(
        OrderRepository::get(store, &shop.tenant, &old.id)
            .await
            .unwrap()
            .map(|o| o.sold_at_placement),
        Some(true)
    );
    assert!(store.audit(&shop.tenant).await.unwrap().drift.is_empty());

    // More committed at the level than its orders hold: the level, then the stored total.
    let main = format!("committed.{}", shop.main);
    set(&db, &v, doc! { &main: 5_i64 }).await;
    assert_eq!(
        store.audit(&shop.tenant).await.unwrap().drift,
        vec![
            committed_drift(v, Some(shop.main), "TS-1", 5, 2),
            committed_drift(v, None, "TS-1", 2, 5),
        ]
    );
    // Orders holding units at a level whose committed units are gone, with the total agreeing;
    // and on hand changed too: each level's on hand before its committed units.
    set(
        &db,
        &v,
        doc! { &main: 0_i64, "committedTotal": 0_i64, format!("levels.{}", shop.main): 9_i64 },
    )
    .await;
    assert_eq!(
        store.audit(&shop.tenant).await.unwrap().drift,
        vec![
            Drift {
                variant_id: v,
                location_id: Some(shop.main),
                state: AuditedState::OnHand,
                sku: "TS-1".into(),
                stock: 9,
                ledger_sum: 5,
            },
            committed_drift(v, Some(shop.main), "TS-1", 0, 2),
            Drift {
                variant_id: v,
                location_id: None,
                state: AuditedState::OnHand,
                sku: "TS-1".into(),
                stock: 5,
                ledger_sum: 9,
            },
        ]
    );
    db.drop().await;
}

#[tokio::test]
async fn low_stock_judges_what_is_available_and_valuation_what_is_on_hand() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "reports-committed").await;
    let v = shop.variant(store, "TS-1", 5).await; // reorder level 2
    let since = now() - Duration::days(30);
    let low = |at: Option<LocationId>| async move {
        store
            .low_stock(&shop.tenant, since, at)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.variant.id, r.stock))
            .collect::<Vec<_>>()
    };
    assert!(low(None).await.is_empty());
    assert!(low(Some(shop.main)).await.is_empty());

    place(&db, &shop, &order(&shop, v, shop.main, 4, false))
        .await
        .unwrap();
    assert_eq!(low(None).await, vec![(v, 1)]);
    assert_eq!(low(Some(shop.main)).await, vec![(v, 1)]);
    let levels = domain::locations::ports::LocationRepository::levels(
        store,
        &shop.tenant,
        &shop.main,
        &domain::locations::models::LevelFilter { low_stock: true },
        &PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(
        levels
            .items
            .iter()
            .map(|l| (l.variant_id, l.stock, l.state))
            .collect::<Vec<_>>(),
        vec![(v, 1, StockState::new(5, Claims::committed(4)))]
    );
    for at in [None, Some(shop.main)] {
        let valued = store.valuation(&shop.tenant, at).await.unwrap();
        assert_eq!(
            valued
                .iter()
                .map(|r| (r.variant_id, r.stock))
                .collect::<Vec<_>>(),
            vec![(v, 5)],
            "committed units are still on hand"
        );
    }
    db.drop().await;
}
