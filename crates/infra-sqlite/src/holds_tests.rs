//! Holds, reservations and unavailable states on a memory database: a hold counts in reserved
//! only while live — an expired one takes nothing from available in reads or in the
//! conditional write, cannot be taken or extended, and drops like any other — reservations
//! round-trip and list by the status they read now, and the audit checks holds, reservations
//! and every kept state.

use chrono::{DateTime, Duration, Utc};
use domain::catalog::ports::{ProductRepository, VariantRepository};
use domain::ids::{LocationId, OrderId, ReservationId, TenantId, UserId, VariantId};
use domain::locations::models::LevelFilter;
use domain::locations::ports::LocationRepository;
use domain::orders::models::{Allocation, Order, OrderLine, OrderStatus};
use domain::orders::ports::OrderRepository;
use domain::pagination::PageRequest;
use domain::reports::models::Replayed;
use domain::reports::ports::ReportRepository;
use domain::reservations::models::{
    HoldAllocation, Reservation, ReservationFilter, ReservationLine, ReservationStatus,
};
use domain::reservations::ports::ReservationRepository;
use domain::stock::models::{
    AuditedState, DocumentWrite, Drift, LedgerError, Level, MovementFilter, MovementKind,
    StockChange,
};
use domain::stock::ports::LedgerRepository;
use domain::stock::state::{Claims, StockState, Unavailable, UnitState};
use domain::values::{Money, Sku, Text};
use domain::StoreError;
use rusqlite::params;

use crate::error::SqlResultExt;
use crate::store_tests::{now, unique, Shop};

fn in_ms(ms: i64) -> DateTime<Utc> {
    now() + Duration::milliseconds(ms)
}

/// An ACTIVE reservation of `units` of `variant` held at `location` until `expires_at`.
fn reservation(
    tenant: TenantId,
    variant: VariantId,
    location: LocationId,
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
            sku: Sku::new("TEE-M").unwrap(),
            quantity: units,
            allocations: vec![HoldAllocation {
                location_id: location,
                quantity: units,
            }],
        }],
        reference: Some(Text::long("cart-7").unwrap()),
        expires_at,
        order_id: None,
        created_by: UserId::new(),
        created_at: at,
        updated_at: at,
        version: 1,
    }
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

fn each_hold(r: &Reservation, change: impl Fn(Level, i64) -> StockChange) -> Vec<StockChange> {
    r.held_levels()
        .into_iter()
        .map(|(level, units)| change(level, units))
        .collect()
}

fn place(r: &Reservation) -> Vec<StockChange> {
    each_hold(r, |level, units| {
        StockChange::place_hold(level, units, r.id, r.expires_at, UserId::new(), now())
    })
}

fn take(r: &Reservation, order: OrderId) -> Vec<StockChange> {
    each_hold(r, |level, units| {
        StockChange::take_hold(level, units, r.id, order, UserId::new(), now())
    })
}

fn extend(r: &Reservation, until: DateTime<Utc>) -> Vec<StockChange> {
    each_hold(r, |level, _| {
        StockChange::extend_hold(level, r.id, until, UserId::new(), now())
    })
}

fn drop_holds(r: &Reservation, live: bool) -> Vec<StockChange> {
    each_hold(r, |level, units| {
        StockChange::drop_hold(level, units, live, r.id, UserId::new(), now())
    })
}

/// The order a confirmation of `r` places, committed where `r` held its units.
fn order_of(r: &Reservation) -> Order {
    let at = now();
    let line = &r.lines[0];
    Order {
        id: OrderId::new(),
        tenant_id: r.tenant_id,
        status: OrderStatus::Placed,
        lines: vec![OrderLine {
            variant_id: line.variant_id,
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price: Money::new(1000).unwrap(),
            line_total: Money::new(1000 * line.quantity).unwrap(),
            returned: 0,
            allocations: line
                .allocations
                .iter()
                .map(|a| Allocation {
                    location_id: a.location_id,
                    quantity: a.quantity,
                    returned: 0,
                })
                .collect(),
        }],
        customer: None,
        note: None,
        location_id: None,
        sold_at_placement: false,
        total: Money::new(1000 * line.quantity).unwrap(),
        placed_by: UserId::new(),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

fn state(on_hand: i64, committed: i64, reserved: i64, unavailable: Unavailable) -> StockState {
    StockState::new(
        on_hand,
        Claims {
            committed,
            reserved,
            unavailable,
        },
    )
}

impl Shop {
    /// Places `r`'s holds with `r` itself, as the reservation service writes it.
    async fn reserve(&self, r: &Reservation) -> Result<(), LedgerError> {
        self.commit(place(r), DocumentWrite::InsertReservation(r.clone()))
            .await
            .map(|_| ())
    }

    async fn live_holds(&self) -> i64 {
        let at = Utc::now().timestamp_millis();
        self.store
            .read("counting live holds", move |tx| {
                tx.query_row(
                    "SELECT COALESCE(SUM(quantity), 0) FROM holds WHERE expires_at > ?1",
                    [at],
                    |r| r.get(0),
                )
            })
            .await
            .unwrap()
    }

    /// Runs `sql` on the store's writer, behind every port.
    async fn behind_the_ledger(&self, sql: &'static str, values: Vec<rusqlite::types::Value>) {
        self.store
            .write("writing behind the ledger", move |tx| {
                tx.execute(sql, rusqlite::params_from_iter(values))
                    .or_store("writing behind the ledger")
            })
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_expired_hold_reserves_nothing_in_reads_or_writes() {
    let shop = Shop::open().await;
    let v = shop.variant("TEE-M").await;
    let main = shop.main.id;
    shop.adjust(v, main, 5).await;

    let live = reservation(shop.tenant, v, main, 3, in_ms(60_000));
    let done = shop
        .commit(place(&live), DocumentWrite::InsertReservation(live.clone()))
        .await
        .unwrap();
    let applied = &done.applied[0];
    assert_eq!(applied.movement, None, "a hold records no movement");
    assert_eq!(applied.before, state(5, 0, 0, Unavailable::default()));
    assert_eq!(applied.after, state(5, 0, 3, Unavailable::default()));
    assert_eq!(applied.total_after, applied.after);

    // Placed already expired: stored, but it takes nothing from available.
    let lapsed = reservation(shop.tenant, v, main, 2, in_ms(-1_000));
    let done = shop
        .commit(
            place(&lapsed),
            DocumentWrite::InsertReservation(lapsed.clone()),
        )
        .await
        .unwrap();
    assert_eq!(done.applied[0].after.claims.reserved, 3);
    // About to expire: the last two units, for 150 ms.
    let brief = reservation(shop.tenant, v, main, 2, in_ms(150));
    shop.reserve(&brief).await.unwrap();
    assert_eq!(shop.read(v).await.stock, 0);
    let order = OrderId::new();
    let commit =
        |units| StockChange::commit(Level::new(v, main), units, order, UserId::new(), now());
    let refused = shop.commit(vec![commit(1)], DocumentWrite::None).await;
    assert!(
        matches!(&refused, Err(LedgerError::Insufficient(s)) if (s[0].requested, s[0].available) == (1, 0)),
        "{refused:?}"
    );

    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // Expired, unswept: every read and the conditional write see its units available.
    let read = shop.read(v).await;
    assert_eq!((read.stock, read.state.claims.reserved), (2, 3));
    assert_eq!(read.levels[0].state, state(5, 0, 3, Unavailable::default()));
    let many = VariantRepository::get_many(&shop.store, &shop.tenant, &[v])
        .await
        .unwrap();
    assert_eq!(many, vec![read.clone()]);
    let at_main = shop
        .store
        .levels(
            &shop.tenant,
            &main,
            &LevelFilter::default(),
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(
        (at_main.items[0].stock, at_main.items[0].state),
        (2, read.levels[0].state)
    );
    let low = ReportRepository::low_stock(&shop.store, &shop.tenant, now(), None)
        .await
        .unwrap();
    assert_eq!(
        low.iter()
            .map(|r| (r.variant.id, r.stock))
            .collect::<Vec<_>>(),
        vec![(v, 2)],
        "available 2 is at the reorder level 2"
    );
    let done = shop
        .commit(vec![commit(2)], DocumentWrite::None)
        .await
        .unwrap();
    assert_eq!(
        done.applied[0].after,
        state(5, 2, 3, Unavailable::default())
    );
    assert_eq!(shop.read(v).await.stock, 0);
    assert_eq!(
        ReservationRepository::get(&shop.store, &shop.tenant, &brief.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ReservationStatus::Active,
        "nothing swept it"
    );
}

#[tokio::test]
async fn a_hold_is_taken_only_while_live_and_counts_as_live_when_taken() {
    let shop = Shop::open().await;
    let v = shop.variant("TEE-M").await;
    let main = shop.main.id;
    shop.adjust(v, main, 3).await;

    // Every unit held: taking the hold needs nothing more than the hold itself.
    let live = reservation(shop.tenant, v, main, 3, in_ms(60_000));
    shop.reserve(&live).await.unwrap();
    let order = order_of(&live);
    let mut confirmed = next(&live, ReservationStatus::Confirmed);
    confirmed.order_id = Some(order.id);
    let confirm = |r: &Reservation, confirmed: &Reservation, order: &Order| {
        DocumentWrite::ConfirmReservation {
            reservation: confirmed.clone(),
            expected_version: r.version,
            order: order.clone(),
        }
    };
    let done = shop
        .commit(take(&live, order.id), confirm(&live, &confirmed, &order))
        .await
        .unwrap();
    assert_eq!(
        done.applied[0].before,
        state(3, 0, 3, Unavailable::default())
    );
    assert_eq!(
        done.applied[0].after,
        state(3, 3, 0, Unavailable::default())
    );
    assert_eq!(shop.live_holds().await, 0, "the hold is gone");
    assert_eq!(
        ReservationRepository::get(&shop.store, &shop.tenant, &live.id)
            .await
            .unwrap(),
        Some(confirmed.clone())
    );
    assert_eq!(
        OrderRepository::get(&shop.store, &shop.tenant, &order.id)
            .await
            .unwrap(),
        Some(order.clone())
    );
    // Taken twice: the hold is no longer there.
    let again = shop
        .commit(take(&live, order.id), DocumentWrite::None)
        .await;
    assert!(
        matches!(again, Err(LedgerError::HoldGone(id)) if id == live.id),
        "{again:?}"
    );

    // An expired hold cannot be taken, and the refusal writes nothing at all.
    shop.adjust(v, main, 2).await;
    let lapsed = reservation(shop.tenant, v, main, 2, in_ms(-1));
    shop.reserve(&lapsed).await.unwrap();
    let late_order = order_of(&lapsed);
    let mut late = next(&lapsed, ReservationStatus::Confirmed);
    late.order_id = Some(late_order.id);
    let refused = shop
        .commit(
            take(&lapsed, late_order.id),
            confirm(&lapsed, &late, &late_order),
        )
        .await;
    assert!(
        matches!(refused, Err(LedgerError::HoldGone(id)) if id == lapsed.id),
        "{refused:?}"
    );
    assert_eq!(
        OrderRepository::get(&shop.store, &shop.tenant, &late_order.id)
            .await
            .unwrap(),
        None
    );
    let stored = ReservationRepository::get(&shop.store, &shop.tenant, &lapsed.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, lapsed);
    assert_eq!(
        shop.read(v).await.levels[0].state,
        state(5, 3, 0, Unavailable::default())
    );
    // A stale confirmation is a conflict before any hold is judged.
    let stale = shop
        .commit(
            take(&lapsed, late_order.id),
            confirm(&confirmed, &late, &late_order),
        )
        .await;
    assert!(
        matches!(stale, Err(LedgerError::Store(StoreError::VersionConflict))),
        "{stale:?}"
    );
}

#[tokio::test]
async fn a_hold_is_extended_only_while_live_and_dropped_at_any_time() {
    let shop = Shop::open().await;
    let v = shop.variant("TEE-M").await;
    let main = shop.main.id;
    shop.adjust(v, main, 10).await;

    let brief = reservation(shop.tenant, v, main, 4, in_ms(150));
    shop.reserve(&brief).await.unwrap();
    let until = in_ms(60_000);
    let done = shop
        .commit(extend(&brief, until), DocumentWrite::None)
        .await
        .unwrap();
    assert_eq!(done.applied[0].after, done.applied[0].before);
    assert_eq!(done.applied[0].after.claims.reserved, 4);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        shop.read(v).await.state.claims.reserved,
        4,
        "extended past its expiry"
    );

    let lapsed = reservation(shop.tenant, v, main, 1, in_ms(-1));
    shop.reserve(&lapsed).await.unwrap();
    let refused = shop
        .commit(extend(&lapsed, until), DocumentWrite::None)
        .await;
    assert!(
        matches!(refused, Err(LedgerError::HoldGone(id)) if id == lapsed.id),
        "{refused:?}"
    );
    // Not there at all.
    let never = reservation(shop.tenant, v, main, 1, until);
    let refused = shop
        .commit(extend(&never, until), DocumentWrite::None)
        .await;
    assert!(
        matches!(refused, Err(LedgerError::HoldGone(_))),
        "{refused:?}"
    );

    // Dropping the live hold gives its units back; an expired one, or none, changes nothing.
    let done = shop
        .commit(drop_holds(&brief, true), DocumentWrite::None)
        .await
        .unwrap();
    assert_eq!(
        done.applied[0].after,
        state(10, 0, 0, Unavailable::default())
    );
    for (r, live) in [(&lapsed, false), (&never, true)] {
        let done = shop
            .commit(drop_holds(r, live), DocumentWrite::None)
            .await
            .unwrap();
        assert_eq!(done.applied[0].after.available(), 10);
    }
    let counted: i64 = shop
        .store
        .read("counting holds", |tx| {
            tx.query_row("SELECT count(*) FROM holds", [], |r| r.get(0))
        })
        .await
        .unwrap();
    assert_eq!(counted, 0);
    // A hold change still needs its variant.
    let gone = reservation(shop.tenant, VariantId::new(), main, 1, until);
    let missing = shop
        .commit(drop_holds(&gone, true), DocumentWrite::None)
        .await;
    assert!(
        matches!(missing, Err(LedgerError::VariantMissing(_))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn reservations_round_trip_and_list_by_their_status_now() {
    let shop = Shop::open().await;
    let v = shop.variant("TEE-M").await;
    let main = shop.main.id;
    shop.adjust(v, main, 10).await;

    let live = reservation(shop.tenant, v, main, 1, in_ms(60_000));
    let lapsed = reservation(shop.tenant, v, main, 1, in_ms(-2_000));
    let mut plain = reservation(shop.tenant, v, main, 1, in_ms(60_000));
    plain.reference = None;
    for r in [&live, &lapsed, &plain] {
        shop.reserve(r).await.unwrap();
    }
    let released = next(&plain, ReservationStatus::Released);
    shop.commit(
        drop_holds(&plain, true),
        DocumentWrite::UpdateReservation {
            reservation: released.clone(),
            expected_version: 1,
        },
    )
    .await
    .unwrap();
    let stale = shop
        .commit(
            Vec::new(),
            DocumentWrite::UpdateReservation {
                reservation: released.clone(),
                expected_version: 1,
            },
        )
        .await;
    assert!(matches!(
        stale,
        Err(LedgerError::Store(StoreError::VersionConflict))
    ));
    let store = &shop.store;
    assert_eq!(
        ReservationRepository::get(store, &shop.tenant, &plain.id)
            .await
            .unwrap(),
        Some(released.clone())
    );
    assert_eq!(
        ReservationRepository::get(store, &TenantId::new(), &live.id)
            .await
            .unwrap(),
        None,
        "another tenant's reservation is not there"
    );

    let at = Utc::now();
    let list = |status| async move {
        ReservationRepository::list(
            store,
            &shop.tenant,
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
    };
    assert_eq!(list(None).await, vec![plain.id, lapsed.id, live.id]);
    assert_eq!(list(Some(ReservationStatus::Active)).await, vec![live.id]);
    assert_eq!(
        list(Some(ReservationStatus::Expired)).await,
        vec![lapsed.id]
    );
    assert_eq!(
        list(Some(ReservationStatus::Released)).await,
        vec![plain.id]
    );
    assert!(list(Some(ReservationStatus::Confirmed)).await.is_empty());
    let first = ReservationRepository::list(
        store,
        &shop.tenant,
        &ReservationFilter::default(),
        at,
        &PageRequest::first(2),
    )
    .await
    .unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = ReservationRepository::list(
        store,
        &shop.tenant,
        &ReservationFilter::default(),
        at,
        &PageRequest::parse(Some(2), first.next_cursor.as_deref()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            rest.items.iter().map(|r| r.id).collect::<Vec<_>>(),
            rest.next_cursor
        ),
        (vec![live.id], None)
    );
}

#[tokio::test]
async fn the_sweep_finds_every_tenants_expired_reservations_earliest_first() {
    let shop = Shop::open().await;
    let (ours, theirs) = (shop.tenant, TenantId::new());
    let (v, main) = (VariantId::new(), LocationId::new());
    let mut due = Vec::new();
    for (tenant, ms) in [
        (ours, -3_000),
        (theirs, -5_000),
        (ours, 60_000),
        (theirs, -1_000),
    ] {
        let r = reservation(tenant, v, main, 1, in_ms(ms));
        shop.store
            .commit(
                &tenant,
                domain::stock::models::LedgerWrite {
                    changes: Vec::new(),
                    document: DocumentWrite::InsertReservation(r.clone()),
                    idempotency: None,
                },
            )
            .await
            .unwrap();
        due.push(r);
    }
    // Stored EXPIRED already: not due again.
    let swept = next(&due[3], ReservationStatus::Expired);
    shop.store
        .commit(
            &theirs,
            domain::stock::models::LedgerWrite {
                changes: Vec::new(),
                document: DocumentWrite::UpdateReservation {
                    reservation: swept,
                    expected_version: 1,
                },
                idempotency: None,
            },
        )
        .await
        .unwrap();
    let ids = |found: Vec<Reservation>| found.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let at = Utc::now();
    assert_eq!(
        ids(shop.store.expired(at, 10).await.unwrap()),
        vec![due[1].id, due[0].id]
    );
    assert_eq!(
        ids(shop.store.expired(at, 1).await.unwrap()),
        vec![due[1].id]
    );
}

#[tokio::test]
async fn unavailable_states_are_kept_moved_and_replayed() {
    let shop = Shop::open().await;
    let v = shop.variant("TEE-M").await;
    let main = shop.main.id;
    let level = Level::new(v, main);
    shop.adjust(v, main, 10).await;
    let found_damaged = StockChange::adjustment(
        level,
        3,
        UnitState::Damaged,
        None,
        "found damaged".into(),
        UserId::new(),
        now(),
    );
    let to_qc = StockChange::state_move(
        level,
        UnitState::Available,
        UnitState::QualityControl,
        4,
        "inspect".into(),
        UserId::new(),
        now(),
    );
    let set_aside = StockChange::state_move(
        level,
        UnitState::QualityControl,
        UnitState::SafetyStock,
        1,
        "buffer".into(),
        UserId::new(),
        now(),
    );
    for change in [found_damaged, to_qc, set_aside] {
        shop.commit(vec![change], DocumentWrite::None)
            .await
            .unwrap();
    }
    let kept = Unavailable {
        damaged: 3,
        quality_control: 3,
        safety_stock: 1,
    };
    let read = shop.read(v).await;
    assert_eq!(read.levels[0].state, state(13, 0, 0, kept));
    assert_eq!((read.stock, read.state), (6, state(13, 0, 0, kept)));

    // A move from a state holding too few units is short; so is writing off more than that.
    let short = StockChange::state_move(
        level,
        UnitState::SafetyStock,
        UnitState::Available,
        2,
        "release".into(),
        UserId::new(),
        now(),
    );
    let refused = shop.commit(vec![short], DocumentWrite::None).await;
    assert!(
        matches!(&refused, Err(LedgerError::Insufficient(s)) if (s[0].requested, s[0].available) == (2, 1)),
        "{refused:?}"
    );
    let write_off = StockChange::adjustment(
        level,
        -3,
        UnitState::Damaged,
        None,
        "binned".into(),
        UserId::new(),
        now(),
    );
    let done = shop
        .commit(vec![write_off], DocumentWrite::None)
        .await
        .unwrap();
    assert_eq!(
        done.applied[0].after.available(),
        6,
        "writing off damaged leaves available"
    );

    let movements = shop
        .store
        .list_movements(
            &shop.tenant,
            &MovementFilter::default(),
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        movements
            .iter()
            .map(|m| (m.kind, m.quantity, m.unavailable))
            .collect::<Vec<_>>(),
        vec![
            (
                MovementKind::Adjustment,
                -3,
                Unavailable::of(UnitState::Damaged, -3)
            ),
            (
                MovementKind::Move,
                0,
                Unavailable {
                    quality_control: -1,
                    safety_stock: 1,
                    ..Unavailable::default()
                }
            ),
            (
                MovementKind::Move,
                0,
                Unavailable::of(UnitState::QualityControl, 4)
            ),
            (
                MovementKind::Adjustment,
                3,
                Unavailable::of(UnitState::Damaged, 3)
            ),
            (MovementKind::Adjustment, 10, Unavailable::default()),
        ]
    );
    assert_eq!(
        ReportRepository::stock_at(&shop.store, &shop.tenant, &v, Utc::now(), None)
            .await
            .unwrap(),
        Replayed {
            on_hand: 10,
            unavailable: Unavailable {
                damaged: 0,
                quality_control: 3,
                safety_stock: 1
            }
        }
    );
    assert!(shop
        .store
        .audit(&shop.tenant)
        .await
        .unwrap()
        .drift
        .is_empty());

    // Low stock judges available: 6 is above the reorder level 2 until 4 more go to QC.
    let low = |shop: &Shop| {
        let store = shop.store.clone();
        let tenant = shop.tenant;
        async move {
            let all = ReportRepository::low_stock(&store, &tenant, now(), None)
                .await
                .unwrap();
            let here = ReportRepository::low_stock(&store, &tenant, now(), Some(main))
                .await
                .unwrap();
            let listed = VariantRepository::list(
                &store,
                &tenant,
                &domain::catalog::models::VariantFilter {
                    low_stock: true,
                    ..Default::default()
                },
                &PageRequest::first(10),
            )
            .await
            .unwrap()
            .items;
            let at = LocationRepository::levels(
                &store,
                &tenant,
                &main,
                &LevelFilter { low_stock: true },
                &PageRequest::first(10),
            )
            .await
            .unwrap()
            .items;
            (
                all.iter().map(|r| r.stock).collect::<Vec<_>>(),
                here.iter().map(|r| r.stock).collect::<Vec<_>>(),
                listed.len(),
                at.iter().map(|l| l.stock).collect::<Vec<_>>(),
            )
        }
    };
    assert_eq!(low(&shop).await, (vec![], vec![], 0, vec![]));
    let inspect = StockChange::state_move(
        level,
        UnitState::Available,
        UnitState::QualityControl,
        4,
        "inspect".into(),
        UserId::new(),
        now(),
    );
    shop.commit(vec![inspect], DocumentWrite::None)
        .await
        .unwrap();
    assert_eq!(low(&shop).await, (vec![2], vec![2], 1, vec![2]));

    // Tampered behind the ledger: the audit names the state.
    shop.behind_the_ledger(
        "UPDATE stock_levels SET safety_stock = 5 WHERE variant_id = ?1",
        vec![v.to_string().into()],
    )
    .await;
    assert_eq!(
        shop.store.audit(&shop.tenant).await.unwrap().drift,
        vec![Drift {
            variant_id: v,
            location_id: Some(main),
            state: AuditedState::SafetyStock,
            sku: "TEE-M".into(),
            stock: 5,
            ledger_sum: 1,
        }]
    );
}

#[tokio::test]
async fn the_audit_compares_live_holds_with_live_active_reservations() {
    let shop = Shop::open().await;
    let v = shop.variant("TEE-M").await;
    let main = shop.main.id;
    shop.adjust(v, main, 10).await;
    let backed = reservation(shop.tenant, v, main, 3, in_ms(60_000));
    let lapsed = reservation(shop.tenant, v, main, 2, in_ms(-1));
    for r in [&backed, &lapsed] {
        shop.reserve(r).await.unwrap();
    }
    assert!(shop
        .store
        .audit(&shop.tenant)
        .await
        .unwrap()
        .drift
        .is_empty());

    // A hold with no reservation behind it.
    let stray = reservation(shop.tenant, v, main, 2, in_ms(60_000));
    shop.commit(place(&stray), DocumentWrite::None)
        .await
        .unwrap();
    let reserved = |stock, ledger_sum| Drift {
        variant_id: v,
        location_id: Some(main),
        state: AuditedState::Reserved,
        sku: "TEE-M".into(),
        stock,
        ledger_sum,
    };
    assert_eq!(
        shop.store.audit(&shop.tenant).await.unwrap().drift,
        vec![reserved(5, 3)]
    );
    // A reservation whose hold is gone, and a tampered on-hand beside it, in report order.
    shop.behind_the_ledger(
        "DELETE FROM holds WHERE reservation_id = ?1 OR reservation_id = ?2",
        vec![stray.id.to_string().into(), backed.id.to_string().into()],
    )
    .await;
    shop.behind_the_ledger(
        "UPDATE stock_levels SET stock = 11 WHERE variant_id = ?1",
        vec![v.to_string().into()],
    )
    .await;
    let drift = shop.store.audit(&shop.tenant).await.unwrap().drift;
    assert_eq!(
        drift
            .iter()
            .map(|d| (d.state, d.stock, d.ledger_sum))
            .collect::<Vec<_>>(),
        vec![
            (AuditedState::OnHand, 11, 10),
            (AuditedState::Reserved, 0, 3)
        ]
    );
}

#[tokio::test]
async fn a_live_hold_keeps_its_variant_and_product_and_expired_ones_go_with_them() {
    let shop = Shop::open().await;
    let v = shop.variant(&format!("TEE-{}", unique())).await;
    let main = shop.main.id;
    // A hold on a level holding nothing: only tampering can leave one, but it must still keep
    // the variant.
    let until = in_ms(60_000).timestamp_millis();
    shop.behind_the_ledger(
        "INSERT INTO holds (tenant_id, reservation_id, variant_id, location_id, quantity,
                            expires_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5)",
        vec![
            shop.tenant.to_string().into(),
            ReservationId::new().to_string().into(),
            v.to_string().into(),
            main.to_string().into(),
            until.into(),
        ],
    )
    .await;
    let refused = VariantRepository::delete(&shop.store, &shop.tenant, &v, None).await;
    assert!(matches!(refused, Err(StoreError::InUse)), "{refused:?}");
    let refused = ProductRepository::delete(&shop.store, &shop.tenant, &shop.product, None).await;
    assert!(matches!(refused, Err(StoreError::InUse)), "{refused:?}");

    shop.behind_the_ledger(
        "UPDATE holds SET expires_at = ?1",
        vec![(until - 120_000).into()],
    )
    .await;
    VariantRepository::delete(&shop.store, &shop.tenant, &v, None)
        .await
        .unwrap();
    let left: i64 = shop
        .store
        .read("counting holds", |tx| {
            tx.query_row("SELECT count(*) FROM holds", params![], |r| r.get(0))
        })
        .await
        .unwrap();
    assert_eq!(left, 0, "the expired hold went with its variant");
}
