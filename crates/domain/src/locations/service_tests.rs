//! Location use cases over mocked ports: who may change them, the rules that keep a tenant with
//! exactly one active default, and how a stock write's named location is checked.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};

use super::models::{Holdings, LevelFilter, Location, LocationPatch, NewLocation};
use crate::auth::models::{Actor, Role};
use crate::error::{DomainError, StoreError};
use crate::ids::{LocationId, VariantId};
use crate::orders::models::{LineRequest, NewOrder};
use crate::pagination::{Page, PageRequest};
use crate::stock::service::Adjustment;
use crate::stock::state::UnitState;
use crate::testing::{actor, location, variant, MockPorts};
use crate::values::{LocationCode, LocationPriority, Quantity, StockDelta, Text};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 5, 6, 7, 8, 9).unwrap()
}

fn warehouse() -> NewLocation {
    NewLocation {
        name: Text::name("East warehouse").unwrap(),
        code: LocationCode::new("EAST").unwrap(),
        priority: None,
    }
}

/// Ports holding `stored`, read back only in its tenant and under its id.
fn ports_holding(stored: &Location) -> MockPorts {
    let mut ports = MockPorts::default();
    let (tenant, id, held) = (stored.tenant_id, stored.id, stored.clone());
    ports
        .locations
        .expect_get()
        .withf(move |t, i| *t == tenant && *i == id)
        .returning(move |_, _| Ok(Some(held.clone())));
    ports
}

/// Nothing about the location may be written.
fn expect_no_location_write(ports: &mut MockPorts) {
    ports.locations.expect_insert().never();
    ports.locations.expect_update().never();
    ports.locations.expect_make_default().never();
}

fn deactivate() -> LocationPatch {
    LocationPatch {
        active: Some(false),
        ..LocationPatch::default()
    }
}

fn fields(err: &DomainError) -> Vec<String> {
    match err {
        DomainError::Validation(fields) => fields.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

// ---- creating ----

#[tokio::test]
async fn a_new_location_is_active_not_the_default_and_takes_the_default_priority() {
    let who = actor(Role::Manager);
    let mut ports = MockPorts::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let tenant = who.tenant_id;
    ports
        .locations
        .expect_insert()
        .withf(move |t, _, record| *t == tenant && record.is_none())
        .times(1)
        .returning(move |_, l, _| {
            log.lock().unwrap().push(l.clone());
            Ok(())
        });
    let services = ports.build_at(now());

    let created = services
        .locations
        .create(&who, warehouse(), None)
        .await
        .unwrap()
        .fresh()
        .unwrap();

    assert_eq!(*seen.lock().unwrap(), vec![created.clone()]);
    assert_eq!(created.tenant_id, who.tenant_id);
    assert_eq!(created.code.as_str(), "EAST");
    assert!(created.active && !created.is_default);
    assert_eq!(created.priority, LocationPriority::DEFAULT);
    assert_eq!((created.created_at, created.updated_at), (now(), now()));
}

#[tokio::test]
async fn a_code_taken_in_the_tenant_is_a_conflict_naming_it() {
    let who = actor(Role::Owner);
    let mut ports = MockPorts::default();
    ports
        .locations
        .expect_insert()
        .times(1)
        .returning(|_, _, _| Err(StoreError::Duplicate));
    let services = ports.build_at(now());

    let err = services
        .locations
        .create(&who, warehouse(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::Conflict(m) if m.contains("'EAST'")),
        "{err:?}"
    );
}

// ---- roles ----

#[tokio::test]
async fn staff_cannot_create_or_change_locations() {
    let who = actor(Role::Staff);
    let mut ports = MockPorts::default();
    ports.locations.expect_get().never();
    ports.locations.expect_holdings().never();
    expect_no_location_write(&mut ports);
    let services = ports.build_at(now());

    let created = services.locations.create(&who, warehouse(), None).await;
    assert!(
        matches!(created, Err(DomainError::Forbidden)),
        "{created:?}"
    );
    let patch = LocationPatch {
        make_default: true,
        ..LocationPatch::default()
    };
    let updated = services
        .locations
        .update(&who, &LocationId::new(), patch, None)
        .await;
    assert!(
        matches!(updated, Err(DomainError::Forbidden)),
        "{updated:?}"
    );
}

#[tokio::test]
async fn staff_can_read_locations_and_their_levels() {
    let who = actor(Role::Staff);
    let shop = location(who.tenant_id, "SHOP", 10);
    let mut ports = ports_holding(&shop);
    let listed = shop.clone();
    ports
        .locations
        .expect_list()
        .times(1)
        .returning(move |_, _| {
            Ok(Page {
                items: vec![listed.clone()],
                next_cursor: None,
            })
        });
    let (tenant, id) = (shop.tenant_id, shop.id);
    ports
        .locations
        .expect_levels()
        .withf(move |t, i, filter, _| *t == tenant && *i == id && filter.low_stock)
        .times(1)
        .returning(|_, _, _, _| {
            Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            })
        });
    expect_no_location_write(&mut ports);
    let services = ports.build_at(now());

    assert_eq!(services.locations.get(&who, &shop.id).await.unwrap(), shop);
    let page = services
        .locations
        .list(&who, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(page.items, vec![shop.clone()]);
    let low = LevelFilter { low_stock: true };
    services
        .locations
        .levels(&who, &shop.id, &low, &PageRequest::first(10))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_levels_of_an_unknown_location_are_not_found() {
    let who = actor(Role::Staff);
    let mut ports = MockPorts::default();
    ports.locations.expect_get().returning(|_, _| Ok(None));
    ports.locations.expect_levels().never();
    let services = ports.build_at(now());

    let err = services
        .locations
        .levels(
            &who,
            &LocationId::new(),
            &LevelFilter::default(),
            &PageRequest::first(10),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound("location")), "{err:?}");
}

// ---- deactivating ----

#[tokio::test]
async fn the_default_location_cannot_be_deactivated() {
    let who = actor(Role::Owner);
    let main = Location {
        is_default: true,
        ..location(who.tenant_id, "MAIN", 0)
    };
    let mut ports = ports_holding(&main);
    ports.locations.expect_holdings().never();
    expect_no_location_write(&mut ports);
    let services = ports.build_at(now());

    let err = services
        .locations
        .update(&who, &main.id, deactivate(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::Conflict(m) if m.contains("default")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_location_still_holding_anything_is_not_deactivated_and_the_refusal_names_it_all() {
    let who = actor(Role::Manager);
    let shop = location(who.tenant_id, "SHOP", 10);
    let mut ports = ports_holding(&shop);
    let (tenant, id) = (shop.tenant_id, shop.id);
    ports
        .locations
        .expect_holdings()
        .withf(move |t, i| *t == tenant && *i == id)
        .times(1)
        .returning(|_, _| {
            Ok(Holdings {
                units: 7,
                in_transit_to: 3,
                open_purchase_orders: 1,
                draft_transfers: 2,
            })
        });
    expect_no_location_write(&mut ports);
    let services = ports.build_at(now());

    let err = services
        .locations
        .update(&who, &shop.id, deactivate(), None)
        .await
        .unwrap_err();
    let DomainError::Conflict(message) = err else {
        panic!("expected a conflict, got {err:?}");
    };
    for named in [
        "holds 7 units",
        "3 units are in transit to it",
        "1 open purchase orders",
        "2 draft transfers",
    ] {
        assert!(
            message.contains(named),
            "{named:?} missing from {message:?}"
        );
    }
}

#[tokio::test]
async fn a_location_holding_only_units_is_refused_naming_just_them() {
    let who = actor(Role::Manager);
    let shop = location(who.tenant_id, "SHOP", 10);
    let mut ports = ports_holding(&shop);
    ports.locations.expect_holdings().returning(|_, _| {
        Ok(Holdings {
            units: 4,
            ..Holdings::default()
        })
    });
    expect_no_location_write(&mut ports);
    let services = ports.build_at(now());

    let err = services
        .locations
        .update(&who, &shop.id, deactivate(), None)
        .await
        .unwrap_err();
    let DomainError::Conflict(message) = err else {
        panic!("expected a conflict, got {err:?}");
    };
    assert!(message.contains("holds 4 units"), "{message}");
    assert!(!message.contains("transit"), "{message}");
}

#[tokio::test]
async fn an_empty_location_is_deactivated() {
    let who = actor(Role::Manager);
    let shop = location(who.tenant_id, "SHOP", 10);
    let stored = Arc::new(Mutex::new(shop.clone()));
    let mut ports = MockPorts::default();
    let read = stored.clone();
    ports
        .locations
        .expect_get()
        .returning(move |_, _| Ok(Some(read.lock().unwrap().clone())));
    ports
        .locations
        .expect_holdings()
        .times(1)
        .returning(|_, _| Ok(Holdings::default()));
    let write = stored.clone();
    ports
        .locations
        .expect_update()
        .times(1)
        .returning(move |_, l, _| {
            *write.lock().unwrap() = l.clone();
            Ok(())
        });
    ports.locations.expect_make_default().never();
    let services = ports.build_at(now());

    let answer = services
        .locations
        .update(&who, &shop.id, deactivate(), None)
        .await
        .unwrap();
    assert!(!answer.active);
    assert_eq!(answer.updated_at, now());
    assert_eq!((answer.name, answer.code), (shop.name, shop.code));
}

// ---- the default ----

#[tokio::test]
async fn an_inactive_location_cannot_become_the_default() {
    let who = actor(Role::Owner);
    let closed = Location {
        active: false,
        ..location(who.tenant_id, "CLOSED", 10)
    };
    let mut ports = ports_holding(&closed);
    expect_no_location_write(&mut ports);
    let services = ports.build_at(now());

    let patch = LocationPatch {
        make_default: true,
        ..LocationPatch::default()
    };
    let err = services
        .locations
        .update(&who, &closed.id, patch, None)
        .await
        .unwrap_err();
    assert_eq!(fields(&err), vec!["isDefault"]);
}

#[tokio::test]
async fn a_location_cannot_be_deactivated_and_made_the_default_at_once() {
    let who = actor(Role::Owner);
    let shop = location(who.tenant_id, "SHOP", 10);
    let mut ports = ports_holding(&shop);
    ports.locations.expect_holdings().never();
    expect_no_location_write(&mut ports);
    let services = ports.build_at(now());

    let patch = LocationPatch {
        active: Some(false),
        make_default: true,
        ..LocationPatch::default()
    };
    let err = services
        .locations
        .update(&who, &shop.id, patch, None)
        .await
        .unwrap_err();
    assert_eq!(fields(&err), vec!["isDefault"]);
}

#[tokio::test]
async fn making_a_location_the_default_is_one_make_default_write() {
    let who = actor(Role::Manager);
    let shop = location(who.tenant_id, "SHOP", 10);
    let stored = Arc::new(Mutex::new(shop.clone()));
    let mut ports = MockPorts::default();
    let read = stored.clone();
    ports
        .locations
        .expect_get()
        .returning(move |_, _| Ok(Some(read.lock().unwrap().clone())));
    ports
        .locations
        .expect_update()
        .withf(|_, l, _| !l.is_default)
        .times(1)
        .returning(|_, _, _| Ok(()));
    let (tenant, id) = (shop.tenant_id, shop.id);
    let promoted = stored.clone();
    ports
        .locations
        .expect_make_default()
        .withf(move |t, i, at| *t == tenant && *i == id && *at == now())
        .times(1)
        .returning(move |_, _, _| {
            promoted.lock().unwrap().is_default = true;
            Ok(())
        });
    let services = ports.build_at(now());

    let patch = LocationPatch {
        make_default: true,
        ..LocationPatch::default()
    };
    let answer = services
        .locations
        .update(&who, &shop.id, patch, None)
        .await
        .unwrap();
    assert!(
        answer.is_default,
        "the answer is read back after the switch"
    );
}

#[tokio::test]
async fn making_the_default_the_default_again_writes_no_switch() {
    let who = actor(Role::Manager);
    let main = Location {
        is_default: true,
        ..location(who.tenant_id, "MAIN", 0)
    };
    let mut ports = ports_holding(&main);
    ports
        .locations
        .expect_update()
        .times(1)
        .returning(|_, _, _| Ok(()));
    ports.locations.expect_make_default().never();
    let services = ports.build_at(now());

    let patch = LocationPatch {
        make_default: true,
        ..LocationPatch::default()
    };
    let answer = services
        .locations
        .update(&who, &main.id, patch, None)
        .await
        .unwrap();
    assert!(answer.is_default);
}

#[tokio::test]
async fn a_location_deactivated_while_being_made_the_default_is_a_conflict() {
    let who = actor(Role::Manager);
    let shop = location(who.tenant_id, "SHOP", 10);
    let mut ports = ports_holding(&shop);
    ports.locations.expect_update().returning(|_, _, _| Ok(()));
    ports
        .locations
        .expect_make_default()
        .times(1)
        .returning(|_, _, _| Err(StoreError::NotFound));
    let services = ports.build_at(now());

    let patch = LocationPatch {
        make_default: true,
        ..LocationPatch::default()
    };
    let err = services
        .locations
        .update(&who, &shop.id, patch, None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err:?}");
}

// ---- a stock write's named location ----

fn adjustment_at(location_id: LocationId) -> Adjustment {
    Adjustment {
        quantity: StockDelta::new(5).unwrap(),
        reason: Text::long("found in the back").unwrap(),
        expected_stock: None,
        location_id: Some(location_id),
        state: UnitState::Available,
    }
}

fn order_at(location_id: LocationId, variant_id: VariantId) -> NewOrder {
    NewOrder {
        lines: vec![LineRequest {
            variant_id,
            quantity: Quantity::new(1).unwrap(),
        }],
        customer: None,
        note: None,
        location_id: Some(location_id),
    }
}

/// Ports where `who`'s tenant has a default location and `others` (another tenant's location
/// reads as absent), a variant with plenty of stock, and nothing may be written.
fn ports_refusing_writes(who: &Actor, others: Vec<Location>) -> (MockPorts, VariantId) {
    let mut ports = MockPorts::default();
    let main = Location {
        is_default: true,
        ..location(who.tenant_id, "MAIN", 0)
    };
    let mut all = vec![main];
    all.extend(others);
    let tenant = who.tenant_id;
    ports.locations.expect_get().returning(move |t, id| {
        Ok(all
            .iter()
            .find(|l| l.id == *id && l.tenant_id == *t && *t == tenant)
            .cloned())
    });
    let v = variant(who.tenant_id, 100, 0);
    let id = v.id;
    let (one, many) = (v.clone(), v);
    ports
        .variants
        .expect_get()
        .returning(move |_, _| Ok(Some(one.clone())));
    ports
        .variants
        .expect_get_many()
        .returning(move |_, _| Ok(vec![many.clone()]));
    ports.lock.expect_acquire().never();
    ports.ledger.expect_commit().never();
    ports.events.expect_publish().never();
    (ports, id)
}

#[tokio::test]
async fn an_adjustment_or_order_at_an_unknown_location_names_location_id() {
    let who = actor(Role::Manager);
    let foreign = location(crate::ids::TenantId::new(), "THEIRS", 10);
    let foreign_id = foreign.id;
    let (ports, id) = ports_refusing_writes(&who, vec![foreign]);
    let services = ports.build_at(now());

    for nowhere in [LocationId::new(), foreign_id] {
        let err = services
            .stock
            .adjust(&who, &id, adjustment_at(nowhere), None)
            .await
            .unwrap_err();
        assert_eq!(fields(&err), vec!["locationId"]);
        let err = services
            .orders
            .place(&who, order_at(nowhere, id), None)
            .await
            .unwrap_err();
        assert_eq!(fields(&err), vec!["locationId"]);
    }
}

#[tokio::test]
async fn an_adjustment_or_order_at_an_inactive_location_names_location_id() {
    let who = actor(Role::Manager);
    let closed = Location {
        active: false,
        ..location(who.tenant_id, "CLOSED", 10)
    };
    let closed_id = closed.id;
    let (ports, id) = ports_refusing_writes(&who, vec![closed]);
    let services = ports.build_at(now());

    let err = services
        .stock
        .adjust(&who, &id, adjustment_at(closed_id), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::Validation(f) if f[0].field == "locationId" && f[0].message.contains("inactive")),
        "{err:?}"
    );
    let err = services
        .orders
        .place(&who, order_at(closed_id, id), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::Validation(f) if f[0].field == "locationId" && f[0].message.contains("inactive")),
        "{err:?}"
    );
}
