//! Reservation holds, embedded in the variant document (`holds: [{r, l, q, e}]`): placed, taken,
//! dropped and extended by the ledger's conditional write, counted as reserved only while live —
//! in reads, in reports and in the conditional write itself — and refused (`HoldGone`) when a
//! take or an extension finds the hold expired or missing.

use chrono::{DateTime, Duration, Utc};
use domain::catalog::models::VariantFilter;
use domain::catalog::ports::{ProductRepository, VariantRepository};
use domain::error::Shortage;
use domain::ids::{LocationId, OrderId, ReservationId, UserId, VariantId};
use domain::locations::models::LevelFilter;
use domain::locations::ports::LocationRepository;
use domain::orders::ports::OrderRepository;
use domain::pagination::PageRequest;
use domain::reports::ports::ReportRepository;
use domain::reservations::models::{Reservation, ReservationStatus};
use domain::reservations::ports::ReservationRepository;
use domain::stock::models::{DocumentWrite, LedgerError, LedgerWrite, Level, StockChange};
use domain::stock::ports::LedgerRepository;
use domain::stock::state::{Claims, StockState};
use domain::StoreError;
use mongodb::bson::{doc, Bson};

use crate::support::{
    changes, collection, now, placed_order, raw_variant, reservation, set, Shop, TestDb,
};

/// `units` on hand, `reserved` of them held.
fn held(units: i64, reserved: i64) -> StockState {
    StockState::new(
        units,
        Claims {
            reserved,
            ..Claims::default()
        },
    )
}

/// The write that places `r`'s holds and inserts it.
fn placing(r: &Reservation) -> LedgerWrite {
    LedgerWrite {
        changes: holds_of(r, |level, qty| {
            StockChange::place_hold(level, qty, r.id, r.expires_at, r.created_by, now())
        }),
        document: DocumentWrite::InsertReservation(r.clone()),
        idempotency: None,
    }
}

/// One change per level `r` holds units at.
fn holds_of(r: &Reservation, change: impl Fn(Level, i64) -> StockChange) -> Vec<StockChange> {
    r.lines
        .iter()
        .flat_map(|l| {
            l.allocations
                .iter()
                .map(|a| change(Level::new(l.variant_id, a.location_id), a.quantity))
                .collect::<Vec<_>>()
        })
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

/// The write that confirms `r` into an order: its holds taken into the order's commitment.
fn confirming(r: &Reservation) -> (LedgerWrite, OrderId) {
    let line = &r.lines[0];
    let order = placed_order(
        &r.tenant_id,
        line.variant_id,
        line.allocations[0].location_id,
        line.quantity,
    );
    let mut confirmed = next(r, ReservationStatus::Confirmed);
    confirmed.order_id = Some(order.id);
    let order_id = order.id;
    (
        LedgerWrite {
            changes: holds_of(r, |level, qty| {
                StockChange::take_hold(level, qty, r.id, order_id, UserId::new(), now())
            }),
            document: DocumentWrite::ConfirmReservation {
                reservation: confirmed,
                expected_version: r.version,
                order,
            },
            idempotency: None,
        },
        order_id,
    )
}

async fn until(instant: DateTime<Utc>) {
    let wait = instant - Utc::now() + Duration::milliseconds(20);
    if let Ok(wait) = wait.to_std() {
        tokio::time::sleep(wait).await;
    }
}

async fn read(db: &TestDb, shop: &Shop, v: &VariantId) -> domain::catalog::models::Variant {
    VariantRepository::get(&db.store, &shop.tenant, v)
        .await
        .unwrap()
        .expect("the variant")
}

async fn stored(db: &TestDb, shop: &Shop, r: &Reservation) -> Reservation {
    ReservationRepository::get(&db.store, &shop.tenant, &r.id)
        .await
        .unwrap()
        .expect("the reservation")
}

#[tokio::test]
async fn a_hold_reserves_units_in_every_read_and_write_until_the_instant_it_expires() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "holds-expiry").await;
    let v = shop.variant(store, "TS-1", 5).await; // reorder level 2
    let expires = now() + Duration::milliseconds(2500);
    let r = reservation(&shop.tenant, v, shop.main, 3, expires);

    let placed = store
        .commit(&shop.tenant, placing(&r))
        .await
        .expect("3 of 5");
    let applied = &placed.applied[0];
    assert_eq!(applied.movement, None, "a hold moves nothing");
    assert_eq!(
        (applied.before, applied.after, applied.total_after),
        (held(5, 0), held(5, 3), held(5, 3))
    );
    let raw = raw_variant(&db, &v).await;
    assert_eq!(
        raw.get_array("holds").unwrap(),
        &vec![Bson::Document(doc! {
            "r": r.id.to_string(),
            "l": shop.main.to_string(),
            "q": 3_i64,
            "e": mongodb::bson::DateTime::from_millis(expires.timestamp_millis()),
        })]
    );
    assert_eq!(stored(&db, &shop, &r).await, r);

    // Reads: the variant, its levels, the location's levels and the low-stock views.
    let variant = read(&db, &shop, &v).await;
    assert_eq!((variant.stock, variant.state), (2, held(5, 3)));
    assert_eq!(
        variant
            .levels
            .iter()
            .map(|l| (l.location_id, l.stock, l.state))
            .collect::<Vec<_>>(),
        vec![(shop.main, 2, held(5, 3))]
    );
    let low_variants = || async {
        VariantRepository::list(
            store,
            &shop.tenant,
            &VariantFilter {
                low_stock: true,
                ..Default::default()
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|v| (v.id, v.stock))
        .collect::<Vec<_>>()
    };
    let low_levels = || async {
        LocationRepository::levels(
            store,
            &shop.tenant,
            &shop.main,
            &LevelFilter { low_stock: true },
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|l| (l.variant_id, l.stock, l.state))
        .collect::<Vec<_>>()
    };
    let low_report = |at: Option<LocationId>| async move {
        store
            .low_stock(&shop.tenant, now() - Duration::days(30), at)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.variant.id, r.stock))
            .collect::<Vec<_>>()
    };
    assert_eq!(low_variants().await, vec![(v, 2)]);
    assert_eq!(low_levels().await, vec![(v, 2, held(5, 3))]);
    assert_eq!(low_report(None).await, vec![(v, 2)]);
    assert_eq!(low_report(Some(shop.main)).await, vec![(v, 2)]);

    // Writes: the held units are not available to an order.
    let order = placed_order(&shop.tenant, v, shop.main, 3);
    let commit = |order: domain::orders::models::Order| {
        let change = StockChange::commit(
            Level::new(v, shop.main),
            order.lines[0].quantity,
            order.id,
            order.placed_by,
            now(),
        );
        store.commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![change],
                document: DocumentWrite::InsertOrder(order),
                idempotency: None,
            },
        )
    };
    match commit(order.clone()).await {
        Err(LedgerError::Insufficient(s)) => assert_eq!(
            s,
            vec![Shortage {
                variant_id: v,
                location_id: Some(shop.main),
                requested: 3,
                available: 2,
            }]
        ),
        other => panic!("expected a shortage, got {other:?}"),
    }
    assert!(store.audit(&shop.tenant).await.unwrap().drift.is_empty());

    // From the instant it expires the hold counts for nothing, though nothing swept it.
    until(expires).await;
    assert_eq!(
        raw_variant(&db, &v).await.get_array("holds").unwrap().len(),
        1
    );
    let variant = read(&db, &shop, &v).await;
    assert_eq!((variant.stock, variant.state), (5, held(5, 0)));
    assert!(low_variants().await.is_empty());
    assert!(low_levels().await.is_empty());
    assert!(low_report(None).await.is_empty());
    assert!(low_report(Some(shop.main)).await.is_empty());
    assert!(
        store.audit(&shop.tenant).await.unwrap().drift.is_empty(),
        "an expired hold and its expired reservation agree"
    );
    let committed = commit(order).await.expect("the expired hold holds nothing");
    assert_eq!(
        committed.applied[0].after,
        StockState::new(5, Claims::committed(3))
    );
    db.drop().await;
}

#[tokio::test]
async fn a_hold_is_placed_only_from_available_units_and_counts_for_its_own_take() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "holds-take").await;
    let v = shop.variant(store, "TS-1", 5).await;
    let later = now() + Duration::minutes(10);

    let greedy = reservation(&shop.tenant, v, shop.main, 6, later);
    match store.commit(&shop.tenant, placing(&greedy)).await {
        Err(LedgerError::Insufficient(s)) => assert_eq!(
            s,
            vec![Shortage {
                variant_id: v,
                location_id: Some(shop.main),
                requested: 6,
                available: 5,
            }]
        ),
        other => panic!("expected a shortage, got {other:?}"),
    }
    assert_eq!(
        ReservationRepository::get(store, &shop.tenant, &greedy.id)
            .await
            .unwrap(),
        None,
        "nothing of a refused write is stored"
    );

    // Every unit held: available is 0, and taking the hold (which counts as live for its own
    // take) still commits all of them.
    let r = reservation(&shop.tenant, v, shop.main, 5, later);
    store.commit(&shop.tenant, placing(&r)).await.unwrap();
    assert_eq!(read(&db, &shop, &v).await.stock, 0);
    let (confirm, order_id) = confirming(&r);
    let confirmed = store.commit(&shop.tenant, confirm).await.expect("taken");
    let applied = &confirmed.applied[0];
    assert_eq!(applied.movement, None);
    assert_eq!(
        (applied.before, applied.after),
        (held(5, 5), StockState::new(5, Claims::committed(5)))
    );
    assert!(raw_variant(&db, &v)
        .await
        .get_array("holds")
        .unwrap()
        .is_empty());
    let now_stored = stored(&db, &shop, &r).await;
    assert_eq!(
        (now_stored.status, now_stored.order_id, now_stored.version),
        (ReservationStatus::Confirmed, Some(order_id), 2)
    );
    assert!(OrderRepository::get(store, &shop.tenant, &order_id)
        .await
        .unwrap()
        .is_some());
    let audit = store.audit(&shop.tenant).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);

    // Taking it again: the hold is gone, and nothing of the write is applied.
    let (again, second_order) = confirming(&r);
    let mut again = again;
    if let DocumentWrite::ConfirmReservation {
        expected_version, ..
    } = &mut again.document
    {
        *expected_version = 2;
    }
    match store.commit(&shop.tenant, again).await {
        Err(LedgerError::HoldGone(id)) => assert_eq!(id, r.id),
        other => panic!("expected the hold gone, got {other:?}"),
    }
    assert!(OrderRepository::get(store, &shop.tenant, &second_order)
        .await
        .unwrap()
        .is_none());
    assert_eq!(stored(&db, &shop, &r).await.version, 2);
    db.drop().await;
}

#[tokio::test]
async fn taking_an_expired_or_missing_hold_is_hold_gone_and_writes_nothing() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "holds-gone").await;
    let v = shop.variant(store, "TS-1", 5).await;
    let expires = now() + Duration::milliseconds(800);
    let r = reservation(&shop.tenant, v, shop.main, 2, expires);
    store.commit(&shop.tenant, placing(&r)).await.unwrap();
    until(expires).await;

    let (confirm, order_id) = confirming(&r);
    match store.commit(&shop.tenant, confirm).await {
        Err(LedgerError::HoldGone(id)) => assert_eq!(id, r.id),
        other => panic!("expected the hold gone, got {other:?}"),
    }
    // The reservation, the order and the hold are as they were.
    assert_eq!(stored(&db, &shop, &r).await, r);
    assert!(OrderRepository::get(store, &shop.tenant, &order_id)
        .await
        .unwrap()
        .is_none());
    let raw = raw_variant(&db, &v).await;
    assert_eq!(raw.get_array("holds").unwrap().len(), 1);
    assert_eq!(raw.get_i64("committedTotal").unwrap_or(0), 0);

    // A reservation that never held units at the level.
    let never = reservation(&shop.tenant, v, shop.main, 1, now() + Duration::minutes(5));
    let take = StockChange::take_hold(
        Level::new(v, shop.main),
        1,
        never.id,
        OrderId::new(),
        UserId::new(),
        now(),
    );
    match store.commit(&shop.tenant, changes(vec![take])).await {
        Err(LedgerError::HoldGone(id)) => assert_eq!(id, never.id),
        other => panic!("expected the hold gone, got {other:?}"),
    }
    // A hold of the reservation at another level is not this level's.
    let elsewhere = LocationId::new();
    let take = StockChange::take_hold(
        Level::new(v, elsewhere),
        2,
        r.id,
        OrderId::new(),
        UserId::new(),
        now(),
    );
    assert!(matches!(
        store.commit(&shop.tenant, changes(vec![take])).await,
        Err(LedgerError::HoldGone(_))
    ));
    // A variant that does not exist is missing, before any hold is looked for.
    let ghost = VariantId::new();
    let take = StockChange::take_hold(
        Level::new(ghost, shop.main),
        1,
        r.id,
        OrderId::new(),
        UserId::new(),
        now(),
    );
    match store.commit(&shop.tenant, changes(vec![take])).await {
        Err(LedgerError::VariantMissing(id)) => assert_eq!(id, ghost),
        other => panic!("expected the variant missing, got {other:?}"),
    }

    // A stale version is a conflict before the hold is judged.
    let live = reservation(&shop.tenant, v, shop.main, 1, now() + Duration::minutes(5));
    store.commit(&shop.tenant, placing(&live)).await.unwrap();
    let (mut stale, _) = confirming(&live);
    if let DocumentWrite::ConfirmReservation {
        expected_version, ..
    } = &mut stale.document
    {
        *expected_version = 7;
    }
    assert!(matches!(
        store.commit(&shop.tenant, stale).await,
        Err(LedgerError::Store(StoreError::VersionConflict))
    ));
    assert_eq!(read(&db, &shop, &v).await.state, held(5, 1));
    db.drop().await;
}

#[tokio::test]
async fn a_live_hold_is_extended_and_any_hold_dropped() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "holds-extend").await;
    let v = shop.variant(store, "TS-1", 5).await;
    let level = Level::new(v, shop.main);
    let soon = now() + Duration::milliseconds(1500);
    let r = reservation(&shop.tenant, v, shop.main, 2, soon);
    store.commit(&shop.tenant, placing(&r)).await.unwrap();

    // Extended while live: it outlives its first expiry.
    let later = now() + Duration::minutes(10);
    let mut extended = next(&r, ReservationStatus::Active);
    extended.expires_at = later;
    let extension = LedgerWrite {
        changes: vec![StockChange::extend_hold(
            level,
            r.id,
            later,
            UserId::new(),
            now(),
        )],
        document: DocumentWrite::UpdateReservation {
            reservation: extended.clone(),
            expected_version: 1,
        },
        idempotency: None,
    };
    let applied = store.commit(&shop.tenant, extension).await.expect("live");
    assert_eq!(
        (applied.applied[0].before, applied.applied[0].after),
        (held(5, 2), held(5, 2))
    );
    let raw = raw_variant(&db, &v).await;
    let hold = raw.get_array("holds").unwrap()[0].as_document().unwrap();
    assert_eq!(
        hold.get_datetime("e").unwrap().timestamp_millis(),
        later.timestamp_millis()
    );
    assert_eq!(stored(&db, &shop, &r).await, extended);
    until(soon).await;
    assert_eq!(read(&db, &shop, &v).await.state, held(5, 2));
    assert!(store.audit(&shop.tenant).await.unwrap().drift.is_empty());

    // An expired hold cannot be extended.
    let brief = now() + Duration::milliseconds(600);
    let short = reservation(&shop.tenant, v, shop.main, 1, brief);
    store.commit(&shop.tenant, placing(&short)).await.unwrap();
    until(brief).await;
    let too_late = StockChange::extend_hold(level, short.id, later, UserId::new(), now());
    match store.commit(&shop.tenant, changes(vec![too_late])).await {
        Err(LedgerError::HoldGone(id)) => assert_eq!(id, short.id),
        other => panic!("expected the hold gone, got {other:?}"),
    }

    // Dropped: the expired one (it held nothing), then the live one (its units come back).
    let swept = StockChange::drop_hold(level, 1, false, short.id, UserId::new(), now());
    let dropped = store
        .commit(&shop.tenant, changes(vec![swept]))
        .await
        .expect("an expired hold is dropped");
    assert_eq!(dropped.applied[0].after, held(5, 2));
    assert_eq!(
        raw_variant(&db, &v).await.get_array("holds").unwrap().len(),
        1
    );
    let release = StockChange::drop_hold(level, 2, true, r.id, UserId::new(), now());
    let released = store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: vec![release.clone()],
                document: DocumentWrite::UpdateReservation {
                    reservation: next(&extended, ReservationStatus::Released),
                    expected_version: 2,
                },
                idempotency: None,
            },
        )
        .await
        .expect("a live hold is dropped");
    assert_eq!(
        (released.applied[0].before, released.applied[0].after),
        (held(5, 2), held(5, 0))
    );
    assert!(raw_variant(&db, &v)
        .await
        .get_array("holds")
        .unwrap()
        .is_empty());
    assert_eq!(
        stored(&db, &shop, &r).await.status,
        ReservationStatus::Released
    );
    // Dropping what is not there requires nothing; on a missing variant it is still missing.
    store
        .commit(&shop.tenant, changes(vec![release]))
        .await
        .expect("nothing to drop");
    let ghost = StockChange::drop_hold(
        Level::new(VariantId::new(), shop.main),
        1,
        true,
        ReservationId::new(),
        UserId::new(),
        now(),
    );
    assert!(matches!(
        store.commit(&shop.tenant, changes(vec![ghost])).await,
        Err(LedgerError::VariantMissing(_))
    ));
    assert_eq!(read(&db, &shop, &v).await.state, held(5, 0));
    let audit = store.audit(&shop.tenant).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);
    db.drop().await;
}

#[tokio::test]
async fn a_live_hold_keeps_its_variant_and_product_from_being_deleted() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "holds-delete").await;
    let v = shop.variant(store, "TS-1", 0).await;
    // Holds need units; here one is left behind on a variant holding none.
    let e = |t: DateTime<Utc>| mongodb::bson::DateTime::from_millis(t.timestamp_millis());
    let live = doc! {
        "r": ReservationId::new().to_string(),
        "l": shop.main.to_string(),
        "q": 1_i64,
        "e": e(now() + Duration::minutes(5)),
    };
    set(&db, &v, doc! { "holds": [live] }).await;
    assert!(matches!(
        VariantRepository::delete(store, &shop.tenant, &v, None).await,
        Err(StoreError::InUse)
    ));
    assert!(matches!(
        ProductRepository::delete(store, &shop.tenant, &shop.product, None).await,
        Err(StoreError::InUse)
    ));
    set(
        &db,
        &v,
        doc! { "holds.0.e": e(now() - Duration::seconds(1)) },
    )
    .await;
    VariantRepository::delete(store, &shop.tenant, &v, None)
        .await
        .expect("an expired hold holds nothing");
    let w = shop.variant(store, "TS-2", 0).await;
    set(
        &db,
        &w,
        doc! { "holds": [{ "r": "x", "l": shop.main.to_string(), "q": 1_i64, "e": e(now() - Duration::seconds(1)) }] },
    )
    .await;
    ProductRepository::delete(store, &shop.tenant, &shop.product, None)
        .await
        .expect("an expired hold holds nothing");
    assert_eq!(
        collection(&db, "variants")
            .await
            .count_documents(doc! {})
            .await
            .unwrap(),
        0
    );
    db.drop().await;
}
