//! Checkout holds: a reservation's units are held at a level by the same conditional write as
//! every other change, count as `reserved` only while live — from the instant `expires_at`
//! passes they count for nothing, in reads and in writes, with no sweep — and are taken into an
//! order, dropped or extended only as the port promises. The audit checks the live holds against
//! the live ACTIVE reservations.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use domain::ids::{OrderId, ReservationId, TenantId, UserId, VariantId};
use domain::pagination::PageRequest;
use domain::reservations::models::{
    HoldAllocation, Reservation, ReservationFilter, ReservationLine, ReservationStatus,
};
use domain::stock::models::StockChange;
use domain::stock::models::{AuditedState, DocumentWrite, LedgerError, LedgerWrite, Level};
use domain::StoreError;

use super::concurrency::{assert_overlapped, overlapping};
use crate::fixtures::*;
use crate::Stores;

/// An ACTIVE reservation of `units` of `variant` held at `location` until `expires_at`.
fn reservation(
    tenant: TenantId,
    variant: VariantId,
    location: domain::ids::LocationId,
    units: i64,
    expires_at: DateTime<Utc>,
) -> Reservation {
    let at = now();
    Reservation {
        id: ReservationId::new(),
        tenant_id: tenant,
        status: ReservationStatus::Active,
        lines: vec![ReservationLine {
            variant_id: variant,
            sku: sku("HELD-1"),
            quantity: units,
            allocations: vec![HoldAllocation {
                location_id: location,
                quantity: units,
            }],
        }],
        reference: Some(text("cart-42")),
        expires_at: expires_at.trunc_subsecs(3),
        order_id: None,
        created_by: UserId::new(),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

/// The write placing `r`'s holds, as the reservation service writes it.
fn placing(r: &Reservation) -> LedgerWrite {
    LedgerWrite {
        changes: holds_of(r, |level, units| {
            StockChange::place_hold(level, units, r.id, r.expires_at, UserId::new(), now())
        }),
        document: DocumentWrite::InsertReservation(r.clone()),
        idempotency: None,
    }
}

fn holds_of(r: &Reservation, change: impl Fn(Level, i64) -> StockChange) -> Vec<StockChange> {
    r.held_levels()
        .into_iter()
        .map(|(level, units)| change(level, units))
        .collect()
}

/// `r` one version on, at `status`.
fn next(r: &Reservation, status: ReservationStatus) -> Reservation {
    Reservation {
        status,
        version: r.version + 1,
        updated_at: now(),
        ..r.clone()
    }
}

fn in_ms(ms: i64) -> DateTime<Utc> {
    Utc::now() + Duration::milliseconds(ms)
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(StdDuration::from_millis(ms)).await;
}

/// A hold takes from available and records no movement; it round-trips as stored; from the
/// instant it expires it holds nothing — a read shows the units available and an order takes
/// them — although it is still stored ACTIVE and nothing swept it.
pub async fn a_hold_reserves_units_only_until_it_expires(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("HOLD-{}", unique()), 5).await;
    let long = reservation(t, v.id, main, 3, in_ms(60_000));
    let done = s.ledger.commit(&t, placing(&long)).await.unwrap();
    let applied = &done.applied[0];
    assert_eq!(applied.movement, None, "a hold records no movement");
    assert_eq!(applied.after.claims.reserved, 3);
    assert_eq!(applied.after.available(), 2);
    assert_eq!(
        s.reservations.get(&t, &long.id).await.unwrap(),
        Some(long.clone())
    );
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.state.claims.reserved), (2, 3));
    assert_eq!(read.levels[0].state.claims.reserved, 3);
    assert_eq!(movement_count(&s, t, v.id).await, 1);

    // Held units are not available to an order.
    let order_id = OrderId::new();
    let commit = |units| {
        StockChange::commit(
            Level::new(v.id, main),
            units,
            order_id,
            UserId::new(),
            now(),
        )
    };
    match s.ledger.commit(&t, changes(vec![commit(3)])).await {
        Err(LedgerError::Insufficient(short)) => {
            assert_eq!((short[0].requested, short[0].available), (3, 2))
        }
        other => panic!("expected Insufficient, got {other:?}"),
    }

    // A short hold: the last two units for 400 ms.
    let short = reservation(t, v.id, main, 2, in_ms(400));
    s.ledger.commit(&t, placing(&short)).await.unwrap();
    assert_eq!(stock_of(&s, t, v.id).await, 0);
    assert!(matches!(
        s.ledger.commit(&t, changes(vec![commit(1)])).await,
        Err(LedgerError::Insufficient(_))
    ));
    sleep_ms(500).await;
    // Expired: its units are available to a read and to a write, with no sweep.
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.state.claims.reserved), (2, 3));
    s.ledger.commit(&t, changes(vec![commit(2)])).await.unwrap();
    let read = read_variant(&s, t, v.id).await;
    assert_eq!(
        (
            read.stock,
            read.state.claims.committed,
            read.state.claims.reserved
        ),
        (0, 2, 3)
    );
    let stored = s.reservations.get(&t, &short.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ReservationStatus::Active, "nothing swept it");
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(
        audit
            .drift
            .iter()
            .all(|d| d.state != AuditedState::Reserved),
        "{audit:?}"
    );
}

/// Taking a hold into an order requires it live when written: a live hold becomes the order's
/// commitment (reserved ↓, committed ↑) with the reservation confirmed and the order inserted
/// together; an expired one is refused with `HoldGone` and nothing is written. Extending
/// requires a live hold too; dropping requires nothing.
pub async fn a_hold_is_taken_or_extended_only_while_live_and_dropped_at_any_time(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("TAKE-{}", unique()), 10).await;
    let confirm = |r: &Reservation| {
        let mut order = order(t, main, &[(v.id, r.lines[0].quantity)]);
        order.lines[0].sku = r.lines[0].sku.clone();
        let mut confirmed = next(r, ReservationStatus::Confirmed);
        confirmed.order_id = Some(order.id);
        let changes = holds_of(r, |level, units| {
            StockChange::take_hold(level, units, r.id, order.id, UserId::new(), now())
        });
        (
            LedgerWrite {
                changes,
                document: DocumentWrite::ConfirmReservation {
                    reservation: confirmed.clone(),
                    expected_version: r.version,
                    order: order.clone(),
                },
                idempotency: None,
            },
            confirmed,
            order,
        )
    };

    let live = reservation(t, v.id, main, 4, in_ms(60_000));
    s.ledger.commit(&t, placing(&live)).await.unwrap();
    let (write, confirmed, order) = confirm(&live);
    let done = s.ledger.commit(&t, write).await.unwrap();
    let after = done.applied[0].after;
    assert_eq!(
        (
            after.on_hand,
            after.claims.committed,
            after.claims.reserved,
            after.available()
        ),
        (10, 4, 0, 6)
    );
    assert_eq!(done.applied[0].order_id, Some(order.id));
    assert_eq!(
        s.reservations.get(&t, &live.id).await.unwrap(),
        Some(confirmed)
    );
    assert_eq!(s.orders.get(&t, &order.id).await.unwrap(), Some(order));

    // A hold taken twice: the second confirmation is stale.
    let (again, _, _) = confirm(&live);
    assert!(matches!(
        s.ledger.commit(&t, again).await,
        Err(LedgerError::Store(StoreError::VersionConflict))
    ));

    // An expired hold cannot be taken or extended, and the refusal writes nothing.
    let brief = reservation(t, v.id, main, 2, in_ms(300));
    s.ledger.commit(&t, placing(&brief)).await.unwrap();
    sleep_ms(400).await;
    let (late, _, late_order) = confirm(&brief);
    assert!(
        matches!(s.ledger.commit(&t, late).await, Err(LedgerError::HoldGone(id)) if id == brief.id)
    );
    assert_eq!(s.orders.get(&t, &late_order.id).await.unwrap(), None);
    assert_eq!(
        s.reservations
            .get(&t, &brief.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
    let extend = |r: &Reservation, ms| {
        let mut longer = next(r, ReservationStatus::Active);
        longer.expires_at = in_ms(ms).trunc_subsecs(3);
        LedgerWrite {
            changes: holds_of(r, |level, _| {
                StockChange::extend_hold(level, r.id, longer.expires_at, UserId::new(), now())
            }),
            document: DocumentWrite::UpdateReservation {
                reservation: longer,
                expected_version: r.version,
            },
            idempotency: None,
        }
    };
    assert!(matches!(
        s.ledger.commit(&t, extend(&brief, 60_000)).await,
        Err(LedgerError::HoldGone(_))
    ));
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.state.claims.reserved), (6, 0));

    // A live hold extended past its first expiry still holds after it.
    let extended = reservation(t, v.id, main, 1, in_ms(300));
    s.ledger.commit(&t, placing(&extended)).await.unwrap();
    s.ledger
        .commit(&t, extend(&extended, 60_000))
        .await
        .unwrap();
    sleep_ms(400).await;
    assert_eq!(read_variant(&s, t, v.id).await.state.claims.reserved, 1);

    // Dropping a live hold gives its units back; dropping an expired one changes nothing.
    let drop_write = |r: &Reservation, live: bool, status| LedgerWrite {
        changes: holds_of(r, |level, units| {
            StockChange::drop_hold(level, units, live, r.id, UserId::new(), now())
        }),
        document: DocumentWrite::UpdateReservation {
            reservation: next(r, status),
            expected_version: r.version,
        },
        idempotency: None,
    };
    let mut extended_now = extended.clone();
    extended_now.version = 2;
    s.ledger
        .commit(
            &t,
            drop_write(&extended_now, true, ReservationStatus::Released),
        )
        .await
        .unwrap();
    s.ledger
        .commit(&t, drop_write(&brief, false, ReservationStatus::Expired))
        .await
        .unwrap();
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.state.claims.reserved), (6, 0));
    assert_eq!(
        movement_count(&s, t, v.id).await,
        1,
        "no hold moved on hand"
    );
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{audit:?}");
}

/// Reservations list newest first, matched by the status they read at the instant given; the
/// sweep finds the expired ones still stored ACTIVE, in every tenant, earliest expiry first.
pub async fn reservations_list_by_their_status_now_and_the_sweep_finds_the_expired(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let other = crate::fixtures::shop(&s).await;
    let v = stocked_variant(&s, t, main, &format!("LIST-{}", unique()), 10).await;
    let w = stocked_variant(
        &s,
        other.id(),
        other.main(),
        &format!("LIST-{}", unique()),
        10,
    )
    .await;
    let live = reservation(t, v.id, main, 1, in_ms(60_000));
    let lapsed = reservation(t, v.id, main, 1, in_ms(200));
    let theirs = reservation(other.id(), w.id, other.main(), 1, in_ms(100));
    for (tenant, r) in [(t, &live), (t, &lapsed), (other.id(), &theirs)] {
        s.ledger.commit(&tenant, placing(r)).await.unwrap();
    }
    let released = reservation(t, v.id, main, 1, in_ms(60_000));
    s.ledger.commit(&t, placing(&released)).await.unwrap();
    s.ledger
        .commit(
            &t,
            LedgerWrite {
                changes: holds_of(&released, |level, units| {
                    StockChange::drop_hold(level, units, true, released.id, UserId::new(), now())
                }),
                document: DocumentWrite::UpdateReservation {
                    reservation: next(&released, ReservationStatus::Released),
                    expected_version: 1,
                },
                idempotency: None,
            },
        )
        .await
        .unwrap();
    sleep_ms(300).await;

    let at = Utc::now();
    let list = |status| {
        let reservations = s.reservations.clone();
        async move {
            reservations
                .list(
                    &t,
                    &ReservationFilter { status },
                    at,
                    &PageRequest::first(10),
                )
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(None).await, vec![released.id, lapsed.id, live.id]);
    assert_eq!(list(Some(ReservationStatus::Active)).await, vec![live.id]);
    assert_eq!(
        list(Some(ReservationStatus::Expired)).await,
        vec![lapsed.id]
    );
    assert_eq!(
        list(Some(ReservationStatus::Released)).await,
        vec![released.id]
    );
    assert!(list(Some(ReservationStatus::Confirmed)).await.is_empty());
    let page = s
        .reservations
        .list(
            &t,
            &ReservationFilter::default(),
            at,
            &PageRequest::first(2),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    let cursor = page.next_cursor.expect("a second page");
    let rest = s
        .reservations
        .list(
            &t,
            &ReservationFilter::default(),
            at,
            &PageRequest::parse(Some(2), Some(&cursor)).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![live.id]
    );

    let due: Vec<ReservationId> = s
        .reservations
        .expired(at, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .filter(|id| [theirs.id, lapsed.id, live.id, released.id].contains(id))
        .collect();
    assert_eq!(
        due,
        vec![theirs.id, lapsed.id],
        "earliest expiry first, every tenant"
    );
    assert!(s
        .reservations
        .get(&other.id(), &lapsed.id)
        .await
        .unwrap()
        .is_none());
}

/// The audit compares each level's live holds with the live ACTIVE reservations: a hold with no
/// reservation behind it drifts; an expired one counts on neither side.
pub async fn audit_checks_live_holds_against_active_reservations(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("AUDHOLD-{}", unique()), 10).await;
    let backed = reservation(t, v.id, main, 3, in_ms(60_000));
    s.ledger.commit(&t, placing(&backed)).await.unwrap();
    let lapsing = reservation(t, v.id, main, 1, in_ms(200));
    s.ledger.commit(&t, placing(&lapsing)).await.unwrap();
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{audit:?}");

    let stray = StockChange::place_hold(
        Level::new(v.id, main),
        2,
        ReservationId::new(),
        in_ms(60_000),
        UserId::new(),
        now(),
    );
    s.ledger.commit(&t, changes(vec![stray])).await.unwrap();
    sleep_ms(300).await;
    let report = s.ledger.audit(&t).await.unwrap();
    let reserved: Vec<_> = report
        .drift
        .iter()
        .filter(|d| d.state == AuditedState::Reserved && d.location_id.is_some())
        .map(|d| (d.variant_id, d.location_id, d.stock, d.ledger_sum))
        .collect();
    assert_eq!(reserved, vec![(v.id, Some(main), 5, 3)], "{report:?}");
}

/// 30 tasks each hold one unit of a variant with 10, at once and unlocked: exactly 10 holds
/// are placed, every refusal is a one-unit shortage, and the level reserves exactly 10.
pub async fn concurrent_holds_never_over_reserve(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("HOTHOLD-{}", unique()), 10).await;
    let (results, peak) = overlapping(30, |_| {
        let ledger = s.ledger.clone();
        let r = reservation(t, v.id, main, 1, in_ms(60_000));
        async move { ledger.commit(&t, placing(&r)).await }
    })
    .await;
    assert_overlapped(peak, 30);
    let mut held = 0;
    for result in &results {
        match result {
            Ok(_) => held += 1,
            Err(LedgerError::Insufficient(short)) => {
                assert_eq!((short[0].requested, short[0].available), (1, 0))
            }
            Err(other) => panic!("unexpected refusal: {other:?}"),
        }
    }
    assert_eq!(held, 10);
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.state.claims.reserved), (0, 10));
    let active = s
        .reservations
        .list(
            &t,
            &ReservationFilter {
                status: Some(ReservationStatus::Active),
            },
            Utc::now(),
            &PageRequest::first(100),
        )
        .await
        .unwrap();
    assert_eq!(
        active.items.len(),
        10,
        "a refused hold stores no reservation"
    );
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{audit:?}");
}
