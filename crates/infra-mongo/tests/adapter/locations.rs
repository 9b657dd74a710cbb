//! Levels kept inside the variant document (`levels.<location id>`), and the location port over
//! them: conditional writes on a level that does not exist yet, the total following its levels,
//! the audit of both, level listings, holdings, the default, transfers in transit.

use chrono::Duration;
use domain::catalog::ports::VariantRepository;
use domain::error::Shortage;
use domain::ids::{LocationId, PurchaseOrderId, TransferId, UserId, VariantId};
use domain::locations::models::{Holdings, LevelFilter, Location};
use domain::locations::ports::LocationRepository;
use domain::pagination::PageRequest;
use domain::purchasing::models::{PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus};
use domain::stock::models::{
    AuditedState, DocumentWrite, Drift, LedgerError, LedgerWrite, MovementKind,
};
use domain::stock::ports::LedgerRepository;
use domain::transfers::models::{Transfer, TransferLine, TransferStatus};
use domain::transfers::ports::TransferRepository;
use domain::values::{LocationCode, LocationPriority, Money, Text};
use domain::StoreError;
use infra_mongo::MongoStore;
use mongodb::bson::{doc, Document};

use crate::support::{change, changes, now, Shop, TestDb};

async fn location(store: &MongoStore, shop: &Shop, code: &str) -> LocationId {
    let l = Location {
        id: LocationId::new(),
        tenant_id: shop.tenant,
        name: Text::name(code).unwrap(),
        code: LocationCode::new(code).unwrap(),
        is_default: false,
        active: true,
        priority: LocationPriority::DEFAULT,
        created_at: now(),
        updated_at: now(),
    };
    LocationRepository::insert(store, &shop.tenant, &l, None)
        .await
        .expect("insert location");
    l.id
}

async fn raw_variant(db: &TestDb, id: &VariantId) -> Document {
    mongodb::Client::with_uri_str(db.url())
        .await
        .unwrap()
        .default_database()
        .unwrap()
        .collection::<Document>("variants")
        .find_one(doc! { "_id": id.to_string() })
        .await
        .unwrap()
        .expect("the variant document")
}

#[tokio::test]
async fn a_level_is_created_by_its_first_change_and_the_total_follows_every_level() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "levels").await;
    let back = location(store, &shop, "BACK").await;
    let v = shop.variant(store, "TS-1", 5).await;

    // Compare-and-set on a level the variant does not have yet: it holds 0.
    let mut counted = change(&v, &back, MovementKind::Adjustment, 3);
    counted.expected_stock = Some(0);
    let committed = store
        .commit(&shop.tenant, changes(vec![counted.clone()]))
        .await
        .expect("an absent level is at 0");
    let applied = &committed.applied[0];
    let movement = applied.movement.as_ref().expect("on hand moved");
    assert_eq!((movement.stock_after, applied.total_after.on_hand), (3, 8));
    assert_eq!((applied.before.on_hand, movement.location_id), (0, back));
    match store.commit(&shop.tenant, changes(vec![counted])).await {
        Err(LedgerError::StockMismatch {
            location_id,
            expected: 0,
            actual: 3,
            ..
        }) => assert_eq!(location_id, back),
        other => panic!("expected a mismatch, got {other:?}"),
    }

    // A shortage names the level; a level never stocked has 0 available.
    let elsewhere = LocationId::new();
    match store
        .commit(
            &shop.tenant,
            changes(vec![
                change(&v, &back, MovementKind::Sale, -4),
                change(&v, &elsewhere, MovementKind::Sale, -1),
            ]),
        )
        .await
    {
        Err(LedgerError::Insufficient(short)) => assert_eq!(
            short,
            vec![
                Shortage {
                    variant_id: v,
                    location_id: Some(back),
                    requested: 4,
                    available: 3
                },
                Shortage {
                    variant_id: v,
                    location_id: Some(elsewhere),
                    requested: 1,
                    available: 0
                },
            ]
        ),
        other => panic!("expected two shortages, got {other:?}"),
    }

    let read = VariantRepository::get(store, &shop.tenant, &v)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.stock, 8);
    assert_eq!(
        read.levels
            .iter()
            .map(|l| (l.location_id, l.stock))
            .collect::<Vec<_>>(),
        vec![(shop.main, 5), (back, 3)],
        "by location id"
    );
    let raw = raw_variant(&db, &v).await;
    assert_eq!(raw.get_i64("stock").unwrap(), 8);
    let levels = raw.get_document("levels").unwrap();
    assert_eq!(
        levels.len(),
        2,
        "no level for the refused location: {levels:?}"
    );
    assert_eq!(levels.get_i64(back.to_string()).unwrap(), 3);

    let audit = store.audit(&shop.tenant).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);
    assert_eq!((audit.variants_checked, audit.levels_checked), (1, 2));

    // A level changed behind the ledger: its drift, then the total's.
    mongodb::Client::with_uri_str(db.url())
        .await
        .unwrap()
        .default_database()
        .unwrap()
        .collection::<Document>("variants")
        .update_one(
            doc! { "_id": v.to_string() },
            doc! { "$set": { format!("levels.{back}"): 10_i64 } },
        )
        .await
        .unwrap();
    assert_eq!(
        store.audit(&shop.tenant).await.unwrap().drift,
        vec![
            Drift {
                variant_id: v,
                location_id: Some(back),
                state: AuditedState::OnHand,
                sku: "TS-1".into(),
                stock: 10,
                ledger_sum: 3
            },
            Drift {
                variant_id: v,
                location_id: None,
                state: AuditedState::OnHand,
                sku: "TS-1".into(),
                stock: 8,
                ledger_sum: 15
            },
        ]
    );
    db.drop().await;
}

fn purchase_order(shop: &Shop, to: LocationId, v: VariantId, quantity: i64) -> PurchaseOrder {
    PurchaseOrder {
        id: PurchaseOrderId::new(),
        tenant_id: shop.tenant,
        supplier_id: shop.supplier,
        location_id: to,
        status: PurchaseOrderStatus::Ordered,
        lines: vec![PurchaseOrderLine {
            variant_id: v,
            quantity,
            unit_cost: Money::new(100).unwrap(),
            received: 0,
        }],
        expected_at: None,
        created_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
        version: 1,
    }
}

#[tokio::test]
async fn a_location_lists_its_levels_and_holdings_and_can_become_the_default() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "holdings").await;
    let back = location(store, &shop, "BACK").await;
    let low = shop.variant(store, "LOW", 0).await; // reorder level 2
    let high = shop.variant(store, "HIGH", 0).await;
    let due = shop.variant(store, "DUE", 0).await;
    store
        .commit(
            &shop.tenant,
            changes(vec![
                change(&low, &back, MovementKind::Purchase, 1),
                change(&high, &back, MovementKind::Purchase, 9),
            ]),
        )
        .await
        .unwrap();
    store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![],
                document: DocumentWrite::InsertPurchaseOrder(purchase_order(&shop, back, due, 4)),
                idempotency: None,
            },
        )
        .await
        .unwrap();

    let all = LocationRepository::levels(
        store,
        &shop.tenant,
        &back,
        &LevelFilter::default(),
        &PageRequest::first(2),
    )
    .await
    .unwrap();
    assert_eq!(
        all.items
            .iter()
            .map(|l| (l.variant_id, l.stock, l.incoming))
            .collect::<Vec<_>>(),
        vec![(low, 1, 0), (high, 9, 0)]
    );
    let rest = LocationRepository::levels(
        store,
        &shop.tenant,
        &back,
        &LevelFilter::default(),
        &PageRequest::parse(Some(2), all.next_cursor.as_deref()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        rest.items
            .iter()
            .map(|l| (l.variant_id, l.stock, l.incoming, l.sku.as_str()))
            .collect::<Vec<_>>(),
        vec![(due, 0, 4, "DUE")],
        "incoming units list a variant before its first unit arrives"
    );
    let lows = LocationRepository::levels(
        store,
        &shop.tenant,
        &back,
        &LevelFilter { low_stock: true },
        &PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(
        lows.items.iter().map(|l| l.variant_id).collect::<Vec<_>>(),
        vec![low, due]
    );
    assert!(LocationRepository::levels(
        store,
        &shop.tenant,
        &shop.main,
        &LevelFilter::default(),
        &PageRequest::first(10)
    )
    .await
    .unwrap()
    .items
    .is_empty());

    // Ship 5 of HIGH from BACK to MAIN: in transit, at neither end.
    let transfer = Transfer {
        id: TransferId::new(),
        tenant_id: shop.tenant,
        from_location_id: back,
        to_location_id: shop.main,
        status: TransferStatus::Shipped,
        lines: vec![TransferLine {
            variant_id: high,
            quantity: 5,
            received: 0,
        }],
        created_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
        shipped_at: Some(now()),
        version: 2,
    };
    let mut out = change(&high, &back, MovementKind::TransferOut, -5);
    out.transfer_id = Some(transfer.id);
    store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![out],
                document: DocumentWrite::InsertTransfer(transfer.clone()),
                idempotency: None,
            },
        )
        .await
        .unwrap();
    let read = VariantRepository::get(store, &shop.tenant, &high)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read.stock, read.in_transit), (4, 5));
    assert_eq!(
        TransferRepository::get(store, &shop.tenant, &transfer.id)
            .await
            .unwrap(),
        Some(transfer.clone())
    );
    assert_eq!(
        store.holdings(&shop.tenant, &back).await.unwrap(),
        Holdings {
            units: 5,
            in_transit_to: 0,
            open_purchase_orders: 1,
            draft_transfers: 0
        }
    );
    assert_eq!(
        store.holdings(&shop.tenant, &shop.main).await.unwrap(),
        Holdings {
            units: 0,
            in_transit_to: 5,
            open_purchase_orders: 0,
            draft_transfers: 0
        }
    );

    // A variant with nothing on hand but units in transit is not deleted.
    let mut rest_out = change(&high, &back, MovementKind::Adjustment, -4);
    rest_out.reason = Some("count".into());
    store
        .commit(&shop.tenant, changes(vec![rest_out]))
        .await
        .unwrap();
    assert!(matches!(
        VariantRepository::delete(store, &shop.tenant, &high, None).await,
        Err(StoreError::InUse)
    ));
    // A stale version of the transfer is refused.
    let mut received = transfer.clone();
    received.status = TransferStatus::Received;
    received.lines[0].received = 5;
    received.version = 3;
    let stale = store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![],
                document: DocumentWrite::UpdateTransfer {
                    transfer: received.clone(),
                    expected_version: 1,
                },
                idempotency: None,
            },
        )
        .await;
    assert!(
        matches!(stale, Err(LedgerError::Store(StoreError::VersionConflict))),
        "{stale:?}"
    );
    let mut arrive = change(&high, &shop.main, MovementKind::TransferIn, 5);
    arrive.transfer_id = Some(transfer.id);
    store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![arrive],
                document: DocumentWrite::UpdateTransfer {
                    transfer: received,
                    expected_version: 2,
                },
                idempotency: None,
            },
        )
        .await
        .unwrap();
    let read = VariantRepository::get(store, &shop.tenant, &high)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read.stock, read.in_transit), (5, 0));

    // The default moves in one write; an inactive or foreign location cannot take it.
    store
        .make_default(&shop.tenant, &back, now() + Duration::seconds(1))
        .await
        .unwrap();
    let defaults: Vec<LocationId> = store
        .all(&shop.tenant)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.is_default)
        .map(|l| l.id)
        .collect();
    assert_eq!(defaults, vec![back]);
    let mut main = LocationRepository::get(store, &shop.tenant, &shop.main)
        .await
        .unwrap()
        .unwrap();
    main.active = false;
    LocationRepository::update(store, &shop.tenant, &main, None)
        .await
        .unwrap();
    assert!(matches!(
        store.make_default(&shop.tenant, &shop.main, now()).await,
        Err(StoreError::NotFound)
    ));
    let other = Shop::open(store, "other-holdings").await;
    assert!(matches!(
        store.make_default(&other.tenant, &back, now()).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .all(&shop.tenant)
            .await
            .unwrap()
            .iter()
            .filter(|l| l.is_default)
            .count(),
        1
    );

    // Codes are unique per tenant only.
    let mut twin = main.clone();
    twin.id = LocationId::new();
    assert!(matches!(
        LocationRepository::insert(store, &shop.tenant, &twin, None).await,
        Err(StoreError::Duplicate)
    ));
    twin.tenant_id = other.tenant;
    let mut elsewhere = twin.clone();
    elsewhere.code = LocationCode::new("BACK").unwrap();
    LocationRepository::insert(store, &other.tenant, &elsewhere, None)
        .await
        .expect("another tenant may use the code");
    db.drop().await;
}
