//! The migration of a store written before stock was kept per location (through the harness's
//! [`crate::Migration`]): each tenant gets one default location holding every variant's stock,
//! movements are placed there, the audit finds nothing, and the store takes new writes.

use std::collections::BTreeMap;

use chrono::Duration;
use domain::auth::models::Role;
use domain::catalog::models::VariantLevel;
use domain::ids::{MovementId, UserId, VariantId};
use domain::locations::models::{DEFAULT_LOCATION_CODE, DEFAULT_LOCATION_NAME};
use domain::pagination::PageRequest;
use domain::stock::models::{
    DocumentWrite, LedgerError, Level, MovementFilter, MovementKind, StockChange,
};
use domain::values::Attributes;
use domain::StoreError;

use crate::fixtures::*;
use crate::legacy::{LegacyData, LegacyMovement, LegacyVariant};
use crate::Stores;

/// A variant of `product` whose movements are `moves` (`(kind, quantity, days ago)`), oldest
/// first, with `stock_after` and `stock` following from them.
fn legacy_variant(
    product: domain::ids::ProductId,
    code: &str,
    moves: &[(MovementKind, i64, i64)],
    actor: UserId,
) -> LegacyVariant {
    let created = now() - Duration::days(60);
    let mut stock = 0;
    let movements = moves
        .iter()
        .map(|(kind, quantity, days_ago)| {
            stock += quantity;
            LegacyMovement {
                id: MovementId::new(),
                kind: *kind,
                quantity: *quantity,
                stock_after: stock,
                actor,
                created_at: now() - Duration::days(*days_ago),
            }
        })
        .collect();
    LegacyVariant {
        id: VariantId::new(),
        product_id: product,
        sku: format!("{code}-{}", unique()),
        attributes: BTreeMap::from([("size".to_owned(), "L".to_owned())]),
        price: 1250,
        reorder_level: 3,
        stock,
        created_at: created,
        updated_at: created + Duration::days(1),
        movements,
    }
}

/// A tenant of the old shape: a variant with stock, one sold out, one never moved, and one of
/// another product restocked by an adjustment and a return. Movements are made oldest first, so
/// their ids and their times agree on the order.
fn legacy_store() -> LegacyData {
    let mut tenant = tenant_record(&unique_slug());
    tenant.created_at = now() - Duration::days(90);
    let owner = user(tenant.id, "owner@legacy.example", Role::Owner);
    let (p, q) = (product(tenant.id, "Old stock"), product(tenant.id, "Older"));
    use MovementKind::*;
    let variants = vec![
        legacy_variant(
            p.id,
            "KEPT",
            &[(Purchase, 10, 30), (Sale, -3, 28)],
            owner.id,
        ),
        legacy_variant(p.id, "GONE", &[(Purchase, 2, 25), (Sale, -2, 24)], owner.id),
        legacy_variant(q.id, "IDLE", &[], owner.id),
        legacy_variant(
            q.id,
            "FOUND",
            &[(Adjustment, 4, 15), (Return, 1, 10)],
            owner.id,
        ),
    ];
    LegacyData {
        tenant,
        owner,
        products: vec![p, q],
        variants,
    }
}

pub async fn migration_moves_stock_to_one_default_location(s: Stores) {
    let Some(migrate) = s.migration() else {
        return;
    };
    let legacy = legacy_store();
    let m = Stores::from_repositories(migrate(legacy.clone()).await);
    let t = legacy.tenant.id;

    // Tenants, users and products come through as they were.
    assert_eq!(
        m.tenants.get(&t).await.unwrap(),
        Some(legacy.tenant.clone())
    );
    assert_eq!(
        m.users.get(&t, &legacy.owner.id).await.unwrap(),
        Some(legacy.owner.clone())
    );
    for p in &legacy.products {
        assert_eq!(m.products.get(&t, &p.id).await.unwrap().as_ref(), Some(p));
    }

    // Exactly one location, the default, as sign-up would have made it.
    let locations = m.locations.all(&t).await.unwrap();
    assert_eq!(locations.len(), 1, "{locations:?}");
    let main = locations[0].clone();
    assert!(main.is_default && main.active, "{main:?}");
    assert_eq!(main.tenant_id, t);
    assert_eq!(
        (main.code.as_str(), main.name.as_str(), main.priority.get()),
        (DEFAULT_LOCATION_CODE, DEFAULT_LOCATION_NAME, 0)
    );
    assert_eq!(
        m.locations.get(&t, &main.id).await.unwrap(),
        Some(main.clone())
    );

    // Each variant keeps its fields and its stock, now its one level at the default location;
    // a variant that never moved has no level.
    for old in &legacy.variants {
        let v = read_variant(&m, t, old.id).await;
        assert_eq!(v.product_id, old.product_id);
        assert_eq!(v.sku.as_str(), old.sku);
        assert_eq!(
            v.attributes,
            Attributes::new(old.attributes.clone()).unwrap()
        );
        assert_eq!(v.price.minor_units(), old.price);
        assert_eq!(v.reorder_level.get(), old.reorder_level);
        assert_eq!(
            (v.created_at, v.updated_at),
            (old.created_at, old.updated_at)
        );
        assert_eq!((v.stock, v.incoming, v.in_transit), (old.stock, 0, 0));
        let expected = if old.movements.is_empty() {
            vec![]
        } else {
            vec![VariantLevel::new(main.id, on_hand(old.stock), 0)]
        };
        assert_eq!(v.levels, expected, "{}", old.sku);
    }

    // Every movement is placed at the default location, otherwise as it was; newest first.
    let mut old_movements: Vec<(VariantId, &LegacyMovement)> = legacy
        .variants
        .iter()
        .flat_map(|v| v.movements.iter().map(move |m| (v.id, m)))
        .collect();
    old_movements.sort_by_key(|(_, m)| std::cmp::Reverse(m.id));
    let at_main = MovementFilter {
        location_id: Some(main.id),
        ..Default::default()
    };
    for filter in [MovementFilter::default(), at_main] {
        let listed = m
            .ledger
            .list_movements(&t, &filter, &PageRequest::first(50))
            .await
            .unwrap()
            .items;
        assert_eq!(listed.len(), old_movements.len());
        for (moved, (variant, old)) in listed.iter().zip(&old_movements) {
            assert_eq!(moved.id, old.id);
            assert_eq!((moved.tenant_id, moved.variant_id), (t, *variant));
            assert_eq!((moved.location_id, moved.transfer_id), (main.id, None));
            assert_eq!(
                (moved.kind, moved.quantity, moved.stock_after),
                (old.kind, old.quantity, old.stock_after)
            );
            assert_eq!((moved.actor, moved.created_at), (old.actor, old.created_at));
            assert_eq!(moved.reason, None);
            assert_eq!((moved.order_id, moved.purchase_order_id), (None, None));
            assert_eq!(moved.unit_cost, None);
        }
    }

    let audit = m.ledger.audit(&t).await.unwrap();
    assert_eq!((audit.variants_checked, audit.levels_checked), (4, 3));
    assert!(audit.drift.is_empty(), "{audit:?}");

    // A new order places against the default location and draws on the migrated level.
    let kept = &legacy.variants[0];
    let placed = order(t, main.id, &[(kept.id, 2)]);
    let commit = StockChange::commit(
        Level::new(kept.id, main.id),
        2,
        placed.id,
        UserId::new(),
        now(),
    );
    let mut write = changes(vec![commit]);
    write.document = DocumentWrite::InsertOrder(placed.clone());
    let committed = m.ledger.commit(&t, write).await.unwrap();
    let applied = &committed.applied[0];
    assert_eq!(
        (
            applied.before.on_hand,
            applied.after.on_hand,
            applied.after.available(),
            applied.total_after.available()
        ),
        (7, 7, 5, 5)
    );
    assert_eq!(applied.movement, None);
    assert_eq!(m.orders.get(&t, &placed.id).await.unwrap(), Some(placed));
    let short = change(kept.id, main.id, MovementKind::Sale, -6);
    match m.ledger.commit(&t, changes(vec![short])).await {
        Err(LedgerError::Insufficient(short)) => {
            assert_eq!(short[0].location_id, Some(main.id));
            assert_eq!((short[0].requested, short[0].available), (6, 5));
        }
        other => panic!("expected Insufficient, got {other:?}"),
    }
    // The default's code is taken like any other; other locations can be added beside it.
    let twin = location(t, DEFAULT_LOCATION_CODE);
    let refused = m.locations.insert(&t, &twin, None).await;
    assert!(matches!(refused, Err(StoreError::Duplicate)), "{refused:?}");
    let annex = new_location(&m, t, "ANNEX").await;
    assert_eq!(m.locations.all(&t).await.unwrap(), vec![main, annex]);
    let audit = m.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{audit:?}");
}
