//! Units committed to placed orders: the ledger's conditional write on a level's committed units
//! and on what is available (on hand − committed), the states a variant reads with, and the
//! audit's second equality — committed == Σ the open allocations of placed orders.

use domain::catalog::models::VariantFilter;
use domain::ids::{OrderId, UserId};
use domain::pagination::PageRequest;
use domain::stock::models::{AuditedState, DocumentWrite, LedgerError, Level, MovementKind};
use domain::stock::models::{LedgerWrite, StockChange};
use domain::stock::state::{Claims, StockState};

use crate::fixtures::*;
use crate::Stores;

fn state(on_hand: i64, committed: i64) -> StockState {
    StockState::new(on_hand, Claims::committed(committed))
}

/// A write placing `order` with one commit per line, as the order service writes it.
fn placing(order: &domain::orders::models::Order) -> LedgerWrite {
    let mut changes: Vec<StockChange> = order
        .lines
        .iter()
        .flat_map(|line| {
            line.allocations.iter().map(|a| {
                StockChange::commit(
                    Level::new(line.variant_id, a.location_id),
                    a.quantity,
                    order.id,
                    UserId::new(),
                    now(),
                )
            })
        })
        .collect();
    changes.sort_by_key(StockChange::level);
    LedgerWrite {
        changes,
        document: DocumentWrite::InsertOrder(order.clone()),
        idempotency: None,
    }
}

/// Committing takes from available and moves nothing; a commit beyond what is available is
/// refused with the level's available units; committed units cannot leave on hand by any other
/// change; a sale of committed units takes both on hand and committed; a release gives them back.
pub async fn committed_units_are_claimed_sold_and_released_by_conditional_writes(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("CLAIM-{}", unique()), 5).await;
    let level = Level::new(v.id, main);
    let order_id = OrderId::new();
    let commit = |units| StockChange::commit(level, units, order_id, UserId::new(), now());

    let done = s.ledger.commit(&t, changes(vec![commit(3)])).await.unwrap();
    let applied = &done.applied[0];
    assert_eq!(applied.movement, None, "a commitment records no movement");
    assert_eq!((applied.before, applied.after), (state(5, 0), state(5, 3)));
    assert_eq!(applied.total_after, state(5, 3));
    assert_eq!(applied.order_id, Some(order_id));
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.state), (2, state(5, 3)));
    assert_eq!(read.levels[0].state, state(5, 3));
    assert_eq!(read.levels[0].stock, 2);
    assert_eq!(movement_count(&s, t, v.id).await, 1, "the stock-in alone");

    // Three are committed and two available: a third commit of three is short by what is
    // available, not by what is on hand.
    match s.ledger.commit(&t, changes(vec![commit(3)])).await {
        Err(LedgerError::Insufficient(short)) => {
            assert_eq!((short[0].requested, short[0].available), (3, 2));
            assert_eq!(short[0].location_id, Some(main));
        }
        other => panic!("expected Insufficient, got {other:?}"),
    }
    // Nor can an adjustment or a transfer take committed units off the shelf.
    let count = change(v.id, main, MovementKind::Adjustment, -3);
    assert!(matches!(
        s.ledger.commit(&t, changes(vec![count])).await,
        Err(LedgerError::Insufficient(_))
    ));
    assert_eq!(read_variant(&s, t, v.id).await.state, state(5, 3));

    // Fulfilling two: on hand and committed fall together, available stays.
    let sale = StockChange::sale(level, 2, order_id, UserId::new(), now());
    let done = s.ledger.commit(&t, changes(vec![sale])).await.unwrap();
    let applied = &done.applied[0];
    assert_eq!(applied.after, state(3, 1));
    let m = applied.moved();
    assert_eq!(
        (m.kind, m.quantity, m.stock_after),
        (MovementKind::Sale, -2, 3)
    );
    assert_eq!(m.order_id, Some(order_id));

    // Releasing the last one: available is whole again.
    let release = StockChange::release(level, 1, order_id, UserId::new(), now());
    let done = s.ledger.commit(&t, changes(vec![release])).await.unwrap();
    assert_eq!(done.applied[0].after, state(3, 0));
    assert_eq!(done.applied[0].movement, None);
    // A release of units no longer committed is refused, and nothing moves.
    let again = StockChange::release(level, 1, order_id, UserId::new(), now());
    assert!(s.ledger.commit(&t, changes(vec![again])).await.is_err());
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.state), (3, state(3, 0)));
    assert_eq!(movement_count(&s, t, v.id).await, 2);
}

/// A variant's totals are the sums of its levels' states, and each level reads its own.
pub async fn a_variant_reads_its_states_per_level_and_in_total(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let v = stocked_variant(&s, t, main, &format!("STATES-{}", unique()), 4).await;
    stock_up(&s, t, v.id, annex, 6).await;
    let placed = order(t, main, &[(v.id, 3)]);
    let mut at_annex = order(t, annex, &[(v.id, 5)]);
    at_annex.lines[0].allocations[0].location_id = annex;
    s.ledger.commit(&t, placing(&placed)).await.unwrap();
    s.ledger.commit(&t, placing(&at_annex)).await.unwrap();

    let read = read_variant(&s, t, v.id).await;
    let mut levels: Vec<_> = read
        .levels
        .iter()
        .map(|l| (l.location_id, l.state))
        .collect();
    levels.sort_by_key(|(l, _)| *l);
    let mut expected = vec![(main, state(4, 3)), (annex, state(6, 5))];
    expected.sort_by_key(|(l, _)| *l);
    assert_eq!(levels, expected);
    assert_eq!((read.stock, read.state), (2, state(10, 8)));
    let many = s.variants.get_many(&t, &[v.id]).await.unwrap();
    assert_eq!((many[0].stock, many[0].state), (2, state(10, 8)));
}

/// The audit compares every level's committed units with the open allocations of its placed
/// orders: a commitment without an order drifts, one with its order does not, and an order sold
/// at placement (as orders were before they committed units) counts for nothing.
pub async fn audit_checks_committed_units_against_placed_orders(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("AUDITED-{}", unique()), 10).await;
    let placed = order(t, main, &[(v.id, 3)]);
    s.ledger.commit(&t, placing(&placed)).await.unwrap();
    let mut legacy = order(t, main, &[(v.id, 2)]);
    legacy.sold_at_placement = true;
    let mut sold = changes(vec![change(v.id, main, MovementKind::Sale, -2)]);
    sold.document = DocumentWrite::InsertOrder(legacy.clone());
    s.ledger.commit(&t, sold).await.unwrap();
    assert_eq!(
        s.orders.get(&t, &legacy.id).await.unwrap(),
        Some(legacy.clone()),
        "whether an order was sold at placement is stored"
    );
    let clean = s.ledger.audit(&t).await.unwrap();
    assert!(clean.drift.is_empty(), "{clean:?}");
    assert_eq!(read_variant(&s, t, v.id).await.state, state(8, 3));

    // Two units committed with no order behind them.
    let stray = StockChange::commit(
        Level::new(v.id, main),
        2,
        OrderId::new(),
        UserId::new(),
        now(),
    );
    s.ledger.commit(&t, changes(vec![stray])).await.unwrap();
    let report = s.ledger.audit(&t).await.unwrap();
    let committed: Vec<_> = report
        .drift
        .iter()
        .filter(|d| d.state == AuditedState::Committed && d.location_id.is_some())
        .map(|d| (d.variant_id, d.location_id, d.stock, d.ledger_sum))
        .collect();
    assert_eq!(committed, vec![(v.id, Some(main), 5, 3)], "{report:?}");
    assert!(report
        .drift
        .iter()
        .all(|d| d.state == AuditedState::Committed));
}

/// A transition written from a stale version of its order is a version conflict, even when its
/// stock changes could not apply either: the second of two cancels releases units the first
/// already released, and is refused as a conflict, not as a shortage or a store failure.
pub async fn a_stale_transition_is_a_conflict_before_its_changes_are_judged(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("STALE-{}", unique()), 5).await;
    let placed = order(t, main, &[(v.id, 3)]);
    s.ledger.commit(&t, placing(&placed)).await.unwrap();
    let cancel = |expected_version: i64| {
        let mut next = placed.clone();
        next.status = domain::orders::models::OrderStatus::Cancelled;
        next.version = expected_version + 1;
        let release =
            StockChange::release(Level::new(v.id, main), 3, placed.id, UserId::new(), now());
        LedgerWrite {
            changes: vec![release],
            document: DocumentWrite::UpdateOrder {
                order: next,
                expected_version,
            },
            idempotency: None,
        }
    };
    s.ledger.commit(&t, cancel(1)).await.unwrap();
    match s.ledger.commit(&t, cancel(1)).await {
        Err(LedgerError::Store(domain::StoreError::VersionConflict)) => {}
        other => panic!("expected a version conflict, got {other:?}"),
    }
    assert_eq!(read_variant(&s, t, v.id).await.state, state(5, 0));
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{audit:?}");
}

/// Low stock judges what is available — units committed to orders are not for sale — in the
/// variant filter and in the low-stock report, in total and per location; valuation values what is
/// on hand, committed units included (they are still on the shelf).
pub async fn low_stock_judges_available_units_and_valuation_values_on_hand(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    // The fixture's reorder level is 2: 5 on hand is not low until 3 are committed.
    let v = stocked_variant(&s, t, main, &format!("LOWC-{}", unique()), 5).await;
    let low_filter = VariantFilter {
        low_stock: true,
        ..VariantFilter::default()
    };
    let listed_low = || async {
        s.variants
            .list(&t, &low_filter, &PageRequest::first(50))
            .await
            .unwrap()
            .items
            .iter()
            .map(|v| v.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(listed_low().await, vec![]);
    let placed = order(t, main, &[(v.id, 3)]);
    s.ledger.commit(&t, placing(&placed)).await.unwrap();

    assert_eq!(listed_low().await, vec![v.id]);
    let since = now() - chrono::Duration::days(30);
    for location in [None, Some(main)] {
        let report = s.reports.low_stock(&t, since, location).await.unwrap();
        let rows: Vec<_> = report.iter().map(|r| (r.variant.id, r.stock)).collect();
        assert_eq!(rows, vec![(v.id, 2)], "at {location:?}");
    }
    for location in [None, Some(main)] {
        let valued = s.reports.valuation(&t, location).await.unwrap();
        let row = valued.iter().find(|r| r.variant_id == v.id).unwrap();
        assert_eq!(row.stock, 5, "at {location:?}");
    }
}
