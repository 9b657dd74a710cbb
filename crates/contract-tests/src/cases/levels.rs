//! Levels: stock kept per variant and location. Each change is judged against its own level
//! (a level the variant never had reads as 0), the variant's stock is the total of its levels,
//! reads list the levels by location id, and movements remember where they happened.

use domain::catalog::models::{VariantFilter, VariantLevel};
use domain::error::Shortage;
use domain::events::DomainEvent;
use domain::ids::{LocationId, VariantId};
use domain::pagination::PageRequest;
use domain::stock::models::{DocumentWrite, LedgerError, MovementFilter, MovementKind};
use domain::stock::reserve::stock_events;

use crate::fixtures::*;
use crate::Stores;

fn level(location_id: LocationId, stock: i64) -> VariantLevel {
    VariantLevel::new(location_id, on_hand(stock), 0)
}

pub async fn a_change_at_a_location_creates_its_level(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let v = stocked_variant(&s, t, main, &format!("NEW-{}", unique()), 0).await;
    assert_eq!((v.stock, v.levels.clone()), (0, vec![]));

    // A decrease at a level the variant never had finds nothing there.
    let sale = change(v.id, annex, MovementKind::Sale, -1);
    match s.ledger.commit(&t, changes(vec![sale])).await {
        Err(LedgerError::Insufficient(short)) => assert_eq!(
            short,
            vec![Shortage {
                variant_id: v.id,
                location_id: Some(annex),
                requested: 1,
                available: 0
            }]
        ),
        other => panic!("expected Insufficient, got {other:?}"),
    }
    // A compare-and-set on it compares with 0.
    let mut count = change(v.id, annex, MovementKind::Adjustment, 2);
    count.expected_stock = Some(3);
    match s.ledger.commit(&t, changes(vec![count])).await {
        Err(LedgerError::StockMismatch {
            variant_id,
            location_id,
            expected,
            actual,
        }) => assert_eq!(
            (variant_id, location_id, expected, actual),
            (v.id, annex, 3, 0)
        ),
        other => panic!("expected StockMismatch, got {other:?}"),
    }
    assert_eq!(levels_of(&s, t, v.id).await, vec![]);
    assert_eq!(movement_count(&s, t, v.id).await, 0);

    // An increase creates it, expected at 0 or not.
    let mut count = change(v.id, annex, MovementKind::Adjustment, 5);
    count.expected_stock = Some(0);
    let done = s.ledger.commit(&t, changes(vec![count])).await.unwrap();
    let applied = &done.applied[0];
    assert_eq!(applied.moved().location_id, annex);
    assert_eq!(
        (
            applied.stock_before(),
            applied.moved().stock_after,
            applied.total()
        ),
        (0, 5, 5)
    );
    stock_up(&s, t, v.id, main, 2).await;
    let read = read_variant(&s, t, v.id).await;
    assert_eq!(read.levels, vec![level(main, 2), level(annex, 5)]);
    assert_eq!(read.stock, 7);
    assert_eq!(movement_count(&s, t, v.id).await, 2);
}

/// Levels read back ordered by location id, whatever order they were made in, and the same on
/// every read (`get`, `get_many`, `list`); a level that went back to 0 stays listed.
pub async fn a_variants_stock_is_the_total_of_its_levels(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let (b, c) = (
        new_location(&s, t, "B").await.id,
        new_location(&s, t, "C").await.id,
    );
    let p = product(t, "Spread product");
    s.products.insert(&t, &p, None).await.unwrap();
    let v = variant_of(&s, t, p.id, main, &format!("SPREAD-{}", unique()), 0).await;
    let w = variant_of(&s, t, p.id, main, &format!("SINGLE-{}", unique()), 0).await;
    stock_up(&s, t, v.id, c, 4).await;
    stock_up(&s, t, v.id, main, 1).await;
    stock_up(&s, t, v.id, b, 2).await;
    stock_up(&s, t, w.id, b, 3).await;

    let expected_v = vec![level(main, 1), level(b, 2), level(c, 4)];
    let expected_w = vec![level(b, 3)];
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.levels.clone()), (7, expected_v.clone()));
    assert_eq!(read.in_transit, 0);
    let read = read_variant(&s, t, w.id).await;
    assert_eq!((read.stock, read.levels.clone()), (3, expected_w.clone()));

    let many = s.variants.get_many(&t, &[w.id, v.id]).await.unwrap();
    let levels_in = |variants: &[domain::catalog::models::Variant], id: VariantId| {
        let found = variants.iter().find(|x| x.id == id).expect("listed");
        (found.stock, found.levels.clone())
    };
    assert_eq!(levels_in(&many, v.id), (7, expected_v.clone()));
    assert_eq!(levels_in(&many, w.id), (3, expected_w.clone()));
    let of_product = VariantFilter {
        product_id: Some(p.id),
        ..Default::default()
    };
    let listed = s
        .variants
        .list(&t, &of_product, &PageRequest::first(10))
        .await
        .unwrap()
        .items;
    assert_eq!(levels_in(&listed, v.id), (7, expected_v));
    assert_eq!(levels_in(&listed, w.id), (3, expected_w));

    // Selling out at C and 1 at B: C stays listed at 0, and the total (2) is now low — the
    // variant list's low-stock filter judges the total.
    s.ledger
        .commit(
            &t,
            changes(vec![
                change(v.id, b, MovementKind::Sale, -1),
                change(v.id, c, MovementKind::Sale, -4),
            ]),
        )
        .await
        .unwrap();
    let read = read_variant(&s, t, v.id).await;
    assert_eq!(
        (read.stock, read.levels),
        (2, vec![level(main, 1), level(b, 1), level(c, 0)])
    );
    let low = VariantFilter {
        low_stock: true,
        ..of_product
    };
    let low: Vec<VariantId> = s
        .variants
        .list(&t, &low, &PageRequest::first(10))
        .await
        .unwrap()
        .items
        .iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(low, vec![v.id]);
}

/// A decrease is refused when its own level is short, however much another level holds; every
/// short level of a write is listed, each naming its location, and nothing is written.
pub async fn a_decrease_is_judged_against_its_own_level(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let v = stocked_variant(&s, t, main, &format!("THIN-{}", unique()), 1).await;
    stock_up(&s, t, v.id, annex, 50).await;

    let placed = order(t, main, &[(v.id, 3)]);
    let mut write = changes(vec![change(v.id, main, MovementKind::Sale, -3)]);
    write.document = DocumentWrite::InsertOrder(placed.clone());
    match s.ledger.commit(&t, write).await {
        Err(LedgerError::Insufficient(short)) => assert_eq!(
            short,
            vec![Shortage {
                variant_id: v.id,
                location_id: Some(main),
                requested: 3,
                available: 1
            }]
        ),
        other => panic!("expected Insufficient, got {other:?}"),
    }
    assert_eq!(s.orders.get(&t, &placed.id).await.unwrap(), None);

    let write = changes(vec![
        change(v.id, main, MovementKind::Sale, -2),
        change(v.id, annex, MovementKind::Sale, -60),
    ]);
    match s.ledger.commit(&t, write).await {
        Err(LedgerError::Insufficient(mut short)) => {
            short.sort_by_key(|x| x.location_id);
            let mut expected = vec![
                Shortage {
                    variant_id: v.id,
                    location_id: Some(main),
                    requested: 2,
                    available: 1,
                },
                Shortage {
                    variant_id: v.id,
                    location_id: Some(annex),
                    requested: 60,
                    available: 50,
                },
            ];
            expected.sort_by_key(|x| x.location_id);
            assert_eq!(short, expected);
        }
        other => panic!("expected Insufficient, got {other:?}"),
    }
    let read = read_variant(&s, t, v.id).await;
    assert_eq!(
        (read.stock, read.levels),
        (51, vec![level(main, 1), level(annex, 50)])
    );
    assert_eq!(movement_count(&s, t, v.id).await, 2);
}

/// `expected_stock` is compared with the level's stock, not the variant's total.
pub async fn expected_stock_compares_the_level(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let v = stocked_variant(&s, t, main, &format!("COUNT-{}", unique()), 4).await;
    stock_up(&s, t, v.id, annex, 6).await;

    let mut count = change(v.id, annex, MovementKind::Adjustment, -2);
    count.expected_stock = Some(10);
    match s.ledger.commit(&t, changes(vec![count.clone()])).await {
        Err(LedgerError::StockMismatch {
            variant_id,
            location_id,
            expected,
            actual,
        }) => assert_eq!(
            (variant_id, location_id, expected, actual),
            (v.id, annex, 10, 6)
        ),
        other => panic!("expected StockMismatch, got {other:?}"),
    }
    assert_eq!(stock_of(&s, t, v.id).await, 10);

    count.expected_stock = Some(6);
    let done = s.ledger.commit(&t, changes(vec![count])).await.unwrap();
    assert_eq!(done.applied[0].moved().stock_after, 4);
    assert_eq!(done.applied[0].total(), 8);
    assert_eq!(
        levels_of(&s, t, v.id).await,
        vec![(main, 4, 0), (annex, 4, 0)]
    );
}

/// Each applied change reports its level before and after and the variant's total after it, in
/// the order of the changes — so two levels of one variant in one write see the total move
/// twice — and the low-stock event fires when the total, not a level, crosses the reorder
/// level.
pub async fn applied_changes_report_the_level_and_the_total(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    // Reorder level 2: 2 here and 3 at the annex, a total of 5.
    let v = stocked_variant(&s, t, main, &format!("PAIR-{}", unique()), 2).await;
    stock_up(&s, t, v.id, annex, 3).await;

    let committed = s
        .ledger
        .commit(
            &t,
            changes(vec![
                change(v.id, main, MovementKind::Sale, -2),
                change(v.id, annex, MovementKind::Sale, -1),
            ]),
        )
        .await
        .unwrap();
    let seen: Vec<(LocationId, i64, i64, i64)> = committed
        .applied
        .iter()
        .map(|a| {
            (
                a.moved().location_id,
                a.stock_before(),
                a.moved().stock_after,
                a.total(),
            )
        })
        .collect();
    assert_eq!(seen, vec![(main, 2, 0, 3), (annex, 3, 2, 2)]);
    assert!(committed.applied.iter().all(|a| a.sku == v.sku));
    assert!(committed.applied.iter().all(|a| a.reorder_level == 2));

    // Emptying the default location leaves a total of 3, above the level: no warning; the
    // annex's sale takes the total to 2 and warns, naming the annex.
    let low: Vec<(LocationId, i64)> = stock_events(&t, &committed)
        .into_iter()
        .filter_map(|e| match e {
            DomainEvent::StockLow {
                location_id, stock, ..
            } => Some((location_id, stock)),
            _ => None,
        })
        .collect();
    assert_eq!(low, vec![(annex, 2)]);
    assert_eq!(stock_of(&s, t, v.id).await, 2);
}

pub async fn movement_list_filters_by_location(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let a = stocked_variant(&s, t, main, &format!("A-{}", unique()), 0).await;
    let b = stocked_variant(&s, t, main, &format!("B-{}", unique()), 0).await;
    let mut made = Vec::new();
    for (variant, at, kind, delta) in [
        (a.id, main, MovementKind::Purchase, 5),
        (a.id, annex, MovementKind::Purchase, 3),
        (a.id, annex, MovementKind::Sale, -1),
        (b.id, annex, MovementKind::Purchase, 2),
    ] {
        let c = change(variant, at, kind, delta);
        made.push(c.movement_id);
        s.ledger.commit(&t, changes(vec![c])).await.unwrap();
    }
    let list = |filter: MovementFilter| {
        let ledger = s.ledger.clone();
        async move {
            ledger
                .list_movements(&t, &filter, &PageRequest::first(50))
                .await
                .unwrap()
                .items
        }
    };
    let at = |location| MovementFilter {
        location_id: Some(location),
        ..Default::default()
    };
    let ids = |movements: Vec<domain::stock::models::StockMovement>| {
        movements.into_iter().map(|m| m.id).collect::<Vec<_>>()
    };
    let at_annex = list(at(annex)).await;
    assert!(at_annex.iter().all(|m| m.location_id == annex));
    assert_eq!(ids(at_annex), vec![made[3], made[2], made[1]]);
    assert_eq!(ids(list(at(main)).await), vec![made[0]]);
    let a_at_annex = MovementFilter {
        variant_id: Some(a.id),
        ..at(annex)
    };
    assert_eq!(ids(list(a_at_annex).await), vec![made[2], made[1]]);
    let sales_at_annex = MovementFilter {
        kind: Some(MovementKind::Sale),
        ..at(annex)
    };
    let sales = list(sales_at_annex).await;
    assert_eq!(sales.len(), 1);
    assert_eq!((sales[0].id, sales[0].stock_after), (made[2], 2));
    let empty = new_location(&s, t, "EMPTY").await.id;
    assert!(list(at(empty)).await.is_empty());
}

/// Purchases, sales, adjustments and transfer legs at three locations leave every level equal
/// to Σ of its movements and every total equal to Σ of its levels.
pub async fn audit_is_clean_after_changes_at_several_locations(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let (b, c) = (
        new_location(&s, t, "B").await.id,
        new_location(&s, t, "C").await.id,
    );
    let v = stocked_variant(&s, t, main, &format!("V-{}", unique()), 5).await;
    let w = stocked_variant(&s, t, main, &format!("W-{}", unique()), 0).await;
    stocked_variant(&s, t, main, &format!("IDLE-{}", unique()), 0).await;
    stock_up(&s, t, v.id, b, 4).await;
    stock_up(&s, t, w.id, c, 3).await;
    for write in [
        vec![
            change(v.id, main, MovementKind::Sale, -5),
            change(v.id, b, MovementKind::Adjustment, -1),
            change(w.id, c, MovementKind::Sale, -1),
        ],
        vec![change(v.id, b, MovementKind::TransferOut, -2)],
        vec![change(v.id, c, MovementKind::TransferIn, 2)],
        vec![
            change(v.id, main, MovementKind::Return, 1),
            change(w.id, main, MovementKind::Purchase, 7),
        ],
    ] {
        s.ledger.commit(&t, changes(write)).await.unwrap();
    }
    let read = read_variant(&s, t, v.id).await;
    assert_eq!(
        (read.stock, read.levels),
        (4, vec![level(main, 1), level(b, 1), level(c, 2)])
    );
    let report = s.ledger.audit(&t).await.unwrap();
    assert_eq!((report.variants_checked, report.levels_checked), (3, 5));
    assert!(report.drift.is_empty(), "{report:?}");
}
