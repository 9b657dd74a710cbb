//! The ledger's conditional writes: never below zero, all lines or none, every shortage listed.

use std::sync::Arc;
use std::time::Instant;

use domain::error::Shortage;
use domain::idempotency::{IdempotencyRepository, StoredResponse};
use domain::ids::{OrderId, UserId};
use domain::orders::models::{Allocation, Order, OrderLine, OrderStatus};
use domain::orders::ports::OrderRepository;
use domain::pagination::PageRequest;
use domain::stock::models::{
    DocumentWrite, LedgerError, LedgerIdempotency, LedgerWrite, MovementFilter, MovementKind,
};
use domain::stock::ports::LedgerRepository;
use domain::values::{Money, Sku};
use domain::StoreError;

use crate::support::{change, changes, now, Shop, TestDb};

fn order(shop: &Shop, lines: &[(domain::ids::VariantId, i64)]) -> Order {
    Order {
        id: OrderId::new(),
        tenant_id: shop.tenant,
        status: OrderStatus::Placed,
        lines: lines
            .iter()
            .map(|(v, q)| OrderLine {
                variant_id: *v,
                sku: Sku::new("ANY").unwrap(),
                quantity: *q,
                unit_price: Money::new(100).unwrap(),
                line_total: Money::new(100 * q).unwrap(),
                returned: 0,
                allocations: vec![Allocation {
                    location_id: shop.main,
                    quantity: *q,
                    returned: 0,
                }],
            })
            .collect(),
        customer: None,
        note: None,
        location_id: None,
        // These orders take their units with SALE movements when placed.
        sold_at_placement: true,
        total: Money::new(100).unwrap(),
        placed_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
        version: 1,
    }
}

fn idempotency(key: &str) -> LedgerIdempotency {
    LedgerIdempotency {
        user_id: sender(),
        key: key.to_owned(),
        fingerprint: "fp".to_owned(),
        created_at: now(),
        expires_at: now() + chrono::Duration::hours(24),
        render: Arc::new(|committed| StoredResponse {
            status: 201,
            body: format!("{} applied", committed.applied.len()).into_bytes(),
        }),
    }
}

#[tokio::test]
async fn a_decrement_applies_only_while_stock_suffices() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "decrement").await;
    let v = shop.variant(store, "TS-1", 5).await;

    let committed = store
        .commit(
            &shop.tenant,
            changes(vec![change(&v, &shop.main, MovementKind::Sale, -3)]),
        )
        .await
        .expect("3 of 5 can be sold");
    let applied = &committed.applied[0];
    assert_eq!(applied.before.on_hand, 5);
    assert_eq!(applied.movement.as_ref().unwrap().stock_after, 2);
    assert_eq!(applied.sku.as_str(), "TS-1");
    assert_eq!(applied.reorder_level, 2);

    let refused = store
        .commit(
            &shop.tenant,
            changes(vec![change(&v, &shop.main, MovementKind::Sale, -3)]),
        )
        .await;
    match refused {
        Err(LedgerError::Insufficient(s)) => assert_eq!(
            s,
            vec![Shortage {
                variant_id: v,
                location_id: Some(shop.main),
                requested: 3,
                available: 2
            }]
        ),
        other => panic!("expected a shortage, got {other:?}"),
    }
    assert_eq!(shop.stock(store, &v).await, 2);
    let movements = store
        .list_movements(
            &shop.tenant,
            &MovementFilter::default(),
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(
        movements.items.len(),
        2,
        "the refused sale left no movement"
    );
    assert_eq!(movements.items[0].quantity, -3, "newest first");
    db.drop().await;
}

#[tokio::test]
async fn a_multi_line_write_is_all_or_nothing_and_lists_every_shortage() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "all-or-nothing").await;
    let a = shop.variant(store, "A", 5).await;
    let b = shop.variant(store, "B", 1).await;
    let c = shop.variant(store, "C", 0).await;
    let placed = order(&shop, &[(a, 2), (b, 3), (c, 1)]);

    let result = store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![
                    change(&a, &shop.main, MovementKind::Sale, -2),
                    change(&b, &shop.main, MovementKind::Sale, -3),
                    change(&c, &shop.main, MovementKind::Sale, -1),
                ],
                document: DocumentWrite::InsertOrder(placed.clone()),
                idempotency: Some(idempotency("order-1")),
            },
        )
        .await;

    match result {
        Err(LedgerError::Insufficient(s)) => assert_eq!(
            s,
            vec![
                Shortage {
                    variant_id: b,
                    location_id: Some(shop.main),
                    requested: 3,
                    available: 1
                },
                Shortage {
                    variant_id: c,
                    location_id: Some(shop.main),
                    requested: 1,
                    available: 0
                },
            ]
        ),
        other => panic!("expected two shortages, got {other:?}"),
    }
    assert_eq!(
        shop.stock(store, &a).await,
        5,
        "the line that fitted was rolled back"
    );
    assert_eq!(store.get(&shop.tenant, &placed.id).await.unwrap(), None);
    assert_eq!(
        store
            .find(&shop.tenant, &sender(), "order-1", now())
            .await
            .unwrap(),
        None,
        "no idempotency record without the write"
    );
    let audit = store.audit(&shop.tenant).await.unwrap();
    assert_eq!(audit.variants_checked, 3);
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);

    // The same order within stock commits every part together.
    let committed = store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![
                    change(&a, &shop.main, MovementKind::Sale, -2),
                    change(&b, &shop.main, MovementKind::Sale, -1),
                ],
                document: DocumentWrite::InsertOrder(placed.clone()),
                idempotency: Some(idempotency("order-1")),
            },
        )
        .await
        .expect("fits in stock");
    assert_eq!(committed.applied.len(), 2);
    assert_eq!(
        store.get(&shop.tenant, &placed.id).await.unwrap(),
        Some(placed.clone())
    );
    let record = store
        .find(&shop.tenant, &sender(), "order-1", now())
        .await
        .unwrap()
        .expect("stored with the write");
    assert_eq!(record.response.status, 201);
    assert_eq!(record.response.body, b"2 applied");

    // A second write under the same live key writes nothing.
    let again = store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![change(&a, &shop.main, MovementKind::Sale, -1)],
                document: DocumentWrite::None,
                idempotency: Some(idempotency("order-1")),
            },
        )
        .await;
    assert!(
        matches!(
            again,
            Err(LedgerError::Store(StoreError::IdempotencyKeyTaken))
        ),
        "{again:?}"
    );
    assert_eq!(shop.stock(store, &a).await, 3);
    db.drop().await;
}

#[tokio::test]
async fn fifty_concurrent_sales_of_twenty_units_sell_exactly_twenty() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.store.clone();
    let shop = Shop::open(&store, "race").await;
    let v = shop.variant(&store, "HOT", 20).await;
    let (tenant, main) = (shop.tenant, shop.main);

    let started = Instant::now();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .commit(
                        &tenant,
                        changes(vec![change(&v, &main, MovementKind::Sale, -1)]),
                    )
                    .await
            })
        })
        .collect();
    let mut sold = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => sold += 1,
            Err(LedgerError::Insufficient(_)) => refused += 1,
            Err(other) => panic!("unexpected refusal: {other:?}"),
        }
    }
    eprintln!("50 concurrent sales took {:?}", started.elapsed());
    assert_eq!((sold, refused), (20, 30));
    assert_eq!(shop.stock(&store, &v).await, 0);
    let audit = store.audit(&tenant).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);
    let sales = store
        .list_movements(
            &tenant,
            &MovementFilter {
                kind: Some(MovementKind::Sale),
                ..Default::default()
            },
            &PageRequest::first(100),
        )
        .await
        .unwrap();
    assert_eq!(sales.items.len(), 20);
    db.drop().await;
}

#[tokio::test]
async fn expected_stock_missing_variants_and_stale_versions_are_refused() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "refusals").await;
    let v = shop.variant(store, "V", 4).await;

    let mut counted = change(&v, &shop.main, MovementKind::Adjustment, 1);
    counted.expected_stock = Some(3);
    match store
        .commit(&shop.tenant, changes(vec![counted.clone()]))
        .await
    {
        Err(LedgerError::StockMismatch {
            variant_id,
            location_id,
            expected: 3,
            actual: 4,
        }) => assert_eq!((variant_id, location_id), (v, shop.main)),
        other => panic!("expected a mismatch, got {other:?}"),
    }
    counted.expected_stock = Some(4);
    let committed = store
        .commit(&shop.tenant, changes(vec![counted]))
        .await
        .expect("the expected stock matches");
    assert_eq!(
        committed.applied[0].movement.as_ref().unwrap().stock_after,
        5
    );

    let ghost = domain::ids::VariantId::new();
    match store
        .commit(
            &shop.tenant,
            changes(vec![change(&ghost, &shop.main, MovementKind::Sale, -1)]),
        )
        .await
    {
        Err(LedgerError::VariantMissing(id)) => assert_eq!(id, ghost),
        other => panic!("expected a missing variant, got {other:?}"),
    }

    let placed = order(&shop, &[(v, 1)]);
    store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![change(&v, &shop.main, MovementKind::Sale, -1)],
                document: DocumentWrite::InsertOrder(placed.clone()),
                idempotency: None,
            },
        )
        .await
        .expect("place");
    let mut cancelled = placed.clone();
    cancelled.status = OrderStatus::Cancelled;
    cancelled.version = 2;
    let stale = store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![change(&v, &shop.main, MovementKind::Return, 1)],
                document: DocumentWrite::UpdateOrder {
                    order: cancelled.clone(),
                    expected_version: 7,
                },
                idempotency: None,
            },
        )
        .await;
    assert!(
        matches!(stale, Err(LedgerError::Store(StoreError::VersionConflict))),
        "{stale:?}"
    );
    assert_eq!(
        shop.stock(store, &v).await,
        4,
        "the stale write returned nothing"
    );
    store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![change(&v, &shop.main, MovementKind::Return, 1)],
                document: DocumentWrite::UpdateOrder {
                    order: cancelled.clone(),
                    expected_version: 1,
                },
                idempotency: None,
            },
        )
        .await
        .expect("current version");
    assert_eq!(
        store.get(&shop.tenant, &placed.id).await.unwrap(),
        Some(cancelled)
    );
    assert_eq!(shop.stock(store, &v).await, 5);
    db.drop().await;
}

/// The user who sends this file's idempotency keys.
fn sender() -> UserId {
    "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a02".parse().unwrap()
}
