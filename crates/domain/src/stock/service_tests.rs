//! Adjustments over mocked ports: the change the service commits, and that what it answers and
//! announces comes from what the store committed rather than from its own reading.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};

use super::models::{Committed, DocumentWrite, LedgerError, LedgerWrite, Level, MovementKind};
use super::service::Adjustment;
use crate::auth::models::{Actor, Role};
use crate::catalog::models::Variant;
use crate::error::{DomainError, Shortage};
use crate::events::DomainEvent;
use crate::ids::LocationId;
use crate::locations::models::Location;
use crate::lock::{LockGuard, LockKey};
use crate::stock::state::UnitState;
use crate::stock::state::{Claims, StockState};
use crate::testing::{actor, committed, home, location, stocked, variant, MockPorts};
use crate::values::{StockDelta, StockLevel, Text};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 5, 6, 7, 8, 9).unwrap()
}

fn adjustment(quantity: i64, expected: Option<i64>) -> Adjustment {
    Adjustment {
        quantity: StockDelta::new(quantity).unwrap(),
        reason: Text::long("cycle count").unwrap(),
        expected_stock: expected.map(|e| StockLevel::new(e).unwrap()),
        location_id: None,
        state: UnitState::Available,
    }
}

/// Ports where `v` reads as stored, its lock is free, and every ledger write is recorded and
/// answered by `answer`.
fn ports_for(
    who: &Actor,
    v: &Variant,
    answer: impl Fn(&LedgerWrite) -> Result<Committed, LedgerError> + Send + Sync + 'static,
) -> (MockPorts, Arc<Mutex<Vec<LedgerWrite>>>) {
    let mut ports = MockPorts::default();
    ports.one_location();
    let (tenant, id, stored) = (who.tenant_id, v.id, v.clone());
    ports
        .variants
        .expect_get()
        .withf(move |t, i| *t == tenant && *i == id)
        .returning(move |_, _| Ok(Some(stored.clone())));
    ports
        .lock
        .expect_acquire()
        .withf(move |keys, _| keys == [LockKey::level(&tenant, &Level::new(id, home()))])
        .times(1)
        .returning(|_, _| Ok(LockGuard::empty()));
    let writes = Arc::new(Mutex::new(Vec::new()));
    let log = writes.clone();
    ports
        .ledger
        .expect_commit()
        .times(1)
        .returning(move |_, w| {
            let out = answer(&w);
            log.lock().unwrap().push(w);
            out
        });
    (ports, writes)
}

fn events_log(ports: &mut MockPorts) -> Arc<Mutex<Vec<DomainEvent>>> {
    let published = Arc::new(Mutex::new(Vec::new()));
    let log = published.clone();
    ports
        .events
        .expect_publish()
        .returning(move |events| log.lock().unwrap().extend(events));
    published
}

#[tokio::test]
async fn an_adjustment_commits_one_adjustment_change_as_the_caller_asked() {
    let who = actor(Role::Manager);
    let tenant = who.tenant_id;
    let v = variant(tenant, 6, 0);
    let (mut ports, writes) = ports_for(&who, &v, move |w| Ok(committed(tenant, w, &[6], 0)));
    ports.events.expect_publish().return_const(());
    let services = ports.build_at(now());

    services
        .stock
        .adjust(&who, &v.id, adjustment(-2, Some(6)), None)
        .await
        .unwrap();

    let writes = writes.lock().unwrap();
    let write = &writes[0];
    assert_eq!(write.document, DocumentWrite::None);
    assert!(write.idempotency.is_none());
    assert_eq!(write.changes.len(), 1);
    let c = &write.changes[0];
    assert_eq!(c.variant_id, v.id);
    assert_eq!(c.kind, MovementKind::Adjustment);
    assert_eq!(c.delta, -2);
    assert_eq!(
        c.expected_stock,
        Some(6),
        "compare-and-set on the stock the caller saw"
    );
    assert_eq!(c.reason.as_deref(), Some("cycle count"));
    assert_eq!(c.actor, who.user_id);
    assert_eq!(c.at, now());
    assert_eq!(c.location_id, home(), "no location named: the default");
    assert_eq!(
        (c.order_id, c.purchase_order_id, c.transfer_id, c.unit_cost),
        (None, None, None, None)
    );
}

#[tokio::test]
async fn an_adjustment_without_expected_stock_commits_no_compare_and_set() {
    let who = actor(Role::Owner);
    let tenant = who.tenant_id;
    let v = variant(tenant, 6, 0);
    let (mut ports, writes) = ports_for(&who, &v, move |w| Ok(committed(tenant, w, &[6], 0)));
    ports.events.expect_publish().return_const(());
    let services = ports.build_at(now());

    services
        .stock
        .adjust(&who, &v.id, adjustment(5, None), None)
        .await
        .unwrap();

    let c = &writes.lock().unwrap()[0].changes[0];
    assert_eq!((c.delta, c.expected_stock), (5, None));
}

#[tokio::test]
async fn an_adjustment_answers_with_the_movement_and_stock_the_store_committed() {
    let who = actor(Role::Manager);
    let tenant = who.tenant_id;
    // Read at 6, but another writer added 5 before the lock was taken: the store applies +3 to
    // 11, and the answer must say 14, not the 9 the reading would suggest.
    let v = variant(tenant, 6, 0);
    let (mut ports, writes) = ports_for(&who, &v, move |w| Ok(committed(tenant, w, &[11], 0)));
    ports.events.expect_publish().return_const(());
    let services = ports.build_at(now());

    let done = services
        .stock
        .adjust(&who, &v.id, adjustment(3, None), None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    let writes = writes.lock().unwrap();
    let expected = committed(tenant, &writes[0], &[11], 0).applied[0]
        .movement
        .clone()
        .unwrap();
    assert_eq!(done.stock, 14);
    assert_eq!(done.level_stock, 14);
    assert_eq!(done.movement, expected);
    assert_eq!(done.movement.id, writes[0].changes[0].movement_id);
}

#[tokio::test]
async fn a_shortage_found_by_the_store_is_negative_stock_at_the_stock_the_store_saw() {
    let who = actor(Role::Manager);
    let tenant = who.tenant_id;
    // The reading (5) allows −3; by the time of the write only 1 is left.
    let v = variant(tenant, 5, 0);
    let id = v.id;
    let (mut ports, writes) = ports_for(&who, &v, move |_| {
        Err(LedgerError::Insufficient(vec![Shortage {
            variant_id: id,
            location_id: Some(home()),
            requested: 3,
            available: 1,
        }]))
    });
    ports.events.expect_publish().never();
    let services = ports.build_at(now());

    let err = services
        .stock
        .adjust(&who, &id, adjustment(-3, None), None)
        .await
        .unwrap_err();

    assert_eq!(writes.lock().unwrap()[0].changes[0].delta, -3);
    assert!(
        matches!(
            err,
            DomainError::NegativeStock {
                current: 1,
                delta: -3
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn stock_events_describe_the_committed_movement_and_a_crossing_of_the_reorder_level() {
    let who = actor(Role::Manager);
    let tenant = who.tenant_id;
    // Read at 9; the store found 6 and took it to 5, reaching the reorder level of 5.
    let v = variant(tenant, 9, 5);
    let (mut ports, writes) = ports_for(&who, &v, move |w| Ok(committed(tenant, w, &[6], 5)));
    let published = events_log(&mut ports);
    let services = ports.build_at(now());

    services
        .stock
        .adjust(&who, &v.id, adjustment(-1, None), None)
        .await
        .unwrap();

    let writes = writes.lock().unwrap();
    let applied = committed(tenant, &writes[0], &[6], 5).applied[0].clone();
    let m = applied.movement.as_ref().unwrap();
    assert_eq!(
        *published.lock().unwrap(),
        vec![
            DomainEvent::StockChanged {
                tenant_id: tenant,
                variant_id: v.id,
                location_id: home(),
                sku: applied.sku.clone(),
                total: StockState::new(5, Claims::default()),
                level: StockState::new(5, Claims::default()),
                delta: -1,
                movement: Some((MovementKind::Adjustment, m.id)),
                order_id: None,
                reservation_id: None,
                at: m.created_at,
            },
            DomainEvent::StockLow {
                tenant_id: tenant,
                variant_id: v.id,
                location_id: home(),
                sku: applied.sku.clone(),
                stock: 5,
                reorder_level: 5,
                at: m.created_at,
            },
        ]
    );
}

#[tokio::test]
async fn stock_already_at_or_below_the_reorder_level_is_not_announced_low_again() {
    let who = actor(Role::Manager);
    let tenant = who.tenant_id;
    let v = variant(tenant, 5, 5);
    let (mut ports, _) = ports_for(&who, &v, move |w| Ok(committed(tenant, w, &[5], 5)));
    let published = events_log(&mut ports);
    let services = ports.build_at(now());

    services
        .stock
        .adjust(&who, &v.id, adjustment(-1, None), None)
        .await
        .unwrap();

    let names: Vec<_> = published.lock().unwrap().iter().map(|e| e.name()).collect();
    assert_eq!(names, vec!["stock.changed"]);
}

// ---- at a named location ----

/// A default location holding 10 of a variant and a shop holding 3 (13 in all).
fn at_two_locations(who: &Actor) -> (MockPorts, Variant, LocationId) {
    let main = Location {
        is_default: true,
        ..location(who.tenant_id, "MAIN", 0)
    };
    let shop = location(who.tenant_id, "SHOP", 10);
    let shop_id = shop.id;
    let v = stocked(who.tenant_id, &[(main.id, 10), (shop_id, 3)]);
    let mut ports = MockPorts::default();
    ports.locations_of(vec![main, shop]);
    let stored = v.clone();
    ports
        .variants
        .expect_get()
        .returning(move |_, _| Ok(Some(stored.clone())));
    (ports, v, shop_id)
}

fn adjustment_at(quantity: i64, expected: Option<i64>, location: LocationId) -> Adjustment {
    Adjustment {
        location_id: Some(location),
        ..adjustment(quantity, expected)
    }
}

#[tokio::test]
async fn an_adjustment_at_a_named_location_changes_that_level_and_answers_it_and_the_total() {
    let who = actor(Role::Manager);
    let tenant = who.tenant_id;
    let (mut ports, v, shop) = at_two_locations(&who);
    let id = v.id;
    ports
        .lock
        .expect_acquire()
        .withf(move |keys, _| keys == [LockKey::level(&tenant, &Level::new(id, shop))])
        .times(1)
        .returning(|_, _| Ok(LockGuard::empty()));
    let writes = Arc::new(Mutex::new(Vec::new()));
    let log = writes.clone();
    // The store takes the shop from 3 to 5 and the variant from 13 to 15.
    ports
        .ledger
        .expect_commit()
        .times(1)
        .returning(move |_, w| {
            let mut answer = committed(tenant, &w, &[3], 0);
            answer.applied[0].total_after = StockState::new(15, Claims::default());
            log.lock().unwrap().push(w);
            Ok(answer)
        });
    let published = events_log(&mut ports);
    let services = ports.build_at(now());

    let done = services
        .stock
        .adjust(&who, &id, adjustment_at(2, Some(3), shop), None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    let writes = writes.lock().unwrap();
    let c = &writes[0].changes[0];
    assert_eq!(c.level(), Level::new(id, shop));
    assert_eq!((c.delta, c.expected_stock), (2, Some(3)));
    assert_eq!((done.stock, done.level_stock), (15, 5));
    assert_eq!(done.movement.location_id, shop);
    let events = published.lock().unwrap();
    assert!(
        matches!(
            events.as_slice(),
            [DomainEvent::StockChanged {
                location_id,
                total,
                level,
                delta: 2,
                ..
            }] if *location_id == shop && total.available() == 15 && level.available() == 5
        ),
        "{events:?}"
    );
}

#[tokio::test]
async fn expected_stock_is_compared_with_the_level_not_the_variants_total() {
    let who = actor(Role::Manager);
    let (mut ports, v, shop) = at_two_locations(&who);
    ports.lock.expect_acquire().never();
    ports.ledger.expect_commit().never();
    ports.events.expect_publish().never();
    let services = ports.build_at(now());

    let err = services
        .stock
        .adjust(&who, &v.id, adjustment_at(1, Some(13), shop), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DomainError::StockMismatch {
                expected: 13,
                actual: 3
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_level_cannot_go_below_zero_whatever_the_other_locations_hold() {
    let who = actor(Role::Manager);
    let (mut ports, v, shop) = at_two_locations(&who);
    ports.lock.expect_acquire().never();
    ports.ledger.expect_commit().never();
    ports.events.expect_publish().never();
    let services = ports.build_at(now());

    let err = services
        .stock
        .adjust(&who, &v.id, adjustment_at(-4, None, shop), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DomainError::NegativeStock {
                current: 3,
                delta: -4
            }
        ),
        "{err:?}"
    );
}
