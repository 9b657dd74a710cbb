//! Units on hand but not for sale — damaged, in quality control, kept as safety stock — kept per
//! level by the ledger's conditional write: moved between states with a MOVE (on hand
//! unchanged), written off or found in a state with an adjustment, returned straight into one;
//! each recorded on its movement, so the ledger replays every state and the audit checks each
//! against the sum of its movements.

use domain::catalog::models::VariantFilter;
use domain::ids::{OrderId, UserId};
use domain::pagination::PageRequest;
use domain::stock::models::{LedgerError, Level, MovementKind, StockChange};
use domain::stock::state::{Unavailable, UnitState};

use crate::fixtures::*;
use crate::Stores;

fn moving(level: Level, from: UnitState, to: UnitState, units: i64) -> StockChange {
    StockChange::state_move(
        level,
        from,
        to,
        units,
        "inspection".into(),
        UserId::new(),
        now(),
    )
}

fn damaged(units: i64) -> Unavailable {
    Unavailable::of(UnitState::Damaged, units)
}

/// A move takes from its source state by a conditional write and records a MOVE of 0 on hand
/// with how each state moved; a move beyond the source is refused with what the source holds;
/// a write-off of damaged units takes them from on hand and damaged; a return goes straight into
/// quality control; the replay answers each state; the audit is clean.
pub async fn units_move_between_states_by_conditional_writes_and_replay(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("STATE-{}", unique()), 10).await;
    let level = Level::new(v.id, main);

    let done = s
        .ledger
        .commit(
            &t,
            changes(vec![moving(
                level,
                UnitState::Available,
                UnitState::Damaged,
                3,
            )]),
        )
        .await
        .unwrap();
    let applied = &done.applied[0];
    let m = applied.moved();
    assert_eq!(
        (m.kind, m.quantity, m.stock_after),
        (MovementKind::Move, 0, 10)
    );
    assert_eq!(m.unavailable, damaged(3));
    assert_eq!(applied.after.claims.unavailable, damaged(3));
    assert_eq!(applied.after.available(), 7);
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.state.on_hand), (7, 10));
    assert_eq!(read.state.claims.unavailable, damaged(3));
    assert_eq!(read.levels[0].state.claims.unavailable, damaged(3));

    // Damaged units are not available to an order, nor can more leave damaged than it holds.
    let order_id = OrderId::new();
    let commit = StockChange::commit(level, 8, order_id, UserId::new(), now());
    match s.ledger.commit(&t, changes(vec![commit])).await {
        Err(LedgerError::Insufficient(short)) => {
            assert_eq!((short[0].requested, short[0].available), (8, 7))
        }
        other => panic!("expected Insufficient, got {other:?}"),
    }
    let too_many = moving(level, UnitState::Damaged, UnitState::QualityControl, 4);
    match s.ledger.commit(&t, changes(vec![too_many])).await {
        Err(LedgerError::Insufficient(short)) => {
            assert_eq!((short[0].requested, short[0].available), (4, 3))
        }
        other => panic!("expected Insufficient, got {other:?}"),
    }
    // Nor can an ordinary adjustment count damaged units away as if they were for sale.
    let count = StockChange::adjustment(
        level,
        -8,
        UnitState::Available,
        None,
        "count".into(),
        UserId::new(),
        now(),
    );
    assert!(matches!(
        s.ledger.commit(&t, changes(vec![count])).await,
        Err(LedgerError::Insufficient(_))
    ));

    s.ledger
        .commit(
            &t,
            changes(vec![moving(
                level,
                UnitState::Damaged,
                UnitState::QualityControl,
                1,
            )]),
        )
        .await
        .unwrap();
    let scrap = StockChange::adjustment(
        level,
        -2,
        UnitState::Damaged,
        None,
        "scrapped".into(),
        UserId::new(),
        now(),
    );
    let done = s.ledger.commit(&t, changes(vec![scrap])).await.unwrap();
    let m = done.applied[0].moved();
    assert_eq!(
        (m.kind, m.quantity, m.stock_after),
        (MovementKind::Adjustment, -2, 8)
    );
    assert_eq!(m.unavailable, damaged(-2));
    let back = StockChange::order_return(
        level,
        2,
        UnitState::QualityControl,
        order_id,
        "opened box".into(),
        UserId::new(),
        now(),
    );
    s.ledger.commit(&t, changes(vec![back])).await.unwrap();
    s.ledger
        .commit(
            &t,
            changes(vec![moving(
                level,
                UnitState::Available,
                UnitState::SafetyStock,
                4,
            )]),
        )
        .await
        .unwrap();

    let expected = Unavailable {
        damaged: 0,
        quality_control: 3,
        safety_stock: 4,
    };
    let read = read_variant(&s, t, v.id).await;
    assert_eq!(
        (read.state.on_hand, read.state.claims.unavailable),
        (10, expected)
    );
    assert_eq!(read.stock, 3);
    for location in [None, Some(main)] {
        let replayed = s
            .reports
            .stock_at(&t, &v.id, chrono::Utc::now(), location)
            .await
            .unwrap();
        assert_eq!((replayed.on_hand, replayed.unavailable), (10, expected));
    }
    let moves = s
        .ledger
        .list_movements(
            &t,
            &domain::stock::models::MovementFilter {
                variant_id: Some(v.id),
                kind: Some(MovementKind::Move),
                ..Default::default()
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(moves.len(), 3);
    assert!(moves
        .iter()
        .all(|m| m.quantity == 0 && !m.unavailable.is_zero()));
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{audit:?}");
}

/// Low stock judges available units, so units set aside as damaged make a variant low; valuation
/// still values them (they are on hand).
pub async fn unavailable_units_make_a_variant_low_but_are_still_valued(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    // The fixture's reorder level is 2.
    let v = stocked_variant(&s, t, main, &format!("LOWD-{}", unique()), 5).await;
    let low = VariantFilter {
        low_stock: true,
        ..VariantFilter::default()
    };
    let is_low = || async {
        s.variants
            .list(&t, &low, &PageRequest::first(50))
            .await
            .unwrap()
            .items
            .iter()
            .any(|x| x.id == v.id)
    };
    assert!(!is_low().await);
    let level = Level::new(v.id, main);
    s.ledger
        .commit(
            &t,
            changes(vec![moving(
                level,
                UnitState::Available,
                UnitState::Damaged,
                3,
            )]),
        )
        .await
        .unwrap();
    assert!(is_low().await);
    let since = now() - chrono::Duration::days(30);
    let report = s.reports.low_stock(&t, since, None).await.unwrap();
    let row = report
        .iter()
        .find(|r| r.variant.id == v.id)
        .expect("listed low");
    assert_eq!(row.stock, 2);
    let valued = s.reports.valuation(&t, None).await.unwrap();
    assert_eq!(
        valued.iter().find(|r| r.variant_id == v.id).unwrap().stock,
        5
    );
}
