//! The start-up migration to locations, on documents inserted raw in the shape the version before
//! locations wrote, run by two store instances at the same time.

use std::collections::BTreeMap;

use chrono::Duration;
use domain::auth::models::Tenant;
use domain::catalog::models::VariantLevel;
use domain::catalog::ports::VariantRepository;
use domain::ids::{MovementId, OrderId, PurchaseOrderId, SupplierId, UserId, VariantId};
use domain::locations::ports::LocationRepository;
use domain::orders::models::{Allocation, OrderStatus};
use domain::orders::ports::OrderRepository;
use domain::pagination::PageRequest;
use domain::purchasing::models::PurchaseOrderStatus;
use domain::purchasing::ports::PurchaseOrderRepository;
use domain::stock::models::{MovementFilter, MovementKind};
use domain::stock::ports::LedgerRepository;
use domain::stock::state::{Claims, StockState};
use infra_mongo::{
    default_location_id, LegacyMovement, LegacyOrder, LegacyOrderLine, LegacyPurchaseLine,
    LegacyPurchaseOrder, LegacyRows, LegacyVariant, MongoStore,
};

use crate::support::{change, changes, now, product, tenant, user, TestDb};

fn movement(kind: MovementKind, quantity: i64, stock_after: i64, actor: UserId) -> LegacyMovement {
    LegacyMovement {
        id: MovementId::new(),
        kind,
        quantity,
        stock_after,
        reason: None,
        order_id: None,
        purchase_order_id: None,
        unit_cost: (kind == MovementKind::Purchase).then_some(250),
        actor,
        created_at: now() - Duration::days(3),
    }
}

fn legacy_variant(
    t: &Tenant,
    product: &domain::catalog::models::Product,
    sku: &str,
    movements: Vec<LegacyMovement>,
) -> LegacyVariant {
    LegacyVariant {
        id: VariantId::new(),
        product_id: product.id,
        sku: sku.to_owned(),
        attributes: BTreeMap::from([("size".to_owned(), "M".to_owned())]),
        price: 1500,
        reorder_level: 2,
        stock: movements.iter().map(|m| m.quantity).sum(),
        created_at: t.created_at,
        updated_at: t.created_at,
        movements,
    }
}

/// A legacy tenant: a stocked variant with an open purchase order and a partly returned order,
/// a variant sold out, a variant never stocked.
fn shop(slug: &str) -> LegacyRows {
    let mut t = tenant(slug);
    t.created_at = now() - Duration::days(30);
    let owner = user(&t.id, "owner@example.com");
    let p = product(&t.id);
    let actor = owner.id;
    let stocked = legacy_variant(
        &t,
        &p,
        "STOCKED",
        vec![
            movement(MovementKind::Purchase, 10, 10, actor),
            movement(MovementKind::Sale, -3, 7, actor),
        ],
    );
    let sold_out = legacy_variant(
        &t,
        &p,
        "SOLD-OUT",
        vec![
            movement(MovementKind::Purchase, 2, 2, actor),
            movement(MovementKind::Sale, -2, 0, actor),
        ],
    );
    let never = legacy_variant(&t, &p, "NEVER", Vec::new());
    LegacyRows {
        purchase_orders: vec![LegacyPurchaseOrder {
            id: PurchaseOrderId::new(),
            supplier_id: SupplierId::new(),
            supplier_name: "Acme Supplies".to_owned(),
            status: PurchaseOrderStatus::Ordered,
            lines: vec![LegacyPurchaseLine {
                variant_id: stocked.id,
                quantity: 5,
                unit_cost: 250,
                received: 0,
            }],
            created_by: actor,
            created_at: now() - Duration::days(2),
            version: 2,
        }],
        orders: vec![LegacyOrder {
            id: OrderId::new(),
            status: OrderStatus::PartiallyReturned,
            lines: vec![LegacyOrderLine {
                variant_id: stocked.id,
                sku: "STOCKED".to_owned(),
                quantity: 3,
                unit_price: 1500,
                returned: 1,
            }],
            placed_by: actor,
            created_at: now() - Duration::days(1),
            version: 3,
        }],
        variants: vec![stocked, sold_out, never],
        products: vec![p],
        owner,
        tenant: t,
    }
}

/// Every assertion about one migrated legacy tenant.
async fn check_migrated(store: &MongoStore, rows: &LegacyRows) {
    let tenant = rows.tenant.id;
    let locations = store.all(&tenant).await.unwrap();
    assert_eq!(locations.len(), 1, "one default location: {locations:?}");
    let main = &locations[0];
    assert_eq!(main.id, default_location_id(&tenant));
    assert!(main.is_default && main.active);
    assert_eq!((main.code.as_str(), main.name.as_str()), ("MAIN", "Main"));
    assert_eq!(main.priority.get(), 0);
    assert_eq!(main.created_at, rows.tenant.created_at);

    let [stocked, sold_out, never] = &rows.variants[..] else {
        panic!("three legacy variants");
    };
    let read = |id: VariantId| async move {
        VariantRepository::get(store, &tenant, &id)
            .await
            .unwrap()
            .expect("the variant survives")
    };
    let v = read(stocked.id).await;
    assert_eq!(v.stock, 7);
    assert_eq!(
        v.levels,
        vec![VariantLevel::new(
            main.id,
            StockState::new(7, Claims::default()),
            5
        )]
    );
    assert_eq!((v.incoming, v.in_transit), (5, 0));
    assert_eq!(
        v.attributes.as_map().get("size").map(String::as_str),
        Some("M")
    );
    let v = read(sold_out.id).await;
    assert_eq!(
        v.levels,
        vec![VariantLevel::new(main.id, StockState::default(), 0)],
        "a variant that moved has a level even when empty"
    );
    assert!(
        read(never.id).await.levels.is_empty(),
        "a variant never stocked has none"
    );

    let movements = store
        .list_movements(&tenant, &MovementFilter::default(), &PageRequest::first(50))
        .await
        .unwrap()
        .items;
    assert_eq!(movements.len(), 4);
    assert!(movements
        .iter()
        .all(|m| m.location_id == main.id && m.transfer_id.is_none()));
    let at_main = store
        .list_movements(
            &tenant,
            &MovementFilter {
                location_id: Some(main.id),
                ..Default::default()
            },
            &PageRequest::first(50),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(at_main.len(), 4, "listed by location");

    let po = PurchaseOrderRepository::get(store, &tenant, &rows.purchase_orders[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((po.location_id, po.version), (main.id, 2));
    let order = OrderRepository::get(store, &tenant, &rows.orders[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.location_id, None);
    assert!(
        order.sold_at_placement,
        "an order stored before orders committed units sold them when placed"
    );
    assert_eq!(
        order.lines[0].allocations,
        vec![Allocation {
            location_id: main.id,
            quantity: 3,
            returned: 1
        }]
    );

    let audit = store.audit(&tenant).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);
    assert_eq!((audit.variants_checked, audit.levels_checked), (3, 2));
}

#[tokio::test]
async fn two_instances_migrate_legacy_documents_at_once_into_one_default_location() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let first = MongoStore::connect(db.url()).await.expect("first instance");
    let second = MongoStore::connect(db.url())
        .await
        .expect("second instance");
    let (a, b) = (shop("legacy-a"), shop("legacy-b"));
    first.insert_legacy(&a).await.unwrap();
    second.insert_legacy(&b).await.unwrap();

    let (x, y) = tokio::join!(first.migrate_locations(), second.migrate_locations());
    x.expect("first migration");
    y.expect("second migration");
    check_migrated(&first, &a).await;
    check_migrated(&second, &b).await;
    assert_ne!(
        default_location_id(&a.tenant.id),
        default_location_id(&b.tenant.id)
    );

    // Running it again, and starting again, changes nothing.
    first.migrate_locations().await.expect("a third run");
    let restarted = MongoStore::connect(db.url()).await.expect("restart");
    check_migrated(&restarted, &a).await;

    // The migrated level takes ledger writes like any other.
    let main = default_location_id(&a.tenant.id);
    let stocked = a.variants[0].id;
    let committed = restarted
        .commit(
            &a.tenant.id,
            changes(vec![change(&stocked, &main, MovementKind::Sale, -7)]),
        )
        .await
        .expect("sell the migrated units");
    let applied = &committed.applied[0];
    assert_eq!(applied.movement.as_ref().unwrap().stock_after, 0);
    assert_eq!(applied.total_after.on_hand, 0);
    assert!(restarted
        .audit(&a.tenant.id)
        .await
        .unwrap()
        .drift
        .is_empty());
    db.drop().await;
}
