//! Units on hand but not for sale — damaged, quality control, safety stock — kept per level in
//! the variant document beside committed (`damaged.<location id>` and `damagedTotal`, …): moves
//! between states, adjustments and returns into a state, what reads, movements and the replay
//! make of them, and the audit of every state, reserved included.

use chrono::Duration;
use domain::catalog::ports::VariantRepository;
use domain::error::Shortage;
use domain::ids::{LocationId, OrderId, UserId};
use domain::pagination::PageRequest;
use domain::reports::models::{Replayed, SeriesFilter};
use domain::reports::ports::ReportRepository;
use domain::stock::models::{
    AuditedState, DocumentWrite, Drift, LedgerError, LedgerWrite, Level, MovementFilter,
    MovementKind, StockChange,
};
use domain::stock::ports::LedgerRepository;
use domain::stock::state::{Claims, StockState, Unavailable, UnitState};
use mongodb::bson::doc;

use crate::support::{changes, collection, now, raw_variant, reservation, set, Shop, TestDb};

fn unavailable(damaged: i64, quality_control: i64, safety_stock: i64) -> Unavailable {
    Unavailable {
        damaged,
        quality_control,
        safety_stock,
    }
}

fn state(on_hand: i64, u: Unavailable) -> StockState {
    StockState::new(
        on_hand,
        Claims {
            unavailable: u,
            ..Claims::default()
        },
    )
}

#[tokio::test]
async fn units_move_between_states_and_every_read_and_the_audit_sees_them() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "states").await;
    let v = shop.variant(store, "TS-1", 10).await;
    let level = Level::new(v, shop.main);
    let bought = now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let actor = UserId::new();
    let moving = |from, to, units| {
        StockChange::state_move(level, from, to, units, "count".into(), actor, now())
    };

    let moved = store
        .commit(
            &shop.tenant,
            changes(vec![moving(UnitState::Available, UnitState::Damaged, 3)]),
        )
        .await
        .expect("3 of 10 available");
    let applied = &moved.applied[0];
    let movement = applied.movement.as_ref().expect("a MOVE is recorded");
    assert_eq!(
        (
            movement.kind,
            movement.quantity,
            movement.unavailable,
            movement.stock_after
        ),
        (MovementKind::Move, 0, unavailable(3, 0, 0), 10)
    );
    assert_eq!(
        (applied.before, applied.after, applied.total_after),
        (
            state(10, Unavailable::default()),
            state(10, unavailable(3, 0, 0)),
            state(10, unavailable(3, 0, 0))
        )
    );
    for change in [
        moving(UnitState::Damaged, UnitState::QualityControl, 1),
        StockChange::adjustment(
            level,
            -2,
            UnitState::Damaged,
            None,
            "written off".into(),
            actor,
            now(),
        ),
        moving(UnitState::Available, UnitState::SafetyStock, 4),
    ] {
        store
            .commit(&shop.tenant, changes(vec![change]))
            .await
            .expect("each state holds what it gives");
    }
    // Nothing damaged is left to move.
    match store
        .commit(
            &shop.tenant,
            changes(vec![moving(UnitState::Damaged, UnitState::Available, 1)]),
        )
        .await
    {
        Err(LedgerError::Insufficient(s)) => assert_eq!(
            s,
            vec![Shortage {
                variant_id: v,
                location_id: Some(shop.main),
                requested: 1,
                available: 0,
            }]
        ),
        other => panic!("expected a shortage, got {other:?}"),
    }
    // Only available units move to another state or leave: 8 on hand, 5 of them unavailable.
    assert!(matches!(
        store
            .commit(
                &shop.tenant,
                changes(vec![moving(UnitState::Available, UnitState::Damaged, 4)]),
            )
            .await,
        Err(LedgerError::Insufficient(_))
    ));
    let returned = StockChange::order_return(
        level,
        2,
        UnitState::Damaged,
        OrderId::new(),
        "broken in transit".into(),
        actor,
        now(),
    );
    store
        .commit(&shop.tenant, changes(vec![returned]))
        .await
        .expect("a return into damaged");

    let now_state = state(10, unavailable(2, 1, 4));
    let read = VariantRepository::get(store, &shop.tenant, &v)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read.stock, read.state), (3, now_state));
    assert_eq!(
        read.levels
            .iter()
            .map(|l| (l.location_id, l.stock, l.state))
            .collect::<Vec<_>>(),
        vec![(shop.main, 3, now_state)]
    );
    let raw = raw_variant(&db, &v).await;
    let main = shop.main.to_string();
    let at = |map: &str| raw.get_document(map).unwrap().get_i64(&main).unwrap();
    assert_eq!(
        (
            at("damaged"),
            at("qualityControl"),
            at("safetyStock"),
            raw.get_i64("damagedTotal").unwrap(),
            raw.get_i64("qualityControlTotal").unwrap(),
            raw.get_i64("safetyStockTotal").unwrap(),
        ),
        (2, 1, 4, 2, 1, 4)
    );

    // Movements carry how each state moved; one that moved none stores nothing of it.
    let listed = store
        .list_movements(
            &shop.tenant,
            &MovementFilter::default(),
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        listed
            .iter()
            .map(|m| (m.kind, m.quantity, m.unavailable))
            .collect::<Vec<_>>(),
        vec![
            (MovementKind::Return, 2, unavailable(2, 0, 0)),
            (MovementKind::Move, 0, unavailable(0, 0, 4)),
            (MovementKind::Adjustment, -2, unavailable(-2, 0, 0)),
            (MovementKind::Move, 0, unavailable(-1, 1, 0)),
            (MovementKind::Move, 0, unavailable(3, 0, 0)),
            (MovementKind::Purchase, 10, Unavailable::default()),
        ]
    );
    let purchase = collection(&db, "movements")
        .await
        .find_one(doc! { "kind": "PURCHASE" })
        .await
        .unwrap()
        .unwrap();
    assert!(!purchase.contains_key("unavailable"));

    // The replay sums them; the series counts the moves.
    assert_eq!(
        store.stock_at(&shop.tenant, &v, now(), None).await.unwrap(),
        Replayed {
            on_hand: 10,
            unavailable: unavailable(2, 1, 4)
        }
    );
    assert_eq!(
        store
            .stock_at(&shop.tenant, &v, bought, Some(shop.main))
            .await
            .unwrap(),
        Replayed {
            on_hand: 10,
            unavailable: Unavailable::default()
        }
    );
    let buckets = store
        .movement_buckets(
            &shop.tenant,
            &[now() - Duration::hours(1), now() + Duration::hours(1)],
            &SeriesFilter::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        buckets
            .iter()
            .find(|b| b.kind == MovementKind::Move)
            .map(|b| (b.count, b.quantity)),
        Some((3, 0))
    );
    let audit = store.audit(&shop.tenant).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);
    assert_eq!((audit.variants_checked, audit.levels_checked), (1, 1));
    db.drop().await;
}

#[tokio::test]
async fn the_audit_checks_each_state_and_the_holds_against_the_live_reservations() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "audit-states").await;
    let v = shop.variant(store, "TS-1", 10).await;
    let level = Level::new(v, shop.main);
    let actor = UserId::new();
    store
        .commit(
            &shop.tenant,
            changes(vec![StockChange::state_move(
                level,
                UnitState::Available,
                UnitState::Damaged,
                2,
                "count".into(),
                actor,
                now(),
            )]),
        )
        .await
        .unwrap();
    let qc = StockChange::state_move(
        level,
        UnitState::Available,
        UnitState::QualityControl,
        1,
        "count".into(),
        actor,
        now(),
    );
    store.commit(&shop.tenant, changes(vec![qc])).await.unwrap();
    assert!(store.audit(&shop.tenant).await.unwrap().drift.is_empty());

    // A hold without its reservation; a live reservation without its hold here, and another
    // at a location the variant has no level at; an expired one, which must hold nothing.
    let later = now() + chrono::Duration::minutes(10);
    let orphan = StockChange::place_hold(
        level,
        1,
        domain::ids::ReservationId::new(),
        later,
        actor,
        now(),
    );
    store
        .commit(&shop.tenant, changes(vec![orphan]))
        .await
        .unwrap();
    let elsewhere = LocationId::new();
    for r in [
        reservation(&shop.tenant, v, shop.main, 2, later),
        reservation(&shop.tenant, v, elsewhere, 3, later),
        reservation(
            &shop.tenant,
            v,
            shop.main,
            4,
            now() - chrono::Duration::seconds(1),
        ),
    ] {
        store
            .commit(
                &shop.tenant,
                LedgerWrite {
                    changes: Vec::new(),
                    document: DocumentWrite::InsertReservation(r),
                    idempotency: None,
                },
            )
            .await
            .unwrap();
    }
    // Kept numbers changed behind the ledger's back: a level's damaged units, and a total.
    set(
        &db,
        &v,
        doc! { format!("damaged.{}", shop.main): 5_i64, "qualityControlTotal": 3_i64 },
    )
    .await;

    let drift = |at: Option<LocationId>, state, stock, ledger_sum| Drift {
        variant_id: v,
        location_id: at,
        state,
        sku: "TS-1".into(),
        stock,
        ledger_sum,
    };
    let mut expected = vec![
        drift(Some(shop.main), AuditedState::Reserved, 1, 2),
        drift(Some(shop.main), AuditedState::Damaged, 5, 2),
        drift(Some(elsewhere), AuditedState::Reserved, 0, 3),
        drift(None, AuditedState::Damaged, 2, 5),
        drift(None, AuditedState::QualityControl, 3, 1),
    ];
    expected.sort_by_key(Drift::report_order);
    let audit = store.audit(&shop.tenant).await.unwrap();
    assert_eq!(audit.drift, expected);
    assert_eq!((audit.variants_checked, audit.levels_checked), (1, 1));
    db.drop().await;
}
