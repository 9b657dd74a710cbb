//! Catalog records: unique SKUs, tenant scoping, guarded deletes and what the server computes
//! on read (incoming units, low stock).

use domain::catalog::models::VariantFilter;
use domain::catalog::ports::{ProductRepository, VariantRepository};
use domain::idempotency::{IdempotencyRepository, IdempotencyWrite, StoredResponse};
use domain::ids::{PurchaseOrderId, SupplierId, UserId};
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
    let clash = VariantRepository::update(store, &shop.tenant, &renamed).await;
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
        VariantRepository::update(store, &theirs.tenant, &stolen).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        VariantRepository::delete(store, &theirs.tenant, &v).await,
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
    let stored = store.find(&shop.tenant, "k", now()).await.unwrap().unwrap();
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
        store.find(&shop.tenant, "old", now()).await.unwrap(),
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
        VariantRepository::delete(store, &shop.tenant, &stocked).await,
        Err(StoreError::InUse)
    ));
    assert!(matches!(
        ProductRepository::delete(store, &shop.tenant, &shop.product).await,
        Err(StoreError::InUse)
    ));
    assert!(VariantRepository::get(store, &shop.tenant, &empty)
        .await
        .unwrap()
        .is_some());

    VariantRepository::delete(store, &shop.tenant, &empty)
        .await
        .unwrap();
    assert!(matches!(
        VariantRepository::delete(store, &shop.tenant, &empty).await,
        Err(StoreError::NotFound)
    ));
    store
        .commit(
            &shop.tenant,
            changes(vec![change(&stocked, &shop.main, MovementKind::Sale, -2)]),
        )
        .await
        .unwrap();
    ProductRepository::delete(store, &shop.tenant, &shop.product)
        .await
        .expect("no stock left");
    assert_eq!(
        VariantRepository::get(store, &shop.tenant, &stocked)
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        ProductRepository::delete(store, &shop.tenant, &shop.product).await,
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
        supplier_id: SupplierId::new(),
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
