//! Transfer use cases over mocked ports: what a draft may name, that shipping takes every line
//! out of the source or none, and what each transition writes and announces.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};

use super::models::{NewTransfer, Transfer, TransferLine, TransferStatus as Status};
use crate::auth::models::{Actor, Role};
use crate::catalog::models::Variant;
use crate::error::{DomainError, Shortage, StoreError};
use crate::events::DomainEvent;
use crate::ids::{LocationId, TransferId, VariantId};
use crate::locations::models::Location;
use crate::lock::{LockGuard, LockKey};
use crate::orders::models::LineRequest;
use crate::stock::models::{
    Committed, DocumentWrite, LedgerError, LedgerWrite, Level, MovementKind,
};
use crate::testing::{actor, location, stocked, variant, MockPorts};
use crate::values::Quantity;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 5, 6, 7, 8, 9).unwrap()
}

fn line(variant_id: VariantId, quantity: i64) -> LineRequest {
    LineRequest {
        variant_id,
        quantity: Quantity::new(quantity).unwrap(),
    }
}

fn fields(err: &DomainError) -> Vec<String> {
    match err {
        DomainError::Validation(fields) => fields.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// Nothing may be locked, committed or published.
fn expect_nothing_written(ports: &mut MockPorts) {
    ports.lock.expect_acquire().never();
    ports.ledger.expect_commit().never();
    ports.ledger.expect_commit_batch().never();
    ports.events.expect_publish().never();
}

/// Every ledger write is recorded and answered by `answer`.
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

fn events_log(ports: &mut MockPorts) -> Arc<Mutex<Vec<DomainEvent>>> {
    let published = Arc::new(Mutex::new(Vec::new()));
    let log = published.clone();
    ports
        .events
        .expect_publish()
        .returning(move |events| log.lock().unwrap().extend(events));
    published
}

fn the_only(seen: &Mutex<Vec<LedgerWrite>>) -> LedgerWrite {
    let writes = seen.lock().unwrap();
    assert_eq!(writes.len(), 1, "exactly one ledger write");
    writes[0].clone()
}

/// The transfer a write replaces, and the version it expected.
fn updated(write: &LedgerWrite) -> (Transfer, i64) {
    match &write.document {
        DocumentWrite::UpdateTransfer {
            transfer,
            expected_version,
        } => (transfer.clone(), *expected_version),
        other => panic!("expected a transfer update, got {other:?}"),
    }
}

// ---- drafting ----

/// Ports where `who`'s tenant has `locations` and `variants`.
fn ports_knowing(who: &Actor, locations: Vec<Location>, variants: &[VariantId]) -> MockPorts {
    let mut ports = MockPorts::default();
    ports.locations_of(locations);
    let tenant = who.tenant_id;
    let known: Vec<Variant> = variants
        .iter()
        .map(|id| Variant {
            id: *id,
            ..variant(tenant, 0, 0)
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

fn between(from: LocationId, to: LocationId, lines: Vec<LineRequest>) -> NewTransfer {
    NewTransfer {
        from_location_id: from,
        to_location_id: to,
        lines,
    }
}

#[tokio::test]
async fn a_draft_is_inserted_without_moving_stock() {
    let who = actor(Role::Manager);
    let (main, shop) = (
        location(who.tenant_id, "MAIN", 0),
        location(who.tenant_id, "SHOP", 10),
    );
    let (from, to) = (main.id, shop.id);
    let (a, b) = (VariantId::new(), VariantId::new());
    let mut ports = ports_knowing(&who, vec![main, shop], &[a, b]);
    ports.lock.expect_acquire().never();
    ports.events.expect_publish().never();
    let seen = record_commits(&mut ports, || Ok(Committed::default()));
    let services = ports.build_at(now());

    let transfer = services
        .transfers
        .create(&who, between(from, to, vec![line(b, 4), line(a, 1)]), None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    let write = the_only(&seen);
    assert!(write.changes.is_empty(), "a draft moves nothing");
    let DocumentWrite::InsertTransfer(inserted) = &write.document else {
        panic!("expected a transfer insert, got {:?}", write.document);
    };
    assert_eq!(inserted, &transfer);
    assert_eq!(transfer.status, Status::Draft);
    assert_eq!(
        (transfer.from_location_id, transfer.to_location_id),
        (from, to)
    );
    assert_eq!(
        (transfer.version, transfer.created_by, transfer.tenant_id),
        (1, who.user_id, who.tenant_id)
    );
    assert_eq!(transfer.shipped_at, None);
    let lines: Vec<_> = transfer
        .lines
        .iter()
        .map(|l| (l.variant_id, l.quantity, l.received))
        .collect();
    assert_eq!(lines, vec![(b, 4, 0), (a, 1, 0)]);
}

#[tokio::test]
async fn a_transfer_to_its_own_source_is_refused_naming_the_destination() {
    let who = actor(Role::Manager);
    let main = location(who.tenant_id, "MAIN", 0);
    let here = main.id;
    let a = VariantId::new();
    let mut ports = ports_knowing(&who, vec![main], &[a]);
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let err = services
        .transfers
        .create(&who, between(here, here, vec![line(a, 1)]), None)
        .await
        .unwrap_err();
    assert_eq!(fields(&err), vec!["toLocationId"]);
}

#[tokio::test]
async fn an_unknown_source_and_an_inactive_destination_are_named_together() {
    let who = actor(Role::Manager);
    let closed = Location {
        active: false,
        ..location(who.tenant_id, "CLOSED", 10)
    };
    let closed_id = closed.id;
    let a = VariantId::new();
    let mut ports = ports_knowing(&who, vec![closed], &[a]);
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let err = services
        .transfers
        .create(
            &who,
            between(LocationId::new(), closed_id, vec![line(a, 1)]),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(fields(&err), vec!["fromLocationId", "toLocationId"]);
    let DomainError::Validation(found) = err else {
        unreachable!()
    };
    assert!(found[1].message.contains("inactive"), "{found:?}");
}

#[tokio::test]
async fn an_inactive_source_is_named() {
    let who = actor(Role::Manager);
    let closed = Location {
        active: false,
        ..location(who.tenant_id, "CLOSED", 10)
    };
    let shop = location(who.tenant_id, "SHOP", 10);
    let (from, to) = (closed.id, shop.id);
    let a = VariantId::new();
    let mut ports = ports_knowing(&who, vec![closed, shop], &[a]);
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let err = services
        .transfers
        .create(&who, between(from, to, vec![line(a, 1)]), None)
        .await
        .unwrap_err();
    assert_eq!(fields(&err), vec!["fromLocationId"]);
}

#[tokio::test]
async fn an_unknown_variant_and_a_repeated_one_are_named_by_line() {
    let who = actor(Role::Manager);
    let (main, shop) = (
        location(who.tenant_id, "MAIN", 0),
        location(who.tenant_id, "SHOP", 10),
    );
    let (from, to) = (main.id, shop.id);
    let a = VariantId::new();
    let mut ports = ports_knowing(&who, vec![main, shop], &[a]);
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let err = services
        .transfers
        .create(
            &who,
            between(
                from,
                to,
                vec![line(a, 1), line(VariantId::new(), 1), line(a, 2)],
            ),
            None,
        )
        .await
        .unwrap_err();
    let DomainError::Validation(found) = err else {
        panic!("expected a validation error, got {err:?}");
    };
    let named: Vec<_> = found
        .iter()
        .map(|f| (f.field.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(
        named,
        vec![
            ("lines[1].variantId", "no such variant"),
            ("lines[2].variantId", "is listed twice"),
        ]
    );
}

#[tokio::test]
async fn staff_cannot_draft_or_ship_transfers() {
    let who = actor(Role::Staff);
    let mut ports = MockPorts::default();
    ports.locations.expect_get().never();
    ports.transfers.expect_get().never();
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let new = between(
        LocationId::new(),
        LocationId::new(),
        vec![line(VariantId::new(), 1)],
    );
    let created = services.transfers.create(&who, new, None).await;
    assert!(
        matches!(created, Err(DomainError::Forbidden)),
        "{created:?}"
    );
    let shipped = services
        .transfers
        .ship(&who, &TransferId::new(), None)
        .await;
    assert!(
        matches!(shipped, Err(DomainError::Forbidden)),
        "{shipped:?}"
    );
}

// ---- shipping and receiving ----

/// A stored transfer at version 2 from `from` to `to` with `(variant, quantity, received)` lines.
fn stored(
    who: &Actor,
    status: Status,
    from: LocationId,
    to: LocationId,
    lines: &[(VariantId, i64, i64)],
) -> Transfer {
    let then = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    Transfer {
        id: TransferId::new(),
        tenant_id: who.tenant_id,
        from_location_id: from,
        to_location_id: to,
        status,
        lines: lines
            .iter()
            .map(|&(variant_id, quantity, received)| TransferLine {
                variant_id,
                quantity,
                received,
            })
            .collect(),
        created_by: who.user_id,
        created_at: then,
        updated_at: then,
        shipped_at: None,
        version: 2,
    }
}

/// Ports holding `transfer` (read back only in its tenant and under its id) and `variants`.
fn ports_holding(transfer: &Transfer, variants: Vec<Variant>) -> MockPorts {
    let mut ports = MockPorts::default();
    let (tenant, id, held) = (transfer.tenant_id, transfer.id, transfer.clone());
    ports
        .transfers
        .expect_get()
        .withf(move |t, i| *t == tenant && *i == id)
        .returning(move |_, _| Ok(Some(held.clone())));
    ports.variants.expect_get_many().returning(move |_, ids| {
        Ok(variants
            .iter()
            .filter(|v| ids.contains(&v.id))
            .cloned()
            .collect())
    });
    ports
}

#[tokio::test]
async fn shipping_from_a_source_short_on_two_lines_lists_both_and_writes_nothing() {
    let who = actor(Role::Manager);
    let (from, to) = (LocationId::new(), LocationId::new());
    // Plenty at the destination and in total: only the source counts.
    let a = stocked(who.tenant_id, &[(from, 1), (to, 100)]);
    let b = stocked(who.tenant_id, &[(to, 100)]);
    let c = stocked(who.tenant_id, &[(from, 9)]);
    let (a_id, b_id, c_id) = (a.id, b.id, c.id);
    let transfer = stored(
        &who,
        Status::Draft,
        from,
        to,
        &[(a_id, 3, 0), (b_id, 4, 0), (c_id, 9, 0)],
    );
    let mut ports = ports_holding(&transfer, vec![a, b, c]);
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let err = services
        .transfers
        .ship(&who, &transfer.id, None)
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
                location_id: Some(from),
                requested: 3,
                available: 1
            },
            Shortage {
                variant_id: b_id,
                location_id: Some(from),
                requested: 4,
                available: 0
            },
        ]
    );
}

#[tokio::test]
async fn shipping_takes_every_line_out_of_the_source_guarded_by_the_version() {
    let who = actor(Role::Manager);
    let (from, to) = (LocationId::new(), LocationId::new());
    let a = stocked(who.tenant_id, &[(from, 10)]);
    let b = stocked(who.tenant_id, &[(from, 4), (to, 1)]);
    let (a_id, b_id) = (a.id, b.id);
    let transfer = stored(&who, Status::Draft, from, to, &[(b_id, 4, 0), (a_id, 3, 0)]);
    let mut ports = ports_holding(&transfer, vec![a, b]);
    let tenant = who.tenant_id;
    let mut keys = vec![
        LockKey::level(&tenant, &Level::new(a_id, from)),
        LockKey::level(&tenant, &Level::new(b_id, from)),
    ];
    keys.sort();
    ports
        .lock
        .expect_acquire()
        .withf(move |k, _| k == keys.as_slice())
        .times(1)
        .returning(|_, _| Ok(LockGuard::empty()));
    let seen = record_commits(&mut ports, || Ok(Committed::default()));
    let published = events_log(&mut ports);
    let services = ports.build_at(now());

    let shipped = services
        .transfers
        .ship(&who, &transfer.id, None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    let write = the_only(&seen);
    let mut changes: Vec<_> = write
        .changes
        .iter()
        .map(|c| {
            assert_eq!(c.kind, MovementKind::TransferOut);
            assert_eq!(c.transfer_id, Some(transfer.id));
            assert_eq!((c.order_id, c.purchase_order_id), (None, None));
            assert_eq!((c.actor, c.at), (who.user_id, now()));
            (c.variant_id, c.location_id, c.delta)
        })
        .collect();
    changes.sort();
    let mut expected = vec![(a_id, from, -3), (b_id, from, -4)];
    expected.sort();
    assert_eq!(changes, expected, "every line leaves the source");

    let (written, expected_version) = updated(&write);
    assert_eq!(expected_version, 2, "guarded by the version read");
    assert_eq!(written.version, 3);
    assert_eq!(written.status, Status::Shipped);
    assert_eq!(written.shipped_at, Some(now()));
    assert_eq!(written.in_transit(), 7);
    assert_eq!(shipped, written, "the answer is what was written");
    assert_eq!(
        *published.lock().unwrap(),
        vec![DomainEvent::TransferShipped {
            tenant_id: tenant,
            transfer_id: transfer.id,
            from_location_id: from,
            to_location_id: to,
            units: 7,
            at: now(),
        }]
    );
}

#[tokio::test]
async fn a_ship_losing_the_version_race_is_a_transfer_conflict_and_announces_nothing() {
    let who = actor(Role::Manager);
    let (from, to) = (LocationId::new(), LocationId::new());
    let a = stocked(who.tenant_id, &[(from, 10)]);
    let a_id = a.id;
    let transfer = stored(&who, Status::Draft, from, to, &[(a_id, 3, 0)]);
    let mut ports = ports_holding(&transfer, vec![a]);
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
        .transfers
        .ship(&who, &transfer.id, None)
        .await
        .unwrap_err();
    assert_eq!(updated(&the_only(&seen)).1, 2);
    let DomainError::VersionConflict { entity, id } = err else {
        panic!("expected the transfer's version conflict, got {err:?}");
    };
    assert_eq!((entity, id), ("transfer", transfer.id.to_string()));
}

#[tokio::test]
async fn only_a_draft_is_shipped() {
    let who = actor(Role::Manager);
    let (from, to) = (LocationId::new(), LocationId::new());
    let transfer = stored(&who, Status::Shipped, from, to, &[(VariantId::new(), 3, 0)]);
    let mut ports = ports_holding(&transfer, Vec::new());
    expect_nothing_written(&mut ports);
    let services = ports.build_at(now());

    let err = services
        .transfers
        .ship(&who, &transfer.id, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DomainError::InvalidTransition {
                from: "SHIPPED",
                to: "SHIPPED"
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_receipt_lands_at_the_destination_and_is_announced() {
    let who = actor(Role::Staff);
    let (from, to) = (LocationId::new(), LocationId::new());
    let (a, b) = (VariantId::new(), VariantId::new());
    let transfer = stored(&who, Status::Shipped, from, to, &[(a, 5, 0), (b, 2, 0)]);
    let mut ports = ports_holding(&transfer, Vec::new());
    let tenant = who.tenant_id;
    ports
        .lock
        .expect_acquire()
        .withf(move |k, _| k == [LockKey::level(&tenant, &Level::new(a, to))])
        .times(1)
        .returning(|_, _| Ok(LockGuard::empty()));
    let seen = record_commits(&mut ports, || Ok(Committed::default()));
    let published = events_log(&mut ports);
    let services = ports.build_at(now());

    let received = services
        .transfers
        .receive(&who, &transfer.id, vec![line(a, 1), line(a, 1)], None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    let write = the_only(&seen);
    let changes: Vec<_> = write
        .changes
        .iter()
        .map(|c| (c.variant_id, c.location_id, c.kind, c.delta, c.transfer_id))
        .collect();
    assert_eq!(
        changes,
        vec![(a, to, MovementKind::TransferIn, 2, Some(transfer.id))],
        "one TRANSFER_IN per variant, lines summed"
    );
    let (written, expected_version) = updated(&write);
    assert_eq!((expected_version, written.version), (2, 3));
    assert_eq!(written.status, Status::PartiallyReceived);
    assert_eq!(written.in_transit(), 5);
    assert_eq!(received, written);
    assert_eq!(
        *published.lock().unwrap(),
        vec![DomainEvent::TransferReceived {
            tenant_id: tenant,
            transfer_id: transfer.id,
            from_location_id: from,
            to_location_id: to,
            units: 2,
            status: "PARTIALLY_RECEIVED",
            at: now(),
        }]
    );
}

#[tokio::test]
async fn receiving_the_rest_completes_the_transfer() {
    let who = actor(Role::Staff);
    let (from, to) = (LocationId::new(), LocationId::new());
    let a = VariantId::new();
    let transfer = stored(&who, Status::PartiallyReceived, from, to, &[(a, 5, 2)]);
    let mut ports = ports_holding(&transfer, Vec::new());
    ports
        .lock
        .expect_acquire()
        .returning(|_, _| Ok(LockGuard::empty()));
    record_commits(&mut ports, || Ok(Committed::default()));
    let published = events_log(&mut ports);
    let services = ports.build_at(now());

    let received = services
        .transfers
        .receive(&who, &transfer.id, vec![line(a, 3)], None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    assert_eq!(received.status, Status::Received);
    assert!(matches!(
        published.lock().unwrap().as_slice(),
        [DomainEvent::TransferReceived {
            units: 3,
            status: "RECEIVED",
            ..
        }]
    ));
}
