//! Reservation use cases over mocked ports: what a hold writes, that a refusal writes nothing,
//! that expiry is judged at the instant a use case runs, and that a sweep stores each expiry once.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::models::{
    Confirmation, HoldAllocation, HoldRequest, NewReservation, Reservation, ReservationLine,
    ReservationStatus, Ttl,
};
use crate::auth::models::{Actor, Role};
use crate::catalog::models::Variant;
use crate::error::{DomainError, StoreError};
use crate::events::DomainEvent;
use crate::ids::{LocationId, ReservationId, VariantId};
use crate::lock::LockGuard;
use crate::stock::models::{Committed, DocumentWrite, HoldChange, LedgerError, LedgerWrite};
use crate::testing::{actor, home, variant, MockPorts};
use crate::values::Quantity;

/// The mocked clock's instant (see [`MockPorts::deps`]).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

fn hold(variant_id: VariantId, quantity: i64, location_id: Option<LocationId>) -> HoldRequest {
    HoldRequest {
        variant_id,
        quantity: Quantity::new(quantity).unwrap(),
        location_id,
    }
}

fn new(lines: Vec<HoldRequest>) -> NewReservation {
    NewReservation {
        lines,
        ttl: Ttl::new(600).unwrap(),
        reference: None,
    }
}

fn stored(who: &Actor, v: &Variant, expires_at: DateTime<Utc>) -> Reservation {
    Reservation {
        id: ReservationId::new(),
        tenant_id: who.tenant_id,
        status: ReservationStatus::Active,
        lines: vec![ReservationLine {
            variant_id: v.id,
            sku: v.sku.clone(),
            quantity: 2,
            allocations: vec![HoldAllocation {
                location_id: home(),
                quantity: 2,
            }],
        }],
        reference: None,
        expires_at,
        order_id: None,
        created_by: who.user_id,
        created_at: now() - Duration::seconds(60),
        updated_at: now() - Duration::seconds(60),
        version: 1,
    }
}

fn ports_with(variants: Vec<Variant>) -> MockPorts {
    let mut ports = MockPorts::default();
    ports.one_location();
    ports.variants.expect_get_many().returning(move |_, ids| {
        Ok(variants
            .iter()
            .filter(|v| ids.contains(&v.id))
            .cloned()
            .collect())
    });
    ports
}

fn stored_in(ports: &mut MockPorts, reservation: Reservation) {
    ports
        .reservations
        .expect_get()
        .returning(move |_, id| Ok((*id == reservation.id).then(|| reservation.clone())));
}

fn record_commits(
    ports: &mut MockPorts,
    answer: impl Fn(&LedgerWrite) -> Result<Committed, LedgerError> + Send + Sync + 'static,
) -> Arc<Mutex<Vec<LedgerWrite>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    ports
        .lock
        .expect_acquire()
        .returning(|_, _| Ok(LockGuard::empty()));
    ports.ledger.expect_commit().returning(move |_, write| {
        let out = answer(&write);
        log.lock().unwrap().push(write);
        out
    });
    seen
}

fn published(ports: &mut MockPorts) -> Arc<Mutex<Vec<DomainEvent>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    ports.events.expect_publish().returning(move |events| {
        log.lock().unwrap().extend(events);
    });
    seen
}

fn expect_nothing_written(ports: &mut MockPorts) {
    ports.lock.expect_acquire().never();
    ports.ledger.expect_commit().never();
    ports.events.expect_publish().never();
}

#[tokio::test]
async fn a_hold_inserts_the_reservation_with_one_hold_per_level_until_its_ttl() {
    let who = actor(Role::Staff);
    let v = variant(who.tenant_id, 5, 0);
    let mut ports = ports_with(vec![v.clone()]);
    let writes = record_commits(&mut ports, |_| Ok(Committed::default()));
    let events = published(&mut ports);
    let services = ports.build();

    let r = services
        .reservations
        .reserve(
            &who,
            new(vec![hold(v.id, 2, None), hold(v.id, 1, None)]),
            None,
        )
        .await
        .unwrap()
        .fresh()
        .unwrap();

    assert_eq!(r.status, ReservationStatus::Active);
    assert_eq!(r.expires_at, now() + Duration::seconds(600));
    assert_eq!(r.lines[0].quantity, 3);
    let writes = writes.lock().unwrap();
    let write = &writes[0];
    assert!(matches!(&write.document, DocumentWrite::InsertReservation(x) if x.id == r.id));
    assert_eq!(write.changes.len(), 1);
    let change = &write.changes[0];
    assert_eq!((change.claims.reserved, change.delta), (3, 0));
    assert_eq!(
        change.hold,
        Some(HoldChange::Place {
            reservation_id: r.id,
            expires_at: r.expires_at
        })
    );
    assert!(matches!(
        events.lock().unwrap().as_slice(),
        [DomainEvent::ReservationCreated { units: 3, .. }]
    ));
}

#[tokio::test]
async fn a_short_hold_lists_the_line_and_writes_nothing() {
    let who = actor(Role::Staff);
    let v = variant(who.tenant_id, 1, 0);
    let mut ports = ports_with(vec![v.clone()]);
    expect_nothing_written(&mut ports);
    let services = ports.build();

    let err = services
        .reservations
        .reserve(&who, new(vec![hold(v.id, 2, None)]), None)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        DomainError::InsufficientStock(s) if s.len() == 1 && s[0].requested == 2 && s[0].available == 1
    ));
}

#[tokio::test]
async fn lines_of_one_variant_naming_different_locations_are_refused_by_field() {
    let who = actor(Role::Staff);
    let v = variant(who.tenant_id, 5, 0);
    let mut ports = ports_with(vec![v.clone()]);
    expect_nothing_written(&mut ports);
    let services = ports.build();

    let err = services
        .reservations
        .reserve(
            &who,
            new(vec![hold(v.id, 1, None), hold(v.id, 1, Some(home()))]),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        DomainError::Validation(f) if f[0].field == "lines[1].locationId"
    ));
}

#[tokio::test]
async fn confirming_writes_the_order_and_takes_the_holds_guarded_by_the_version() {
    let who = actor(Role::Staff);
    let v = variant(who.tenant_id, 5, 0);
    let r = stored(&who, &v, now() + Duration::seconds(30));
    let mut ports = ports_with(vec![v.clone()]);
    stored_in(&mut ports, r.clone());
    let writes = record_commits(&mut ports, |_| Ok(Committed::default()));
    let events = published(&mut ports);
    let services = ports.build();

    let order = services
        .reservations
        .confirm(&who, &r.id, Confirmation::default(), None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    let writes = writes.lock().unwrap();
    let DocumentWrite::ConfirmReservation {
        reservation,
        expected_version,
        order: written,
    } = &writes[0].document
    else {
        panic!("expected a confirmation, got {:?}", writes[0].document);
    };
    assert_eq!(*expected_version, 1);
    assert_eq!(reservation.status, ReservationStatus::Confirmed);
    assert_eq!(reservation.order_id, Some(order.id));
    assert_eq!(written.id, order.id);
    assert_eq!(order.lines[0].quantity, 2);
    let change = &writes[0].changes[0];
    assert_eq!(
        change.hold,
        Some(HoldChange::Take {
            reservation_id: r.id
        })
    );
    assert_eq!((change.claims.reserved, change.claims.committed), (-2, 2));
    let names: Vec<&str> = events.lock().unwrap().iter().map(|e| e.name()).collect();
    assert_eq!(names, ["reservation.confirmed", "order.placed"]);
}

#[tokio::test]
async fn a_hold_past_its_expiry_cannot_be_confirmed_though_no_sweep_has_run() {
    let who = actor(Role::Staff);
    let v = variant(who.tenant_id, 5, 0);
    // Stored ACTIVE, but its expiry is exactly now.
    let r = stored(&who, &v, now());
    let mut ports = ports_with(vec![v.clone()]);
    stored_in(&mut ports, r.clone());
    expect_nothing_written(&mut ports);
    let services = ports.build();

    let err = services
        .reservations
        .confirm(&who, &r.id, Confirmation::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(m) if m.contains("EXPIRED")));
    let read = services.reservations.get(&who, &r.id).await.unwrap();
    assert_eq!(read.status, ReservationStatus::Expired);
}

#[tokio::test]
async fn a_hold_that_expires_before_the_write_is_refused_as_expired() {
    let who = actor(Role::Staff);
    let v = variant(who.tenant_id, 5, 0);
    let r = stored(&who, &v, now() + Duration::milliseconds(5));
    let mut ports = ports_with(vec![v.clone()]);
    stored_in(&mut ports, r.clone());
    let id = r.id;
    record_commits(&mut ports, move |_| Err(LedgerError::HoldGone(id)));
    ports.events.expect_publish().never();
    let services = ports.build();

    let err = services
        .reservations
        .confirm(&who, &r.id, Confirmation::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(m) if m.contains("EXPIRED")));
}

#[tokio::test]
async fn releasing_drops_the_live_holds_and_gives_their_units_back() {
    let who = actor(Role::Staff);
    let v = variant(who.tenant_id, 5, 0);
    let r = stored(&who, &v, now() + Duration::seconds(30));
    let mut ports = ports_with(vec![v.clone()]);
    stored_in(&mut ports, r.clone());
    let writes = record_commits(&mut ports, |_| Ok(Committed::default()));
    published(&mut ports);
    let services = ports.build();

    let released = services
        .reservations
        .release(&who, &r.id, None)
        .await
        .unwrap()
        .fresh()
        .unwrap();
    assert_eq!(released.status, ReservationStatus::Released);
    let writes = writes.lock().unwrap();
    let change = &writes[0].changes[0];
    assert_eq!(
        change.hold,
        Some(HoldChange::Drop {
            reservation_id: r.id
        })
    );
    assert_eq!(change.available_delta(), 2);
}

#[tokio::test]
async fn a_sweep_stores_each_expiry_once_and_skips_what_another_instance_took() {
    let who = actor(Role::Staff);
    let v = variant(who.tenant_id, 5, 0);
    let (a, b) = (
        stored(&who, &v, now() - Duration::seconds(2)),
        stored(&who, &v, now() - Duration::seconds(1)),
    );
    let b_id = b.id;
    let mut ports = MockPorts::default();
    let due = vec![a.clone(), b.clone()];
    ports
        .reservations
        .expect_expired()
        .withf(|at, limit| *at == now() && *limit == 100)
        .returning(move |_, _| Ok(due.clone()));
    let writes = record_commits(&mut ports, move |write| match &write.document {
        DocumentWrite::UpdateReservation { reservation, .. } if reservation.id == b_id => {
            Err(LedgerError::Store(StoreError::VersionConflict))
        }
        _ => Ok(Committed::default()),
    });
    let events = published(&mut ports);
    let services = ports.build();

    assert_eq!(services.reservations.sweep(100).await.unwrap(), 1);
    let writes = writes.lock().unwrap();
    assert_eq!(writes.len(), 2);
    for write in writes.iter() {
        let DocumentWrite::UpdateReservation {
            reservation,
            expected_version,
        } = &write.document
        else {
            panic!("expected a reservation update");
        };
        assert_eq!(reservation.status, ReservationStatus::Expired);
        assert_eq!(*expected_version, 1);
        // An expired hold counts for nothing already: dropping it gives nothing back.
        assert_eq!(write.changes[0].available_delta(), 0);
    }
    assert!(matches!(
        events.lock().unwrap().as_slice(),
        [DomainEvent::ReservationExpired { reservation_id, .. }] if *reservation_id == a.id
    ));
}

#[tokio::test]
async fn another_tenants_reservation_is_not_found() {
    let who = actor(Role::Owner);
    let mut ports = MockPorts::default();
    ports.reservations.expect_get().returning(|_, _| Ok(None));
    expect_nothing_written(&mut ports);
    let services = ports.build();
    let err = services
        .reservations
        .release(&who, &ReservationId::new(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound("reservation")));
}

#[tokio::test]
async fn a_sweep_stores_an_expiry_whose_variant_was_deleted_since() {
    let who = actor(Role::Staff);
    let v = variant(who.tenant_id, 5, 0);
    let gone = stored(&who, &v, now() - Duration::seconds(2));
    let mut ports = MockPorts::default();
    let due = vec![gone.clone()];
    ports
        .reservations
        .expect_expired()
        .returning(move |_, _| Ok(due.clone()));
    let variant_id = v.id;
    let writes = record_commits(&mut ports, move |write| {
        if write.changes.iter().any(|c| c.variant_id == variant_id) {
            Err(LedgerError::VariantMissing(variant_id))
        } else {
            Ok(Committed::default())
        }
    });
    published(&mut ports);
    let services = ports.build();

    assert_eq!(services.reservations.sweep(100).await.unwrap(), 1);
    let writes = writes.lock().unwrap();
    assert_eq!(writes.len(), 2);
    assert!(writes[1].changes.is_empty());
    assert!(matches!(
        &writes[1].document,
        DocumentWrite::UpdateReservation { reservation, .. } if reservation.status == ReservationStatus::Expired
    ));
}
