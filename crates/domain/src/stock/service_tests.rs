//! Adjustments over mocked ports: the change the service commits, and that what it answers and
//! announces comes from what the store committed rather than from its own reading.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};

use super::models::{Committed, DocumentWrite, LedgerError, LedgerWrite, MovementKind};
use super::service::Adjustment;
use crate::auth::models::{Actor, Role};
use crate::catalog::models::Variant;
use crate::error::{DomainError, Shortage};
use crate::events::DomainEvent;
use crate::lock::{LockGuard, LockKey};
use crate::testing::{actor, committed, variant, MockPorts};
use crate::values::{StockDelta, StockLevel, Text};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 5, 6, 7, 8, 9).unwrap()
}

fn adjustment(quantity: i64, expected: Option<i64>) -> Adjustment {
    Adjustment {
        quantity: StockDelta::new(quantity).unwrap(),
        reason: Text::long("cycle count").unwrap(),
        expected_stock: expected.map(|e| StockLevel::new(e).unwrap()),
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
    let (tenant, id, stored) = (who.tenant_id, v.id, v.clone());
    ports
        .variants
        .expect_get()
        .withf(move |t, i| *t == tenant && *i == id)
        .returning(move |_, _| Ok(Some(stored.clone())));
    ports
        .lock
        .expect_acquire()
        .withf(move |keys, _| keys == [LockKey::variant(&tenant, &id)])
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
    assert_eq!(
        (c.order_id, c.purchase_order_id, c.unit_cost),
        (None, None, None)
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
        .clone();
    assert_eq!(done.stock, 14);
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
    let m = &applied.movement;
    assert_eq!(
        *published.lock().unwrap(),
        vec![
            DomainEvent::StockChanged {
                tenant_id: tenant,
                variant_id: v.id,
                sku: applied.sku.clone(),
                stock: 5,
                delta: -1,
                movement_type: MovementKind::Adjustment,
                movement_id: m.id,
                at: m.created_at,
            },
            DomainEvent::StockLow {
                tenant_id: tenant,
                variant_id: v.id,
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
