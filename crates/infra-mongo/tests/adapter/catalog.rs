//! Catalog records: unique SKUs, tenant scoping, guarded deletes and what the server computes
//! on read (incoming units, low stock).

use domain::catalog::models::VariantFilter;
use domain::catalog::ports::{ProductRepository, VariantRepository};
use domain::idempotency::{IdempotencyRepository, IdempotencyWrite, StoredResponse};
use domain::ids::{PurchaseOrderId, UserId};
use domain::pagination::PageRequest;
use domain::purchasing::models::{PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus};
use domain::stock::models::{DocumentWrite, LedgerError, LedgerWrite, MovementKind};
use domain::stock::ports::LedgerRepository;
use domain::values::{Money, Sku};
use domain::StoreError;

use crate::support::{change, changes, now, variant, Shop, TestDb};

#[tokio::test]
async fn a_sku_is_unique_within_a_tenant_only() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "first-shop").await;
    let other = Shop::open(store, "second-shop").await;
    shop.variant(store, "TS-RED-M", 0).await;

    let twin = variant(&shop.tenant, &shop.product, "TS-RED-M");
    let dup = VariantRepository::insert(store, &shop.tenant, &twin, None).await;
    assert!(matches!(dup, Err(StoreError::Duplicate)), "{dup:?}");
    assert_eq!(
        VariantRepository::get(store, &shop.tenant, &twin.id)
            .await
            .unwrap(),
        None
    );

    let elsewhere = variant(&other.tenant, &other.product, "TS-RED-M");
    VariantRepository::insert(store, &other.tenant, &elsewhere, None)
        .await
        .expect("another tenant may use the same SKU");

    // Renaming onto a taken SKU is refused too.
    let mut renamed = variant(&shop.tenant, &shop.product, "TS-BLUE-M");
    VariantRepository::insert(store, &shop.tenant, &renamed, None)
        .await
        .unwrap();
    renamed.sku = Sku::new("TS-RED-M").unwrap();
    let clash = VariantRepository::update(store, &shop.tenant, &renamed, None).await;
    assert!(matches!(clash, Err(StoreError::Duplicate)), "{clash:?}");
    db.drop().await;
}

#[tokio::test]
async fn another_tenants_ids_find_nothing() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let mine = Shop::open(store, "mine").await;
    let theirs = Shop::open(store, "theirs").await;
    let v = mine.variant(store, "MINE-1", 3).await;

    assert_eq!(
        VariantRepository::get(store, &theirs.tenant, &v)
            .await
            .unwrap(),
        None
    );
    assert!(VariantRepository::get_many(store, &theirs.tenant, &[v])
        .await
        .unwrap()
        .is_empty());
    let listed = VariantRepository::list(
        store,
        &theirs.tenant,
        &VariantFilter::default(),
        &PageRequest::first(50),
    )
    .await
    .unwrap();
    assert!(listed.items.is_empty());
    assert_eq!(
        ProductRepository::get(store, &theirs.tenant, &mine.product)
            .await
            .unwrap(),
        None
    );
    let mut stolen = VariantRepository::get(store, &mine.tenant, &v)
        .await
        .unwrap()
        .unwrap();
    stolen.price = Money::new(1).unwrap();
    assert!(matches!(
        VariantRepository::update(store, &theirs.tenant, &stolen, None).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        VariantRepository::delete(store, &theirs.tenant, &v, None).await,
        Err(StoreError::NotFound)
    ));
    match store
        .commit(
            &theirs.tenant,
            changes(vec![change(&v, &theirs.main, MovementKind::Sale, -1)]),
        )
        .await
    {
        Err(LedgerError::VariantMissing(id)) => assert_eq!(id, v),
        other => panic!("another tenant's variant was touched: {other:?}"),
    }
    assert_eq!(mine.stock(store, &v).await, 3);
    assert_eq!(
        store.audit(&theirs.tenant).await.unwrap().variants_checked,
        0
    );
    db.drop().await;
}

#[tokio::test]
async fn an_insert_under_a_live_idempotency_key_writes_nothing() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "keys").await;
    let record = |key: &str| IdempotencyWrite {
        user_id: sender(),
        key: key.to_owned(),
        fingerprint: "fp".to_owned(),
        response: StoredResponse {
            status: 201,
            body: b"{\"id\":1}".to_vec(),
        },
        created_at: now(),
        expires_at: now() + chrono::Duration::hours(24),
    };
    let first = variant(&shop.tenant, &shop.product, "K-1");
    VariantRepository::insert(store, &shop.tenant, &first, Some(record("k")))
        .await
        .unwrap();
    let second = variant(&shop.tenant, &shop.product, "K-2");
    let taken = VariantRepository::insert(store, &shop.tenant, &second, Some(record("k"))).await;
    assert!(
        matches!(taken, Err(StoreError::IdempotencyKeyTaken)),
        "{taken:?}"
    );
    assert_eq!(
        VariantRepository::get(store, &shop.tenant, &second.id)
            .await
            .unwrap(),
        None
    );
    let stored = store
        .find(&shop.tenant, &sender(), "k", now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.response.body, b"{\"id\":1}");

    // An expired record of the key is replaced, not a conflict.
    let mut old = record("old");
    old.created_at = now() - chrono::Duration::hours(30);
    old.expires_at = now() - chrono::Duration::hours(6);
    let third = variant(&shop.tenant, &shop.product, "K-3");
    VariantRepository::insert(store, &shop.tenant, &third, Some(old))
        .await
        .unwrap();
    assert_eq!(
        store
            .find(&shop.tenant, &sender(), "old", now())
            .await
            .unwrap(),
        None,
        "expired"
    );
    let fourth = variant(&shop.tenant, &shop.product, "K-4");
    VariantRepository::insert(store, &shop.tenant, &fourth, Some(record("old")))
        .await
        .expect("the expired record gives way");
    db.drop().await;
}

#[tokio::test]
async fn stocked_records_are_not_deleted() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "deletes").await;
    let stocked = shop.variant(store, "FULL", 2).await;
    let empty = shop.variant(store, "EMPTY", 0).await;

    assert!(matches!(
        VariantRepository::delete(store, &shop.tenant, &stocked, None).await,
        Err(StoreError::InUse)
    ));
    assert!(matches!(
        ProductRepository::delete(store, &shop.tenant, &shop.product, None).await,
        Err(StoreError::InUse)
    ));
    assert!(VariantRepository::get(store, &shop.tenant, &empty)
        .await
        .unwrap()
        .is_some());

    VariantRepository::delete(store, &shop.tenant, &empty, None)
        .await
        .unwrap();
    assert!(matches!(
        VariantRepository::delete(store, &shop.tenant, &empty, None).await,
        Err(StoreError::NotFound)
    ));
    store
        .commit(
            &shop.tenant,
            changes(vec![change(&stocked, &shop.main, MovementKind::Sale, -2)]),
        )
        .await
        .unwrap();
    ProductRepository::delete(store, &shop.tenant, &shop.product, None)
        .await
        .expect("no stock left");
    assert_eq!(
        VariantRepository::get(store, &shop.tenant, &stocked)
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        ProductRepository::delete(store, &shop.tenant, &shop.product, None).await,
        Err(StoreError::NotFound)
    ));
    db.drop().await;
}

#[tokio::test]
async fn incoming_low_stock_and_pages_are_computed_by_the_server() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "computed").await;
    let low = shop.variant(store, "LOW", 2).await; // reorder level 2
    let high = shop.variant(store, "HIGH", 9).await;
    let purchase_order = |status, lines: Vec<PurchaseOrderLine>| PurchaseOrder {
        id: PurchaseOrderId::new(),
        tenant_id: shop.tenant,
        supplier_id: shop.supplier,
        location_id: shop.main,
        status,
        lines,
        expected_at: None,
        created_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
        version: 1,
    };
    let line = |v, quantity, received| PurchaseOrderLine {
        variant_id: v,
        quantity,
        unit_cost: Money::new(500).unwrap(),
        received,
    };
    for po in [
        purchase_order(
            PurchaseOrderStatus::Ordered,
            vec![line(low, 10, 0), line(high, 4, 0)],
        ),
        purchase_order(
            PurchaseOrderStatus::PartiallyReceived,
            vec![line(low, 6, 5)],
        ),
        purchase_order(PurchaseOrderStatus::Draft, vec![line(low, 100, 0)]),
        purchase_order(PurchaseOrderStatus::Received, vec![line(low, 7, 7)]),
    ] {
        store
            .commit(
                &shop.tenant,
                LedgerWrite {
                    changes: vec![],
                    document: DocumentWrite::InsertPurchaseOrder(po),
                    idempotency: None,
                },
            )
            .await
            .unwrap();
    }
    let read = VariantRepository::get(store, &shop.tenant, &low)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        read.incoming, 11,
        "10 ordered + 1 still due; drafts and received don't count"
    );
    let both = VariantRepository::get_many(store, &shop.tenant, &[low, high])
        .await
        .unwrap();
    let high_read = both.iter().find(|v| v.id == high).unwrap();
    assert_eq!(high_read.incoming, 4);
    assert_eq!(
        read.attributes.as_map().get("$odd.key").map(String::as_str),
        Some("kept as is")
    );

    let lows = VariantRepository::list(
        store,
        &shop.tenant,
        &VariantFilter {
            low_stock: true,
            ..Default::default()
        },
        &PageRequest::first(50),
    )
    .await
    .unwrap();
    assert_eq!(
        lows.items.iter().map(|v| v.id).collect::<Vec<_>>(),
        vec![low]
    );
    assert_eq!(lows.items[0].incoming, 11);

    let first = VariantRepository::list(
        store,
        &shop.tenant,
        &VariantFilter::default(),
        &PageRequest::first(1),
    )
    .await
    .unwrap();
    assert_eq!(first.items[0].id, low, "oldest first");
    let cursor = first.next_cursor.expect("a second page");
    let second = VariantRepository::list(
        store,
        &shop.tenant,
        &VariantFilter::default(),
        &PageRequest::parse(Some(1), Some(&cursor)).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(second.items[0].id, high);
    assert_eq!(second.next_cursor, None);
    db.drop().await;
}

/// The units incoming are kept on the variant document by every purchase-order write (ordering,
/// a line edit, a receipt, a stale write that changes nothing, a cancel of a partly received
/// order), read from it alone, and counted again from the purchase orders by the migration.
#[tokio::test]
async fn incoming_is_kept_by_every_purchase_order_write_and_recounted_by_the_migration() {
    use domain::locations::models::LevelFilter;
    use domain::locations::ports::LocationRepository;
    use mongodb::bson::doc;

    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "kept-incoming").await;
    let (a, b) = (
        shop.variant(store, "KEPT-A", 0).await,
        shop.variant(store, "KEPT-B", 0).await,
    );
    let line = |v, quantity, received| PurchaseOrderLine {
        variant_id: v,
        quantity,
        unit_cost: Money::new(500).unwrap(),
        received,
    };
    let mut po = PurchaseOrder {
        id: PurchaseOrderId::new(),
        tenant_id: shop.tenant,
        supplier_id: shop.supplier,
        location_id: shop.main,
        status: PurchaseOrderStatus::Draft,
        lines: vec![line(a, 5, 0), line(b, 3, 0)],
        expected_at: None,
        created_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
        version: 1,
    };
    let write = |document| LedgerWrite {
        changes: vec![],
        document,
        idempotency: None,
    };
    let incoming = |id| async move {
        VariantRepository::get(store, &shop.tenant, &id)
            .await
            .unwrap()
            .unwrap()
            .incoming
    };
    store
        .commit(
            &shop.tenant,
            write(DocumentWrite::InsertPurchaseOrder(po.clone())),
        )
        .await
        .unwrap();
    assert_eq!((incoming(a).await, incoming(b).await), (0, 0), "a draft");

    // Each step replaces the order at its version and moves the variants by what changed.
    let step = |po: &mut PurchaseOrder, status, lines| {
        po.status = status;
        po.lines = lines;
        po.version += 1;
        write(DocumentWrite::UpdatePurchaseOrder {
            purchase_order: po.clone(),
            expected_version: po.version - 1,
        })
    };
    let ordered = step(
        &mut po,
        PurchaseOrderStatus::Ordered,
        vec![line(a, 5, 0), line(b, 3, 0)],
    );
    store.commit(&shop.tenant, ordered).await.unwrap();
    assert_eq!((incoming(a).await, incoming(b).await), (5, 3), "ordered");

    let edited = step(&mut po, PurchaseOrderStatus::Ordered, vec![line(a, 8, 0)]);
    store.commit(&shop.tenant, edited).await.unwrap();
    assert_eq!(
        (incoming(a).await, incoming(b).await),
        (8, 0),
        "b's line removed"
    );

    let received = step(
        &mut po,
        PurchaseOrderStatus::PartiallyReceived,
        vec![line(a, 8, 3)],
    );
    store.commit(&shop.tenant, received).await.unwrap();
    assert_eq!(incoming(a).await, 5, "3 of 8 received");

    let stale = write(DocumentWrite::UpdatePurchaseOrder {
        purchase_order: PurchaseOrder {
            status: PurchaseOrderStatus::Cancelled,
            ..po.clone()
        },
        expected_version: po.version - 1,
    });
    let refused = store.commit(&shop.tenant, stale).await;
    assert!(
        matches!(
            refused,
            Err(LedgerError::Store(StoreError::VersionConflict))
        ),
        "{refused:?}"
    );
    assert_eq!(incoming(a).await, 5, "a refused write moves nothing");

    let cancelled = step(&mut po, PurchaseOrderStatus::Cancelled, vec![line(a, 8, 3)]);
    store.commit(&shop.tenant, cancelled).await.unwrap();
    let read = VariantRepository::get(store, &shop.tenant, &a)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.incoming, 0);
    assert!(
        read.levels.is_empty(),
        "an entry at 0 is no level: {:?}",
        read.levels
    );
    let listed = LocationRepository::levels(
        store,
        &shop.tenant,
        &shop.main,
        &LevelFilter::default(),
        &PageRequest::first(10),
    )
    .await
    .unwrap();
    assert!(listed.items.is_empty(), "{:?}", listed.items);
    let stored = crate::support::raw_variant(&db, &a).await;
    assert_eq!(
        stored.get_document("incoming").unwrap(),
        &doc! { shop.main.to_string(): 0_i64 },
        "kept in the document"
    );

    // A database from before the map: a variant without it, another with a wrong count.
    let open = PurchaseOrder {
        id: PurchaseOrderId::new(),
        status: PurchaseOrderStatus::Ordered,
        lines: vec![line(a, 4, 0)],
        version: 1,
        ..po.clone()
    };
    store
        .commit(
            &shop.tenant,
            write(DocumentWrite::InsertPurchaseOrder(open)),
        )
        .await
        .unwrap();
    crate::support::collection(&db, "variants")
        .await
        .update_one(
            doc! { "_id": a.to_string() },
            doc! { "$unset": { "incoming": "" } },
        )
        .await
        .unwrap();
    crate::support::set(
        &db,
        &b,
        doc! { "incoming": { shop.main.to_string(): 99_i64 } },
    )
    .await;
    assert_eq!((incoming(a).await, incoming(b).await), (0, 99));
    store.migrate_incoming().await.unwrap();
    assert_eq!(
        (incoming(a).await, incoming(b).await),
        (4, 0),
        "counted again"
    );
    db.drop().await;
}

/// The user who sends this file's idempotency keys.
fn sender() -> UserId {
    "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a02".parse().unwrap()
}
