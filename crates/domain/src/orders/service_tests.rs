//! Order use cases over mocked ports: where an order's units are drawn from, the locks it takes,
//! how a stale reading is retried, and that every refusal writes nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};

use super::models::{
    Allocation, LineRequest, NewOrder, Order, OrderLine, OrderStatus, ReturnRequest,
};
use crate::auth::models::{Actor, Role};
use crate::catalog::models::Variant;
use crate::error::{DomainError, Shortage};
use crate::events::DomainEvent;
use crate::ids::{LocationId, OrderId, VariantId};
use crate::locations::models::Location;
use crate::lock::{LockError, LockGuard, LockKey};
use crate::stock::models::{
    Committed, DocumentWrite, LedgerError, LedgerWrite, Level, MovementKind,
};
use crate::stock::placing::ALLOCATION_ATTEMPTS;
use crate::stock::state::UnitState;
use crate::testing::{actor, home, location, stocked, variant, MockPorts};
use crate::values::{Money, Quantity, Text};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 5, 6, 7, 8, 9).unwrap()
}

fn line(variant_id: VariantId, quantity: i64) -> LineRequest {
    LineRequest {
        variant_id,
        quantity: Quantity::new(quantity).unwrap(),
    }
}

fn order_of(lines: Vec<LineRequest>) -> NewOrder {
    NewOrder {
        lines,
        customer: None,
        note: None,
        location_id: None,
    }
}

fn order_at(location: LocationId, lines: Vec<LineRequest>) -> NewOrder {
    NewOrder {
        location_id: Some(location),
        ..order_of(lines)
    }
}

/// The tenant's default location, with `code` and `priority`.
fn default_location(who: &Actor, code: &str, priority: i64) -> Location {
    Location {
        is_default: true,
        ..location(who.tenant_id, code, priority)
    }
}

/// Ports where the listed variants exist with their stock.
fn ports_with(variants: Vec<Variant>) -> MockPorts {
    let mut ports = MockPorts::default();
    ports.variants.expect_get_many().returning(move |_, ids| {
        Ok(variants
            .iter()
            .filter(|v| ids.contains(&v.id))
            .cloned()
            .collect())
    });
    ports
}

/// Ports whose i-th reading of the variants is `readings[i]` (the last one once they run out);
/// the count of readings is returned.
fn ports_reading(readings: Vec<Vec<Variant>>) -> (MockPorts, Arc<AtomicUsize>) {
    let mut ports = MockPorts::default();
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    ports.variants.expect_get_many().returning(move |_, ids| {
        let i = counted
            .fetch_add(1, Ordering::SeqCst)
            .min(readings.len() - 1);
        Ok(readings[i]
            .iter()
            .filter(|v| ids.contains(&v.id))
            .cloned()
            .collect())
    });
    (ports, reads)
}

/// Every lock acquisition is granted and its keys recorded.
fn free_locks(ports: &mut MockPorts) -> Arc<Mutex<Vec<Vec<LockKey>>>> {
    let taken = Arc::new(Mutex::new(Vec::new()));
    let log = taken.clone();
    ports.lock.expect_acquire().returning(move |keys, _| {
        log.lock().unwrap().push(keys.to_vec());
        Ok(LockGuard::empty())
    });
    taken
}

/// Every ledger write is recorded and answered by `answer(i, write)` for the i-th one.
fn record_commits(
    ports: &mut MockPorts,
    answer: impl Fn(usize, &LedgerWrite) -> Result<Committed, LedgerError> + Send + Sync + 'static,
) -> Arc<Mutex<Vec<LedgerWrite>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    ports.ledger.expect_commit().returning(move |_, write| {
        let mut log = log.lock().unwrap();
        let out = answer(log.len(), &write);
        log.push(write);
        out
    });
    seen
}

/// Nothing may be locked, committed or published.
fn expect_nothing_written(ports: &mut MockPorts) {
    ports.lock.expect_acquire().never();
    ports.ledger.expect_commit().never();
    ports.ledger.expect_commit_batch().never();
    ports.events.expect_publish().never();
}

fn inserted(write: &LedgerWrite) -> &Order {
    match &write.document {
        DocumentWrite::InsertOrder(order) => order,
        other => panic!("expected an order insert, got {other:?}"),
    }
}

/// `(variant, location, units)` of every change, in the order written: the units each takes from
/// (−) or gives back to (+) what is available there.
fn moves(write: &LedgerWrite) -> Vec<(VariantId, LocationId, i64)> {
    write
        .changes
        .iter()
        .map(|c| (c.variant_id, c.location_id, c.available_delta()))
        .collect()
}

/// The sorted lock keys of `levels`.
fn keys_of(who: &Actor, levels: &[Level]) -> Vec<LockKey> {
    let mut levels = levels.to_vec();
    levels.sort();
    levels
        .iter()
        .map(|l| LockKey::level(&who.tenant_id, l))
        .collect()
}

fn drawn(line: &OrderLine) -> Vec<(LocationId, i64)> {
    line.allocations
        .iter()
        .map(|a| (a.location_id, a.quantity))
        .collect()
}

#[tokio::test]
async fn locks_are_taken_in_sorted_order_and_demand_is_summed_per_variant() {
    let who = actor(Role::Staff);
    let a = variant(who.tenant_id, 10, 0);
    let b = variant(who.tenant_id, 10, 0);
    let (a_id, b_id) = (a.id, b.id);
    assert!(a_id < b_id);
    let mut ports = ports_with(vec![a, b]);
    ports.one_location();
    let tenant = who.tenant_id;
    ports
        .lock
        .expect_acquire()
        .withf(move |keys, _| {
            keys == [
                LockKey::level(&tenant, &Level::new(a_id, home())),
                LockKey::level(&tenant, &Level::new(b_id, home())),
            ]
        })
        .times(1)
        .returning(|_, _| Ok(LockGuard::empty()));
    ports
        .ledger
        .expect_commit()
        .withf(move |_, write| {
            moves(write) == vec![(a_id, home(), -3), (b_id, home(), -2)]
                && matches!(&write.document, DocumentWrite::InsertOrder(o) if o.lines.len() == 2)
        })
        .times(1)
        .returning(|_, _| Ok(Committed::default()));
    ports.events.expect_publish().return_const(());
    let services = ports.build();

    // B first, A twice: one change per variant, sorted, A summed to 3.
    let order = services
        .orders
        .place(
            &who,
            order_of(vec![line(b_id, 2), line(a_id, 1), line(a_id, 2)]),
            None,
        )
        .await
        .unwrap()
        .fresh()
        .unwrap();
    assert_eq!(order.lines[0].variant_id, b_id);
    assert_eq!(order.lines[1].quantity, 3);
    assert_eq!(drawn(&order.lines[1]), vec![(home(), 3)]);
    assert_eq!(order.total.minor_units(), 5 * 1250);
    assert_eq!(order.status, OrderStatus::Placed);
    assert_eq!(
        order.location_id, None,
        "allocated, not asked of a location"
    );
}

#[tokio::test]
async fn a_short_line_refuses_the_whole_order_and_lists_every_shortage() {
    let who = actor(Role::Staff);
    let a = variant(who.tenant_id, 1, 0);
    let b = variant(who.tenant_id, 0, 0);
    let c = variant(who.tenant_id, 50, 0);
    let (a_id, b_id, c_id) = (a.id, b.id, c.id);
    let mut ports = ports_with(vec![a, b, c]);
    ports.one_location();
    expect_nothing_written(&mut ports);
    let services = ports.build();

    let err = services
        .orders
        .place(
            &who,
            order_of(vec![line(a_id, 2), line(b_id, 1), line(c_id, 1)]),
            None,
        )
        .await
        .unwrap_err();
    let DomainError::InsufficientStock(short) = err else {
        panic!("expected insufficient stock, got {err:?}");
    };
    assert_eq!(
        short,
        vec![
            Shortage {
                variant_id: a_id,
                location_id: None,
                requested: 2,
                available: 1
            },
            Shortage {
                variant_id: b_id,
                location_id: None,
                requested: 1,
                available: 0
            },
        ]
    );
}

#[tokio::test]
async fn the_stores_refusal_is_final_for_an_order_naming_a_location_even_when_the_reading_looked_fine(
) {
    let who = actor(Role::Staff);
    let main = default_location(&who, "MAIN", 0);
    let shop = location(who.tenant_id, "SHOP", 10);
    let a = stocked(who.tenant_id, &[(main.id, 50), (shop.id, 1)]);
    let a_id = a.id;
    let shop_id = shop.id;
    let mut ports = ports_with(vec![a]);
    ports.locations_of(vec![main, shop]);
    free_locks(&mut ports);
    let refusal = Shortage {
        variant_id: a_id,
        location_id: Some(shop_id),
        requested: 1,
        available: 0,
    };
    let answered = refusal.clone();
    ports
        .ledger
        .expect_commit()
        .times(1)
        .returning(move |_, _| Err(LedgerError::Insufficient(vec![answered.clone()])));
    ports.events.expect_publish().never();
    let services = ports.build();

    let err = services
        .orders
        .place(&who, order_at(shop_id, vec![line(a_id, 1)]), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::InsufficientStock(s) if *s == vec![refusal]),
        "the ledger's shortage at the location, not re-allocated elsewhere: {err:?}"
    );
}

#[tokio::test]
async fn unknown_variants_are_named_by_line() {
    let who = actor(Role::Staff);
    let a = variant(who.tenant_id, 5, 0);
    let a_id = a.id;
    let mut ports = ports_with(vec![a]);
    ports.one_location();
    expect_nothing_written(&mut ports);
    let services = ports.build();

    let err = services
        .orders
        .place(
            &who,
            order_of(vec![line(a_id, 1), line(VariantId::new(), 1)]),
            None,
        )
        .await
        .unwrap_err();
    let DomainError::Validation(fields) = err else {
        panic!("expected validation error");
    };
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].field, "lines[1].variantId");
}

#[tokio::test]
async fn a_variant_deleted_before_the_write_is_named_by_its_line() {
    let who = actor(Role::Staff);
    let (a, b) = (variant(who.tenant_id, 5, 0), variant(who.tenant_id, 5, 0));
    let (a_id, b_id) = (a.id, b.id);
    let mut ports = ports_with(vec![a, b]);
    ports.one_location();
    free_locks(&mut ports);
    ports
        .ledger
        .expect_commit()
        .times(1)
        .returning(move |_, _| Err(LedgerError::VariantMissing(b_id)));
    ports.events.expect_publish().never();
    let services = ports.build();

    let err = services
        .orders
        .place(&who, order_of(vec![line(a_id, 1), line(b_id, 1)]), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::Validation(f) if f.len() == 1 && f[0].field == "lines[1].variantId"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_lock_timeout_is_retryable_and_writes_nothing() {
    let who = actor(Role::Staff);
    let a = variant(who.tenant_id, 5, 0);
    let a_id = a.id;
    let mut ports = ports_with(vec![a]);
    ports.one_location();
    ports
        .lock
        .expect_acquire()
        .returning(|_, _| Err(LockError::Timeout));
    ports.ledger.expect_commit().never();
    let services = ports.build();

    let err = services
        .orders
        .place(&who, order_of(vec![line(a_id, 1)]), None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::LockTimeout));
}

// ---- allocation across locations ----

#[tokio::test]
async fn an_order_naming_no_location_draws_on_the_default_then_by_priority_then_code() {
    let who = actor(Role::Staff);
    let tenant = who.tenant_id;
    // Created (and so listed) in an order that is not the allocation order.
    let b10 = location(tenant, "B", 10);
    let a10 = location(tenant, "A", 10);
    let closed = Location {
        active: false,
        ..location(tenant, "0", 0)
    };
    let c5 = location(tenant, "C", 5);
    let main = default_location(&who, "ZZZ", 500);
    let (b10_id, a10_id, closed_id, c5_id, main_id) = (b10.id, a10.id, closed.id, c5.id, main.id);
    // `x` needs every location but the closed one, and the last it reaches only in part.
    let x = stocked(
        tenant,
        &[
            (main_id, 1),
            (c5_id, 1),
            (a10_id, 1),
            (b10_id, 5),
            (closed_id, 100),
        ],
    );
    // `y` is served by the default alone.
    let y = stocked(tenant, &[(main_id, 4), (b10_id, 9)]);
    let (x_id, y_id) = (x.id, y.id);
    let mut ports = ports_with(vec![x, y]);
    ports.locations_of(vec![b10, a10, closed, c5, main]);
    let taken = free_locks(&mut ports);
    let seen = record_commits(&mut ports, |_, _| Ok(Committed::default()));
    ports.events.expect_publish().return_const(());
    let services = ports.build_at(now());

    let order = services
        .orders
        .place(&who, order_of(vec![line(x_id, 5), line(y_id, 3)]), None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    assert_eq!(
        drawn(&order.lines[0]),
        vec![(main_id, 1), (c5_id, 1), (a10_id, 1), (b10_id, 2)],
        "default first, then priority 5, then priority 10 by code; the line split"
    );
    assert_eq!(drawn(&order.lines[1]), vec![(main_id, 3)]);
    assert!(order
        .lines
        .iter()
        .flat_map(|l| &l.allocations)
        .all(|a| a.returned == 0));

    let writes = seen.lock().unwrap();
    assert_eq!(writes.len(), 1);
    let write = &writes[0];
    assert_eq!(inserted(write), &order, "the answer is what was inserted");
    let levels: Vec<Level> = write.changes.iter().map(|c| c.level()).collect();
    let mut sorted = levels.clone();
    sorted.sort();
    assert_eq!(levels, sorted, "one change per level, in level order");
    let mut expected = vec![
        (x_id, main_id, -1),
        (x_id, c5_id, -1),
        (x_id, a10_id, -1),
        (x_id, b10_id, -2),
        (y_id, main_id, -3),
    ];
    expected.sort_by_key(|(v, l, _)| Level::new(*v, *l));
    assert_eq!(moves(write), expected);
    assert!(write
        .changes
        .iter()
        .all(|c| c.kind == MovementKind::Sale && c.order_id == Some(order.id)));

    let taken = taken.lock().unwrap();
    assert_eq!(taken.len(), 1, "one lock hold for the order");
    assert_eq!(
        taken[0],
        keys_of(&who, &levels),
        "one key per level, sorted"
    );
    assert!(taken[0].windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn an_order_naming_a_location_draws_only_there() {
    let who = actor(Role::Staff);
    let main = default_location(&who, "MAIN", 0);
    let shop = location(who.tenant_id, "SHOP", 10);
    let (main_id, shop_id) = (main.id, shop.id);
    let a = stocked(who.tenant_id, &[(main_id, 100), (shop_id, 2)]);
    let a_id = a.id;
    let mut ports = ports_with(vec![a]);
    ports.locations_of(vec![main, shop]);
    let taken = free_locks(&mut ports);
    let seen = record_commits(&mut ports, |_, _| Ok(Committed::default()));
    ports.events.expect_publish().return_const(());
    let services = ports.build();

    let order = services
        .orders
        .place(&who, order_at(shop_id, vec![line(a_id, 2)]), None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    assert_eq!(order.location_id, Some(shop_id));
    assert_eq!(drawn(&order.lines[0]), vec![(shop_id, 2)]);
    assert_eq!(moves(&seen.lock().unwrap()[0]), vec![(a_id, shop_id, -2)]);
    assert_eq!(
        *taken.lock().unwrap(),
        vec![keys_of(&who, &[Level::new(a_id, shop_id)])]
    );
}

#[tokio::test]
async fn an_order_naming_a_location_is_short_by_that_locations_stock_alone() {
    let who = actor(Role::Staff);
    let main = default_location(&who, "MAIN", 0);
    let shop = location(who.tenant_id, "SHOP", 10);
    let (main_id, shop_id) = (main.id, shop.id);
    let a = stocked(who.tenant_id, &[(main_id, 100), (shop_id, 1)]);
    let a_id = a.id;
    let mut ports = ports_with(vec![a]);
    ports.locations_of(vec![main, shop]);
    expect_nothing_written(&mut ports);
    let services = ports.build();

    let err = services
        .orders
        .place(&who, order_at(shop_id, vec![line(a_id, 2)]), None)
        .await
        .unwrap_err();
    let DomainError::InsufficientStock(short) = err else {
        panic!("expected insufficient stock, got {err:?}");
    };
    assert_eq!(
        short,
        vec![Shortage {
            variant_id: a_id,
            location_id: Some(shop_id),
            requested: 2,
            available: 1
        }]
    );
}

#[tokio::test]
async fn an_allocation_the_ledger_refuses_is_read_again_and_allocated_anew() {
    let who = actor(Role::Staff);
    let main = default_location(&who, "MAIN", 0);
    let shop = location(who.tenant_id, "SHOP", 10);
    let (main_id, shop_id) = (main.id, shop.id);
    // Read with 2 at the default; another order took them before this one's write.
    let before = stocked(who.tenant_id, &[(main_id, 2), (shop_id, 5)]);
    let a_id = before.id;
    let mut after = stocked(who.tenant_id, &[(main_id, 0), (shop_id, 5)]);
    after.id = a_id;
    let (mut ports, reads) = ports_reading(vec![vec![before], vec![after]]);
    ports.locations_of(vec![main, shop]);
    let taken = free_locks(&mut ports);
    let seen = record_commits(&mut ports, move |i, _| {
        if i == 0 {
            Err(LedgerError::Insufficient(vec![Shortage {
                variant_id: a_id,
                location_id: Some(main_id),
                requested: 2,
                available: 0,
            }]))
        } else {
            Ok(Committed::default())
        }
    });
    let published = Arc::new(Mutex::new(Vec::new()));
    let log = published.clone();
    ports
        .events
        .expect_publish()
        .returning(move |events| log.lock().unwrap().extend(events));
    let services = ports.build();

    let order = services
        .orders
        .place(&who, order_of(vec![line(a_id, 4)]), None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    let writes = seen.lock().unwrap();
    assert_eq!(writes.len(), 2, "committed again after the refusal");
    assert_eq!(reads.load(Ordering::SeqCst), 2, "from a fresh reading");
    let mut first = vec![(a_id, main_id, -2), (a_id, shop_id, -2)];
    first.sort_by_key(|(v, l, _)| Level::new(*v, *l));
    assert_eq!(moves(&writes[0]), first);
    assert_eq!(moves(&writes[1]), vec![(a_id, shop_id, -4)]);
    assert_eq!(inserted(&writes[1]), &order);
    assert_eq!(drawn(&order.lines[0]), vec![(shop_id, 4)]);
    assert_eq!(
        taken.lock().unwrap().len(),
        2,
        "each attempt under its locks"
    );
    let names: Vec<_> = published.lock().unwrap().iter().map(|e| e.name()).collect();
    assert_eq!(names, vec!["order.placed"], "announced once, when placed");
}

#[tokio::test]
async fn after_every_attempt_is_refused_the_shortage_is_reported_over_all_locations() {
    let who = actor(Role::Staff);
    let main = default_location(&who, "MAIN", 0);
    let shop = location(who.tenant_id, "SHOP", 10);
    let (main_id, shop_id) = (main.id, shop.id);
    // Every allocation reads enough, and every write finds the default drained; the reading
    // taken to report the refusal shows what is left everywhere.
    let looked_fine = stocked(who.tenant_id, &[(main_id, 2), (shop_id, 5)]);
    let a_id = looked_fine.id;
    let mut left = stocked(who.tenant_id, &[(main_id, 0), (shop_id, 3)]);
    left.id = a_id;
    let mut readings = vec![vec![looked_fine]; ALLOCATION_ATTEMPTS as usize];
    readings.push(vec![left]);
    let (mut ports, reads) = ports_reading(readings);
    ports.locations_of(vec![main, shop]);
    free_locks(&mut ports);
    let seen = record_commits(&mut ports, move |_, _| {
        Err(LedgerError::Insufficient(vec![Shortage {
            variant_id: a_id,
            location_id: Some(main_id),
            requested: 2,
            available: 0,
        }]))
    });
    ports.events.expect_publish().never();
    let services = ports.build();

    let err = services
        .orders
        .place(&who, order_of(vec![line(a_id, 4)]), None)
        .await
        .unwrap_err();

    assert_eq!(seen.lock().unwrap().len(), ALLOCATION_ATTEMPTS as usize);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        ALLOCATION_ATTEMPTS as usize + 1
    );
    let DomainError::InsufficientStock(short) = err else {
        panic!("expected insufficient stock, got {err:?}");
    };
    assert_eq!(
        short,
        vec![Shortage {
            variant_id: a_id,
            location_id: None,
            requested: 4,
            available: 3
        }],
        "the whole line over every location, not the level the last write found short"
    );
}

// ---- transitions ----

/// A PLACED order of `v` whose units were taken from `allocations`.
fn placed(who: &Actor, v: &Variant, allocations: &[(LocationId, i64)]) -> Order {
    let quantity = allocations.iter().map(|(_, q)| q).sum();
    let then = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    Order {
        id: OrderId::new(),
        tenant_id: who.tenant_id,
        status: OrderStatus::Placed,
        lines: vec![OrderLine {
            variant_id: v.id,
            sku: v.sku.clone(),
            quantity,
            unit_price: v.price,
            line_total: v.price.checked_times(quantity).unwrap(),
            returned: 0,
            allocations: allocations
                .iter()
                .map(|(location_id, quantity)| Allocation {
                    location_id: *location_id,
                    quantity: *quantity,
                    returned: 0,
                })
                .collect(),
        }],
        customer: None,
        note: None,
        location_id: None,
        sold_at_placement: false,
        total: v.price.checked_times(quantity).unwrap(),
        placed_by: who.user_id,
        created_at: then,
        updated_at: then,
        version: 1,
    }
}

fn ports_holding(order: &Order) -> MockPorts {
    let mut ports = MockPorts::default();
    let (tenant, id, held) = (order.tenant_id, order.id, order.clone());
    ports
        .orders
        .expect_get()
        .withf(move |t, i| *t == tenant && *i == id)
        .returning(move |_, _| Ok(Some(held.clone())));
    ports
}

#[tokio::test]
async fn cancelling_releases_every_unit_where_it_was_committed_under_those_levels_locks() {
    let who = actor(Role::Manager);
    let main_location = default_location(&who, "MAIN", 0);
    let shop_location = location(who.tenant_id, "SHOP", 10);
    let (main, shop) = (main_location.id, shop_location.id);
    let v = variant(who.tenant_id, 0, 0);
    let order = placed(&who, &v, &[(shop, 2), (main, 3)]);
    let mut ports = ports_holding(&order);
    ports.locations_of(vec![main_location, shop_location]);
    let taken = free_locks(&mut ports);
    let seen = record_commits(&mut ports, |_, _| Ok(Committed::default()));
    ports
        .events
        .expect_publish()
        .withf(|events| matches!(events.as_slice(), [DomainEvent::OrderCancelled { .. }]))
        .times(1)
        .return_const(());
    let services = ports.build_at(now());

    let cancelled = services
        .orders
        .cancel(&who, &order.id, None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    let writes = seen.lock().unwrap();
    let write = &writes[0];
    let mut expected = vec![(v.id, shop, 2), (v.id, main, 3)];
    expected.sort_by_key(|(v, l, _)| Level::new(*v, *l));
    assert_eq!(moves(write), expected);
    // A release moves no unit: nothing left the shelves when the order was placed.
    assert!(write.changes.iter().all(|c| c.delta == 0));
    let DocumentWrite::UpdateOrder {
        order: written,
        expected_version,
    } = &write.document
    else {
        panic!("expected an order update, got {:?}", write.document);
    };
    assert_eq!((*expected_version, written.version), (1, 2));
    assert_eq!(written, &cancelled);
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(
        *taken.lock().unwrap(),
        vec![keys_of(
            &who,
            &[Level::new(v.id, shop), Level::new(v.id, main)]
        )]
    );
}

#[tokio::test]
async fn a_return_to_a_named_location_lands_there() {
    let who = actor(Role::Manager);
    let mut ports = MockPorts::default();
    let main = default_location(&who, "MAIN", 0);
    let outlet = location(who.tenant_id, "OUTLET", 50);
    let (main_id, outlet_id) = (main.id, outlet.id);
    ports.locations_of(vec![main, outlet]);
    let v = variant(who.tenant_id, 0, 0);
    let order = Order {
        status: OrderStatus::Fulfilled,
        ..placed(&who, &v, &[(main_id, 3)])
    };
    let (tenant, id, held) = (order.tenant_id, order.id, order.clone());
    ports
        .orders
        .expect_get()
        .withf(move |t, i| *t == tenant && *i == id)
        .returning(move |_, _| Ok(Some(held.clone())));
    free_locks(&mut ports);
    let seen = record_commits(&mut ports, |_, _| Ok(Committed::default()));
    ports.events.expect_publish().return_const(());
    let services = ports.build();

    let request = ReturnRequest {
        lines: vec![line(v.id, 2)],
        reason: Text::long("unwanted").unwrap(),
        location_id: Some(outlet_id),
        state: UnitState::Available,
    };
    let returned = services
        .orders
        .return_items(&who, &order.id, request, None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    assert_eq!(moves(&seen.lock().unwrap()[0]), vec![(v.id, outlet_id, 2)]);
    assert_eq!(returned.status, OrderStatus::PartiallyReturned);
    assert_eq!(returned.lines[0].allocations[0].returned, 2);
}

#[tokio::test]
async fn a_cancelled_order_cannot_be_fulfilled() {
    let who = actor(Role::Manager);
    let mut ports = MockPorts::default();
    let tenant = who.tenant_id;
    let user = who.user_id;
    ports.orders.expect_get().returning(move |_, id| {
        let now = chrono::Utc::now();
        Ok(Some(Order {
            id: *id,
            tenant_id: tenant,
            status: OrderStatus::Cancelled,
            lines: Vec::new(),
            customer: None,
            note: None,
            location_id: None,
            sold_at_placement: false,
            total: Money::ZERO,
            placed_by: user,
            created_at: now,
            updated_at: now,
            version: 2,
        }))
    });
    ports.ledger.expect_commit().never();
    let services = ports.build();

    let err = services
        .orders
        .fulfil(&who, &OrderId::new(), None)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        DomainError::InvalidTransition {
            from: "CANCELLED",
            to: "FULFILLED"
        }
    ));
}

#[tokio::test]
async fn units_taken_from_a_location_deactivated_since_come_back_to_the_default() {
    let who = actor(Role::Manager);
    let main_location = default_location(&who, "MAIN", 0);
    let closed = Location {
        active: false,
        ..location(who.tenant_id, "CLOSED", 10)
    };
    let (main, gone) = (main_location.id, closed.id);
    let v = variant(who.tenant_id, 0, 0);
    let order = Order {
        status: OrderStatus::Fulfilled,
        ..placed(&who, &v, &[(gone, 2), (main, 3)])
    };
    let mut ports = ports_holding(&order);
    ports.locations_of(vec![main_location, closed]);
    free_locks(&mut ports);
    let seen = record_commits(&mut ports, |_, _| Ok(Committed::default()));
    ports.events.expect_publish().return_const(());
    let services = ports.build_at(now());

    let request = ReturnRequest {
        lines: vec![line(v.id, 5)],
        reason: Text::long("unwanted").unwrap(),
        location_id: None,
        state: UnitState::Available,
    };
    let returned = services
        .orders
        .return_items(&who, &order.id, request, None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    // One RETURN at the default for all five units: the closed location receives nothing.
    assert_eq!(moves(&seen.lock().unwrap()[0]), vec![(v.id, main, 5)]);
    // The order still says where the units were taken from.
    assert_eq!(returned.lines[0].allocations.len(), 2);
}

#[tokio::test]
async fn cancelling_releases_units_where_they_were_committed_even_at_a_location_closed_since() {
    let who = actor(Role::Manager);
    let main_location = default_location(&who, "MAIN", 0);
    let closed = Location {
        active: false,
        ..location(who.tenant_id, "CLOSED", 10)
    };
    let (main, gone) = (main_location.id, closed.id);
    let v = variant(who.tenant_id, 0, 0);
    let order = placed(&who, &v, &[(gone, 2), (main, 3)]);
    let mut ports = ports_holding(&order);
    ports.locations_of(vec![main_location, closed]);
    free_locks(&mut ports);
    let seen = record_commits(&mut ports, |_, _| Ok(Committed::default()));
    ports.events.expect_publish().return_const(());
    let services = ports.build_at(now());

    services.orders.cancel(&who, &order.id, None).await.unwrap();

    // The units never left their shelves: each level's commitment is released where it is.
    let mut released = moves(&seen.lock().unwrap()[0]);
    released.sort();
    let mut expected = vec![(v.id, gone, 2), (v.id, main, 3)];
    expected.sort();
    assert_eq!(released, expected);
    assert!(seen.lock().unwrap()[0].changes.iter().all(|c| c.delta == 0));
}
