//! Migrations on databases as older builds left them, migrated by opening the store, then read
//! through the ports: 0002 on a pre-location database (a tenant with stocked variants and their
//! movements, an open purchase order and a fulfilled order with a return), and 0005 on one at
//! schema version 4 (levels and movements from before unavailable states and holds).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use domain::catalog::models::VariantLevel;
use domain::catalog::ports::VariantRepository;
use domain::ids::{
    LocationId, MovementId, OrderId, ProductId, PurchaseOrderId, TenantId, UserId, VariantId,
};
use domain::locations::ports::LocationRepository;
use domain::orders::models::Allocation;
use domain::orders::ports::OrderRepository;
use domain::pagination::PageRequest;
use domain::purchasing::ports::PurchaseOrderRepository;
use domain::stock::models::{MovementFilter, MovementKind};
use domain::stock::ports::LedgerRepository;
use rusqlite::params;

use crate::test_support::{
    LegacyMovement, LegacyOwner, LegacyProduct, LegacyRows, LegacyTenant, LegacyVariant,
};
use crate::SqliteStore;

fn movement(
    kind: MovementKind,
    quantity: i64,
    stock_after: i64,
    at: DateTime<Utc>,
) -> LegacyMovement {
    LegacyMovement {
        id: MovementId::new(),
        kind,
        quantity,
        stock_after,
        actor: UserId::new(),
        created_at: at,
    }
}

fn variant(
    product: ProductId,
    sku: &str,
    stock: i64,
    movements: Vec<LegacyMovement>,
    at: DateTime<Utc>,
) -> LegacyVariant {
    LegacyVariant {
        id: VariantId::new(),
        product_id: product,
        sku: sku.into(),
        attributes: BTreeMap::from([("size".to_owned(), "M".to_owned())]),
        price: 1999,
        reorder_level: 2,
        stock,
        created_at: at,
        updated_at: at,
        movements,
    }
}

/// A tenant with three variants: stocked with movements, emptied by its movements, and never
/// stocked.
fn legacy(born: DateTime<Utc>) -> LegacyRows {
    let product = LegacyProduct {
        id: ProductId::new(),
        name: "Tee".into(),
        description: None,
        created_at: born,
        updated_at: born,
    };
    let later = born + Duration::minutes(1);
    LegacyRows {
        tenant: LegacyTenant {
            id: TenantId::new(),
            slug: "old-shop".into(),
            name: "Old Shop".into(),
            created_at: born,
        },
        owner: LegacyOwner {
            id: UserId::new(),
            email: "owner@old.example".into(),
            name: "Olive Owner".into(),
            role: "OWNER".into(),
            active: true,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            created_at: born,
            updated_at: born,
        },
        variants: vec![
            variant(
                product.id,
                "TEE-M",
                7,
                vec![
                    movement(MovementKind::Purchase, 10, 10, later),
                    movement(MovementKind::Sale, -3, 7, later + Duration::seconds(1)),
                ],
                born,
            ),
            variant(
                product.id,
                "TEE-L",
                0,
                vec![
                    movement(MovementKind::Adjustment, 2, 2, later),
                    movement(MovementKind::Sale, -2, 0, later + Duration::seconds(2)),
                ],
                born,
            ),
            variant(product.id, "TEE-S", 0, Vec::new(), born),
        ],
        products: vec![product],
    }
}

/// An ORDERED purchase order of 5 units of `variant`, 1 received, and a fulfilled order of 3
/// units with 1 returned, written with the version-1 statements.
fn legacy_documents(
    path: &Path,
    tenant: TenantId,
    variant: VariantId,
) -> (PurchaseOrderId, OrderId) {
    let (po, order) = (PurchaseOrderId::new(), OrderId::new());
    let conn = rusqlite::Connection::open(path).unwrap();
    let (t, v, at) = (
        tenant.to_string(),
        variant.to_string(),
        Utc::now().timestamp_millis(),
    );
    conn.execute(
        "INSERT INTO purchase_orders (id, tenant_id, supplier_id, status, expected_at, created_by,
                                      created_at, updated_at, version)
         VALUES (?1, ?2, ?3, 'ORDERED', NULL, ?4, ?5, ?5, 2)",
        params![
            po.to_string(),
            t,
            uuid::Uuid::now_v7().to_string(),
            UserId::new().to_string(),
            at
        ],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO purchase_order_lines (purchase_order_id, position, tenant_id, variant_id,
                                           quantity, unit_cost, received)
         VALUES (?1, 0, ?2, ?3, 5, 250, 1)",
        params![po.to_string(), t, v],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO orders (id, tenant_id, status, customer_name, customer_email, note, total,
                             placed_by, created_at, updated_at, version)
         VALUES (?1, ?2, 'PARTIALLY_RETURNED', NULL, NULL, NULL, 1500, ?3, ?4, ?4, 3)",
        params![order.to_string(), t, UserId::new().to_string(), at],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO order_lines (order_id, position, tenant_id, variant_id, sku, quantity,
                                  unit_price, line_total, returned)
         VALUES (?1, 0, ?2, ?3, 'TEE-M', 3, 500, 1500, 1)",
        params![order.to_string(), t, v],
    )
    .unwrap();
    (po, order)
}

#[tokio::test]
async fn existing_data_moves_to_each_tenants_default_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old").join("stockroom.db");
    let born = (Utc::now() - Duration::days(30)).trunc_subsecs(3);
    let rows = legacy(born);
    let tenant = rows.tenant.id;
    let (stocked, emptied, never) = (
        rows.variants[0].id,
        rows.variants[1].id,
        rows.variants[2].id,
    );
    SqliteStore::legacy_fixture(&path, &rows).unwrap();
    let (po, order) = legacy_documents(&path, tenant, stocked);

    let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();

    // The tenant's default location, created when the tenant was, sorting before new ones.
    let locations = store.all(&tenant).await.unwrap();
    assert_eq!(locations.len(), 1);
    let main = &locations[0];
    assert!(main.is_default && main.active);
    assert_eq!((main.name.as_str(), main.code.as_str()), ("Main", "MAIN"));
    assert_eq!((main.priority.get(), main.created_at), (0, born));
    assert!(main.id < LocationId::new());

    // Stock becomes the default's level; a variant with movements keeps an (empty) level.
    let read = |id| {
        let store = store.clone();
        async move {
            VariantRepository::get(&store, &tenant, &id)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let v = read(stocked).await;
    assert_eq!((v.stock, v.incoming, v.in_transit), (7, 4, 0));
    let level = |stock, incoming| {
        VariantLevel::new(
            main.id,
            domain::stock::state::StockState::new(stock, Default::default()),
            incoming,
        )
    };
    assert_eq!(v.levels, vec![level(7, 4)]);
    assert_eq!(read(emptied).await.levels, vec![level(0, 0)]);
    assert_eq!(read(never).await.levels, Vec::new());

    // Every movement is at the default location, with its level's stock after unchanged.
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
                variant_id: Some(stocked),
                location_id: Some(main.id),
                ..MovementFilter::default()
            },
            &PageRequest::first(50),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        at_main
            .iter()
            .map(|m| (m.quantity, m.stock_after))
            .collect::<Vec<_>>(),
        vec![(-3, 7), (10, 10)]
    );

    // The purchase order is bound for the default; the order was served from it.
    let po = PurchaseOrderRepository::get(&store, &tenant, &po)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((po.location_id, po.version), (main.id, 2));
    let order = OrderRepository::get(&store, &tenant, &order)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.location_id, None);
    assert!(
        order.sold_at_placement,
        "an order placed before orders committed units took them with a SALE when placed"
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
    assert_eq!((audit.variants_checked, audit.levels_checked), (3, 2));
    assert_eq!(audit.drift, Vec::new());
    assert_eq!(
        crate::migrate::version(&rusqlite::Connection::open(&path).unwrap()).unwrap(),
        crate::migrate::latest_version()
    );
}

#[test]
fn a_fixture_is_refused_on_a_migrated_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    crate::migrate::apply(&mut conn).unwrap();
    drop(conn);
    let err = SqliteStore::legacy_fixture(&path, &legacy(Utc::now().trunc_subsecs(3))).unwrap_err();
    assert!(err.to_string().contains("schema version"), "{err:#}");
}

/// Every column of every movement, as SQL reads it, in id order.
fn movement_rows(conn: &rusqlite::Connection) -> Vec<Vec<rusqlite::types::Value>> {
    let mut stmt = conn
        .prepare(
            "SELECT id, tenant_id, variant_id, location_id, kind, quantity, stock_after, reason,
                    order_id, purchase_order_id, transfer_id, unit_cost, actor, created_at
               FROM stock_movements ORDER BY id",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            (0..14)
                .map(|i| r.get(i))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap();
    rows.collect::<rusqlite::Result<_>>().unwrap()
}

/// Migration 0005 on a database as the build before it left it (schema version 4): levels gain
/// unavailable states at 0, every movement is kept as it was with unavailable changes of 0,
/// the ledger accepts MOVE, and the reservations and holds tables are there, indexed.
#[tokio::test]
async fn states_and_holds_migrate_existing_levels_and_movements_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    let born = (Utc::now() - Duration::days(3)).trunc_subsecs(3);
    let rows = legacy(born);
    let (tenant, stocked) = (rows.tenant.id, rows.variants[0].id);
    SqliteStore::legacy_fixture(&path, &rows).unwrap();
    let before = {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        crate::migrate::apply_through(&mut conn, 4).unwrap();
        assert_eq!(crate::migrate::version(&conn).unwrap(), 4);
        movement_rows(&conn)
    };
    assert_eq!(before.len(), 4);

    let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        crate::migrate::version(&conn).unwrap(),
        crate::migrate::latest_version()
    );
    assert_eq!(movement_rows(&conn), before, "every movement as it was");
    let unmoved: i64 = conn
        .query_row(
            "SELECT count(*) FROM stock_movements
              WHERE damaged = 0 AND quality_control = 0 AND safety_stock = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unmoved, 4);
    let indexes: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema
              WHERE type = 'index' AND tbl_name IN ('holds', 'reservations', 'stock_movements')
                AND name NOT LIKE 'sqlite_autoindex%'
              ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        indexes,
        [
            "holds_by_level",
            "movements_by_tenant",
            "movements_by_time",
            "movements_by_variant",
            "reservations_by_expiry",
            "reservations_by_status",
            "reservations_by_tenant",
        ]
    );
    // The CHECKs hold for the new states, as for on hand.
    let negative = conn.execute(
        "UPDATE stock_levels SET damaged = -1 WHERE variant_id = ?1",
        params![stocked.to_string()],
    );
    assert!(negative.is_err());
    drop(conn);

    let main = store.all(&tenant).await.unwrap()[0].id;
    let variant = VariantRepository::get(&store, &tenant, &stocked)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        variant.levels,
        vec![VariantLevel::new(
            main,
            domain::stock::state::StockState::new(7, Default::default()),
            0
        )]
    );
    let movements = store
        .list_movements(&tenant, &MovementFilter::default(), &PageRequest::first(50))
        .await
        .unwrap()
        .items;
    assert!(movements.iter().all(|m| m.unavailable.is_zero()));

    // A MOVE, a kind the old ledger refused, is recorded.
    let moved = store
        .commit(
            &tenant,
            domain::stock::models::LedgerWrite {
                changes: vec![domain::stock::models::StockChange::state_move(
                    domain::stock::models::Level::new(stocked, main),
                    domain::stock::state::UnitState::Available,
                    domain::stock::state::UnitState::Damaged,
                    2,
                    "dropped".into(),
                    UserId::new(),
                    Utc::now(),
                )],
                document: domain::stock::models::DocumentWrite::None,
                idempotency: None,
            },
        )
        .await
        .unwrap();
    let movement = moved.applied[0].movement.as_ref().unwrap();
    assert_eq!(
        (
            movement.kind,
            movement.quantity,
            movement.unavailable.damaged
        ),
        (MovementKind::Move, 0, 2)
    );
    let audit = store.audit(&tenant).await.unwrap();
    assert_eq!(audit.drift, Vec::new());
}
