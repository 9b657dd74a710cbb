//! Purchasing use cases over mocked ports: what the service writes, and that every refusal
//! writes nothing.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};

use super::models::{
    NewPurchaseOrder, PurchaseLineRequest, PurchaseOrder, PurchaseOrderLine, PurchaseOrderPatch,
    PurchaseOrderStatus as Status, Supplier,
};
use crate::auth::models::{Actor, Role};
use crate::error::{DomainError, FieldError, StoreError};
use crate::events::DomainEvent;
use crate::ids::{PurchaseOrderId, SupplierId, VariantId};
use crate::lock::{LockGuard, LockKey};
use crate::orders::models::LineRequest;
use crate::stock::models::{
    Committed, DocumentWrite, LedgerError, LedgerWrite, Level, MovementKind,
};
use crate::testing::{actor, home, variant, MockPorts};
use crate::values::{Money, Quantity, Text};

/// The instant the pinned clock answers.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 5, 6, 7, 8, 9).unwrap()
}

fn supplier(who: &Actor) -> Supplier {
    let then = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    Supplier {
        id: SupplierId::new(),
        tenant_id: who.tenant_id,
        name: Text::name("Cotton Mills").unwrap(),
        email: None,
        phone: None,
        lead_time_days: Some(14),
        created_at: then,
        updated_at: then,
    }
}

fn request(variant_id: VariantId, quantity: i64, cost: i64) -> PurchaseLineRequest {
    PurchaseLineRequest {
        variant_id,
        quantity: Quantity::new(quantity).unwrap(),
        unit_cost: Money::new(cost).unwrap(),
    }
}

fn receipt(variant_id: VariantId, quantity: i64) -> LineRequest {
    LineRequest {
        variant_id,
        quantity: Quantity::new(quantity).unwrap(),
    }
}

/// A stored purchase order at version 3 with `(variant, ordered, received, unit cost)` lines.
fn stored(who: &Actor, status: Status, lines: &[(VariantId, i64, i64, i64)]) -> PurchaseOrder {
    let then = Utc.with_ymd_and_hms(2025, 12, 1, 9, 0, 0).unwrap();
    PurchaseOrder {
        id: PurchaseOrderId::new(),
        tenant_id: who.tenant_id,
        supplier_id: SupplierId::new(),
        location_id: home(),
        status,
        lines: lines
            .iter()
            .map(
                |&(variant_id, quantity, received, cost)| PurchaseOrderLine {
                    variant_id,
                    quantity,
                    unit_cost: Money::new(cost).unwrap(),
                    received,
                },
            )
            .collect(),
        expected_at: None,
        created_by: who.user_id,
        created_at: then,
        updated_at: then,
        version: 3,
    }
}

/// Ports where the supplier and the variants exist in the actor's tenant.
fn ports_knowing(who: &Actor, supplier: Option<Supplier>, variants: &[VariantId]) -> MockPorts {
    let mut ports = MockPorts::default();
    let tenant = who.tenant_id;
    ports
        .suppliers
        .expect_get()
        .withf(move |t, _| *t == tenant)
        .returning(move |_, id| Ok(supplier.clone().filter(|s| s.id == *id)));
    let known: Vec<_> = variants
        .iter()
        .map(|id| {
            let mut v = variant(tenant, 0, 0);
            v.id = *id;
            v
        })
        .collect();
    ports
        .variants
        .expect_get_many()
        .withf(move |t, _| *t == tenant)
        .returning(move |_, ids| {
            Ok(known
                .iter()
                .filter(|v| ids.contains(&v.id))
                .cloned()
                .collect())
        });
    ports
}

/// Ports holding `po`, read back only in its tenant and under its id.
fn ports_holding(po: &PurchaseOrder) -> MockPorts {
    let mut ports = MockPorts::default();
    let (tenant, id) = (po.tenant_id, po.id);
    let po = po.clone();
    ports
        .purchase_orders
        .expect_get()
        .withf(move |t, i| *t == tenant && *i == id)
        .returning(move |_, _| Ok(Some(po.clone())));
    ports
}

/// Nothing may be locked, committed or published.
fn expect_nothing_written(ports: &mut MockPorts) {
    ports.lock.expect_acquire().never();
    ports.ledger.expect_commit().never();
    ports.ledger.expect_commit_batch().never();
    ports.events.expect_publish().never();
}

/// Records every ledger write, answering `answer` for each.
fn record_commits(
    ports: &mut MockPorts,
    answer: impl Fn() -> Result<Committed, LedgerError> + Send + Sync + 'static,
) -> Arc<Mutex<Vec<LedgerWrite>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    ports.ledger.expect_commit().returning(move |_, write| {
        log.lock().unwrap().push(write);
        answer()
    });
    seen
}

fn the_only(seen: &Mutex<Vec<LedgerWrite>>) -> LedgerWrite {
    let writes = seen.lock().unwrap();
    assert_eq!(writes.len(), 1, "exactly one ledger write");
    writes[0].clone()
}

/// The purchase order a write replaces, and the version it expected.
fn updated(write: &LedgerWrite) -> (PurchaseOrder, i64) {
    match &write.document {
        DocumentWrite::UpdatePurchaseOrder {
            purchase_order,
            expected_version,
        } => (purchase_order.clone(), *expected_version),
        other => panic!("expected a purchase-order update, got {other:?}"),
    }
}

fn fields(err: DomainError) -> Vec<String> {
    match err {
        DomainError::Validation(fields) => {
            fields.into_iter().map(|f: FieldError| f.field).collect()
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

// ---- creating ----

#[tokio::test]
async fn a_variant_listed_twice_is_refused_naming_the_repeated_line() {
    let who = actor(Role::Manager);
    let s = supplier(&who);
    let (a, b) = (VariantId::new(), VariantId::new());
    let mut ports = ports_knowing(&who, Some(s.clone()), &[a, b]);
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let new = NewPurchaseOrder {
        supplier_id: s.id,
        location_id: None,
        lines: vec![request(a, 5, 100), request(b, 5, 100), request(a, 2, 100)],
        expected_at: None,
    };
    let err = services
        .purchasing
        .create_purchase_order(&who, new, None)
        .await
        .unwrap_err();
    assert_eq!(fields(err), vec!["lines[2].variantId"]);
}

#[tokio::test]
async fn a_purchase_order_without_lines_is_refused() {
    let who = actor(Role::Manager);
    let s = supplier(&who);
    let mut ports = ports_knowing(&who, Some(s.clone()), &[]);
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let new = NewPurchaseOrder {
        supplier_id: s.id,
        location_id: None,
        lines: Vec::new(),
        expected_at: None,
    };
    let err = services
        .purchasing
        .create_purchase_order(&who, new, None)
        .await
        .unwrap_err();
    assert_eq!(fields(err), vec!["lines"]);
}

#[tokio::test]
async fn an_unknown_supplier_and_an_unknown_variant_are_named_together() {
    let who = actor(Role::Manager);
    let a = VariantId::new();
    let mut ports = ports_knowing(&who, None, &[a]);
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let new = NewPurchaseOrder {
        supplier_id: SupplierId::new(),
        location_id: None,
        lines: vec![request(a, 1, 100), request(VariantId::new(), 1, 100)],
        expected_at: None,
    };
    let err = services
        .purchasing
        .create_purchase_order(&who, new, None)
        .await
        .unwrap_err();
    assert_eq!(fields(err), vec!["supplierId", "lines[1].variantId"]);
}

#[tokio::test]
async fn a_new_purchase_order_is_inserted_as_a_draft_with_nothing_received_or_moved() {
    let who = actor(Role::Manager);
    let s = supplier(&who);
    let (a, b) = (VariantId::new(), VariantId::new());
    let mut ports = ports_knowing(&who, Some(s.clone()), &[a, b]);
    ports.one_location();
    // No stock moves, so no variant lock is taken.
    ports.lock.expect_acquire().never();
    ports.events.expect_publish().never();
    let seen = record_commits(&mut ports, || Ok(Committed::default()));
    let services = ports.build_at(now());

    let new = NewPurchaseOrder {
        supplier_id: s.id,
        location_id: None,
        lines: vec![request(b, 50, 650), request(a, 7, 120)],
        expected_at: None,
    };
    let po = services
        .purchasing
        .create_purchase_order(&who, new, None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    let write = the_only(&seen);
    assert!(write.changes.is_empty(), "a draft moves no stock");
    assert!(write.idempotency.is_none());
    let DocumentWrite::InsertPurchaseOrder(inserted) = &write.document else {
        panic!("expected an insert, got {:?}", write.document);
    };
    assert_eq!(inserted, &po, "the answer is what was inserted");
    assert_eq!(inserted.tenant_id, who.tenant_id);
    assert_eq!(inserted.supplier_id, s.id);
    assert_eq!(
        inserted.location_id,
        home(),
        "no destination named: the default"
    );
    assert_eq!(inserted.status, Status::Draft);
    assert_eq!(inserted.version, 1);
    assert_eq!(inserted.created_by, who.user_id);
    assert_eq!((inserted.created_at, inserted.updated_at), (now(), now()));
    let lines: Vec<_> = inserted
        .lines
        .iter()
        .map(|l| {
            (
                l.variant_id,
                l.quantity,
                l.unit_cost.minor_units(),
                l.received,
            )
        })
        .collect();
    assert_eq!(lines, vec![(b, 50, 650, 0), (a, 7, 120, 0)]);
}

#[tokio::test]
async fn staff_cannot_create_purchase_orders() {
    let who = actor(Role::Staff);
    let mut ports = MockPorts::default();
    ports.suppliers.expect_get().never();
    ports.variants.expect_get_many().never();
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let new = NewPurchaseOrder {
        supplier_id: SupplierId::new(),
        location_id: None,
        lines: vec![request(VariantId::new(), 1, 100)],
        expected_at: None,
    };
    let err = services
        .purchasing
        .create_purchase_order(&who, new, None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Forbidden), "{err:?}");
}

// ---- receiving ----

#[tokio::test]
async fn a_receipt_naming_a_variant_not_on_the_order_is_refused_and_writes_nothing() {
    let who = actor(Role::Staff);
    let a = VariantId::new();
    let po = stored(&who, Status::Ordered, &[(a, 10, 0, 650)]);
    let mut ports = ports_holding(&po);
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let err = services
        .purchasing
        .receive(
            &who,
            &po.id,
            vec![receipt(a, 2), receipt(VariantId::new(), 1)],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(fields(err), vec!["lines[1].variantId"]);
}

#[tokio::test]
async fn receiving_more_than_is_outstanding_is_refused_and_writes_nothing() {
    let who = actor(Role::Staff);
    let (a, b) = (VariantId::new(), VariantId::new());
    let po = stored(
        &who,
        Status::PartiallyReceived,
        &[(a, 10, 6, 650), (b, 5, 0, 100)],
    );
    let mut ports = ports_holding(&po);
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    // 4 are outstanding on `a`; `b` alone would be fine, but the receipt is refused whole.
    let err = services
        .purchasing
        .receive(&who, &po.id, vec![receipt(b, 5), receipt(a, 5)], None)
        .await
        .unwrap_err();
    let DomainError::Conflict(message) = err else {
        panic!("expected a conflict, got {err:?}");
    };
    assert!(message.contains(&a.to_string()), "{message}");
    assert!(!message.contains(&b.to_string()), "{message}");
}

#[tokio::test]
async fn lines_of_one_variant_are_summed_before_the_outstanding_check() {
    let who = actor(Role::Staff);
    let a = VariantId::new();
    let po = stored(&who, Status::PartiallyReceived, &[(a, 10, 6, 650)]);
    let mut ports = ports_holding(&po);
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    // 3 + 2 = 5 > 4 outstanding, though each line alone fits.
    let err = services
        .purchasing
        .receive(&who, &po.id, vec![receipt(a, 3), receipt(a, 2)], None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err:?}");
}

#[tokio::test]
async fn a_receipt_of_everything_outstanding_writes_purchases_and_completes_the_order() {
    let who = actor(Role::Staff);
    let (a, b) = (VariantId::new(), VariantId::new());
    let po = stored(
        &who,
        Status::PartiallyReceived,
        &[(b, 5, 0, 100), (a, 10, 6, 650)],
    );
    let mut ports = ports_holding(&po);
    let tenant = who.tenant_id;
    let mut keys = vec![
        LockKey::level(&tenant, &Level::new(a, home())),
        LockKey::level(&tenant, &Level::new(b, home())),
    ];
    keys.sort();
    ports
        .lock
        .expect_acquire()
        .withf(move |k, _| k == keys.as_slice())
        .times(1)
        .returning(|_, _| Ok(LockGuard::empty()));
    let seen = record_commits(&mut ports, || Ok(Committed::default()));
    let published = Arc::new(Mutex::new(Vec::new()));
    let log = published.clone();
    ports
        .events
        .expect_publish()
        .returning(move |events| log.lock().unwrap().extend(events));
    let services = ports.build_at(now());

    let answer = services
        .purchasing
        .receive(&who, &po.id, vec![receipt(b, 5), receipt(a, 4)], None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    let write = the_only(&seen);
    let mut changes: Vec<_> = write
        .changes
        .iter()
        .map(|c| {
            assert_eq!(c.kind, MovementKind::Purchase);
            assert_eq!(c.purchase_order_id, Some(po.id));
            assert_eq!(c.location_id, po.location_id, "received at the destination");
            assert_eq!(c.order_id, None);
            assert_eq!(c.expected_stock, None);
            assert_eq!(c.actor, who.user_id);
            assert_eq!(c.at, now());
            (c.variant_id, c.delta, c.unit_cost.map(Money::minor_units))
        })
        .collect();
    changes.sort();
    let mut expected = vec![(a, 4, Some(650)), (b, 5, Some(100))];
    expected.sort();
    assert_eq!(
        changes, expected,
        "one PURCHASE per variant at its line's cost"
    );

    let (written, expected_version) = updated(&write);
    assert_eq!(expected_version, 3, "guarded by the version read");
    assert_eq!(written.version, 4);
    assert_eq!(written.status, Status::Received);
    assert_eq!(written.updated_at, now());
    let received: Vec<_> = written
        .lines
        .iter()
        .map(|l| (l.variant_id, l.received))
        .collect();
    assert_eq!(received, vec![(b, 5), (a, 10)]);
    assert_eq!(answer, written, "the answer is what was written");

    let events = published.lock().unwrap();
    assert_eq!(
        *events,
        vec![DomainEvent::PurchaseOrderReceived {
            tenant_id: tenant,
            purchase_order_id: po.id,
            location_id: home(),
            status: "RECEIVED",
            at: now(),
        }]
    );
}

#[tokio::test]
async fn a_partial_receipt_moves_only_the_variants_received() {
    let who = actor(Role::Staff);
    let (a, b) = (VariantId::new(), VariantId::new());
    let po = stored(&who, Status::Ordered, &[(a, 10, 0, 650), (b, 5, 0, 100)]);
    let mut ports = ports_holding(&po);
    ports
        .lock
        .expect_acquire()
        .times(1)
        .returning(|_, _| Ok(LockGuard::empty()));
    let seen = record_commits(&mut ports, || Ok(Committed::default()));
    ports
        .events
        .expect_publish()
        .withf(|events| {
            matches!(
                events.as_slice(),
                [DomainEvent::PurchaseOrderReceived {
                    status: "PARTIALLY_RECEIVED",
                    ..
                }]
            )
        })
        .times(1)
        .return_const(());
    let services = ports.build_at(now());

    services
        .purchasing
        .receive(&who, &po.id, vec![receipt(a, 4)], None)
        .await
        .unwrap();

    let write = the_only(&seen);
    let changes: Vec<_> = write
        .changes
        .iter()
        .map(|c| (c.variant_id, c.delta))
        .collect();
    assert_eq!(
        changes,
        vec![(a, 4)],
        "no zero change for the line not received"
    );
    let (written, _) = updated(&write);
    assert_eq!(written.status, Status::PartiallyReceived);
    let received: Vec<_> = written.lines.iter().map(|l| l.received).collect();
    assert_eq!(received, vec![4, 0]);
}

#[tokio::test]
async fn a_receipt_losing_the_version_race_is_a_purchase_order_conflict_and_announces_nothing() {
    let who = actor(Role::Staff);
    let a = VariantId::new();
    let po = stored(&who, Status::Ordered, &[(a, 10, 0, 650)]);
    let mut ports = ports_holding(&po);
    ports
        .lock
        .expect_acquire()
        .returning(|_, _| Ok(LockGuard::empty()));
    let seen = record_commits(&mut ports, || {
        Err(LedgerError::Store(StoreError::VersionConflict))
    });
    ports.events.expect_publish().never();
    let services = ports.build_at(now());

    let err = services
        .purchasing
        .receive(&who, &po.id, vec![receipt(a, 4)], None)
        .await
        .unwrap_err();
    assert_eq!(updated(&the_only(&seen)).1, 3);
    let DomainError::VersionConflict { entity, id } = err else {
        panic!("expected the purchase order's version conflict, got {err:?}");
    };
    assert_eq!((entity, id), ("purchase order", po.id.to_string()));
}

#[tokio::test]
async fn receiving_is_refused_unless_ordered_or_partially_received() {
    for status in [
        Status::Draft,
        Status::Received,
        Status::Cancelled,
        Status::Closed,
    ] {
        let who = actor(Role::Staff);
        let a = VariantId::new();
        let po = stored(&who, status, &[(a, 10, 0, 650)]);
        let mut ports = ports_holding(&po);
        expect_nothing_written(&mut ports);
        let services = ports.build_at(now());

        let err = services
            .purchasing
            .receive(&who, &po.id, vec![receipt(a, 1)], None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                DomainError::InvalidTransition { from, to: "RECEIVED" } if from == status.as_str()
            ),
            "{status:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn receiving_an_unknown_purchase_order_is_not_found() {
    let who = actor(Role::Staff);
    let mut ports = MockPorts::default();
    ports
        .purchase_orders
        .expect_get()
        .returning(|_, _| Ok(None));
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let err = services
        .purchasing
        .receive(
            &who,
            &PurchaseOrderId::new(),
            vec![receipt(VariantId::new(), 1)],
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, DomainError::NotFound("purchase order")),
        "{err:?}"
    );
}

// ---- submit, cancel, edit ----

#[tokio::test]
async fn submitting_a_draft_writes_it_as_ordered_without_moving_stock() {
    let who = actor(Role::Manager);
    let po = stored(&who, Status::Draft, &[(VariantId::new(), 10, 0, 650)]);
    let mut ports = ports_holding(&po);
    ports.lock.expect_acquire().never();
    ports.events.expect_publish().never();
    let seen = record_commits(&mut ports, || Ok(Committed::default()));
    let services = ports.build_at(now());

    let answer = services
        .purchasing
        .submit(&who, &po.id, None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    let write = the_only(&seen);
    assert!(write.changes.is_empty());
    let (written, expected_version) = updated(&write);
    assert_eq!(expected_version, 3);
    assert_eq!(written.status, Status::Ordered);
    assert_eq!((written.version, written.updated_at), (4, now()));
    assert_eq!(written.lines, po.lines);
    assert_eq!(answer, written);
}

#[tokio::test]
async fn only_a_draft_can_be_submitted() {
    for status in [
        Status::Ordered,
        Status::PartiallyReceived,
        Status::Received,
        Status::Cancelled,
        Status::Closed,
    ] {
        let who = actor(Role::Manager);
        let po = stored(&who, status, &[(VariantId::new(), 10, 0, 650)]);
        let mut ports = ports_holding(&po);
        expect_nothing_written(&mut ports);
        let services = ports.build_at(now());

        let err = services
            .purchasing
            .submit(&who, &po.id, None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                DomainError::InvalidTransition { from, to: "ORDERED" } if from == status.as_str()
            ),
            "{status:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_submit_losing_the_version_race_is_a_purchase_order_conflict() {
    let who = actor(Role::Manager);
    let po = stored(&who, Status::Draft, &[(VariantId::new(), 10, 0, 650)]);
    let mut ports = ports_holding(&po);
    record_commits(&mut ports, || {
        Err(LedgerError::Store(StoreError::VersionConflict))
    });
    let services = ports.build_at(now());

    let err = services
        .purchasing
        .submit(&who, &po.id, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::VersionConflict { entity: "purchase order", id } if *id == po.id.to_string()),
        "{err:?}"
    );
}

#[tokio::test]
async fn cancelling_closes_a_partly_received_order_and_cancels_an_open_one() {
    for (from, to) in [
        (Status::Draft, Status::Cancelled),
        (Status::Ordered, Status::Cancelled),
        (Status::PartiallyReceived, Status::Closed),
    ] {
        let who = actor(Role::Manager);
        let po = stored(&who, from, &[(VariantId::new(), 10, 4, 650)]);
        let mut ports = ports_holding(&po);
        ports.lock.expect_acquire().never();
        let seen = record_commits(&mut ports, || Ok(Committed::default()));
        let services = ports.build_at(now());

        services
            .purchasing
            .cancel(&who, &po.id, None)
            .await
            .unwrap();

        let write = the_only(&seen);
        assert!(write.changes.is_empty(), "{from:?}: received stock stays");
        let (written, expected_version) = updated(&write);
        assert_eq!((written.status, expected_version), (to, 3), "{from:?}");
    }
}

#[tokio::test]
async fn a_received_cancelled_or_closed_order_cannot_be_cancelled() {
    for status in [Status::Received, Status::Cancelled, Status::Closed] {
        let who = actor(Role::Manager);
        let po = stored(&who, status, &[(VariantId::new(), 10, 10, 650)]);
        let mut ports = ports_holding(&po);
        expect_nothing_written(&mut ports);
        let services = ports.build_at(now());

        let err = services
            .purchasing
            .cancel(&who, &po.id, None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                DomainError::InvalidTransition { from, to: "CANCELLED" } if from == status.as_str()
            ),
            "{status:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn an_order_past_draft_cannot_be_edited_and_nothing_is_checked_or_written() {
    let who = actor(Role::Manager);
    let a = VariantId::new();
    let po = stored(&who, Status::Ordered, &[(a, 10, 0, 650)]);
    let mut ports = ports_holding(&po);
    ports.suppliers.expect_get().never();
    ports.variants.expect_get_many().never();
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let patch = PurchaseOrderPatch {
        lines: Some(vec![request(a, 20, 650)]),
        ..PurchaseOrderPatch::default()
    };
    let err = services
        .purchasing
        .update_purchase_order(&who, &po.id, patch, None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err:?}");
}

#[tokio::test]
async fn an_edit_repeating_a_variant_is_refused_and_writes_nothing() {
    let who = actor(Role::Manager);
    let a = VariantId::new();
    let po = stored(&who, Status::Draft, &[(a, 10, 0, 650)]);
    let mut ports = ports_knowing(&who, None, &[a]);
    let (tenant, id, held) = (po.tenant_id, po.id, po.clone());
    ports
        .purchase_orders
        .expect_get()
        .withf(move |t, i| *t == tenant && *i == id)
        .returning(move |_, _| Ok(Some(held.clone())));
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let patch = PurchaseOrderPatch {
        lines: Some(vec![request(a, 1, 650), request(a, 2, 650)]),
        ..PurchaseOrderPatch::default()
    };
    let err = services
        .purchasing
        .update_purchase_order(&who, &po.id, patch, None)
        .await
        .unwrap_err();
    assert_eq!(fields(err), vec!["lines[1].variantId"]);
}

#[tokio::test]
async fn an_edit_losing_the_version_race_is_a_purchase_order_conflict() {
    let who = actor(Role::Manager);
    let (a, b) = (VariantId::new(), VariantId::new());
    let po = stored(&who, Status::Draft, &[(a, 10, 0, 650)]);
    let mut ports = ports_knowing(&who, None, &[a, b]);
    let (tenant, id, held) = (po.tenant_id, po.id, po.clone());
    ports
        .purchase_orders
        .expect_get()
        .withf(move |t, i| *t == tenant && *i == id)
        .returning(move |_, _| Ok(Some(held.clone())));
    ports.lock.expect_acquire().never();
    let seen = record_commits(&mut ports, || {
        Err(LedgerError::Store(StoreError::VersionConflict))
    });
    let services = ports.build_at(now());

    let patch = PurchaseOrderPatch {
        lines: Some(vec![request(b, 3, 90)]),
        ..PurchaseOrderPatch::default()
    };
    let err = services
        .purchasing
        .update_purchase_order(&who, &po.id, patch, None)
        .await
        .unwrap_err();

    let (written, expected_version) = updated(&the_only(&seen));
    assert_eq!(expected_version, 3);
    assert_eq!(written.status, Status::Draft);
    let lines: Vec<_> = written
        .lines
        .iter()
        .map(|l| (l.variant_id, l.quantity, l.unit_cost.minor_units()))
        .collect();
    assert_eq!(lines, vec![(b, 3, 90)], "the edit replaced the lines");
    assert!(
        matches!(&err, DomainError::VersionConflict { entity: "purchase order", id } if *id == po.id.to_string()),
        "{err:?}"
    );
}
