//! The idempotency protocol over mocked ports: which instant a key is looked up and stored at,
//! and what happens when a lapsed lock let another request store the key first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::auth::models::Role;
use crate::catalog::models::{NewProduct, Product};
use crate::error::{DomainError, StoreError};
use crate::idempotency::{
    Idempotency, IdempotencyKey, IdempotencyRecord, IdempotencyWrite, Outcome, StoredResponse,
    RETENTION_HOURS,
};
use crate::ids::{TenantId, UserId};
use crate::lock::LockGuard;
use crate::stock::models::{Adjusted, LedgerWrite};
use crate::stock::service::Adjustment;
use crate::stock::state::UnitState;
use crate::testing::{actor, committed, variant, MockPorts};
use crate::values::{StockDelta, Text};

/// An instant no code would produce by accident: not now, not a round number.
fn pinned() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_942_313_553_456).unwrap()
}

fn product_key(fingerprint: &str) -> Idempotency<Product> {
    Idempotency {
        key: IdempotencyKey::new("retry-7").unwrap(),
        fingerprint: fingerprint.to_owned(),
        render: Arc::new(|p: &Product| StoredResponse {
            status: 201,
            body: p.name.as_str().as_bytes().to_vec(),
        }),
    }
}

fn stored(fingerprint: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        user_id: crate::ids::UserId::new(),
        key: "retry-7".into(),
        fingerprint: fingerprint.into(),
        response: StoredResponse {
            status: 201,
            body: b"the first answer".to_vec(),
        },
        created_at: pinned() - Duration::minutes(1),
        expires_at: pinned() + Duration::hours(RETENTION_HOURS),
    }
}

fn mug() -> NewProduct {
    NewProduct {
        name: Text::name("Mug").unwrap(),
        description: None,
    }
}

/// Every `find` as `(tenant, user, key, now)`.
type Finds = Arc<Mutex<Vec<(TenantId, UserId, String, DateTime<Utc>)>>>;

/// Ports where the key's lock is free; every `find` is recorded as `(tenant, key, now)` and
/// answered by `answers` in turn.
fn ports_finding(answers: Vec<Option<IdempotencyRecord>>) -> (MockPorts, Finds) {
    let mut ports = MockPorts::default();
    ports
        .lock
        .expect_acquire()
        .returning(|_, _| Ok(LockGuard::empty()));
    let finds = Arc::new(Mutex::new(Vec::new()));
    let log = finds.clone();
    let calls = AtomicUsize::new(0);
    ports
        .idempotency
        .expect_find()
        .returning(move |tenant, user, key, now| {
            log.lock()
                .unwrap()
                .push((*tenant, *user, key.to_owned(), now));
            let i = calls.fetch_add(1, Ordering::SeqCst);
            Ok(answers.get(i).cloned().flatten())
        });
    (ports, finds)
}

#[tokio::test]
async fn a_key_is_looked_up_and_stored_at_the_clocks_now() {
    let who = actor(Role::Owner);
    let (mut ports, finds) = ports_finding(vec![None]);
    let records = Arc::new(Mutex::new(Vec::<IdempotencyWrite>::new()));
    let log = records.clone();
    ports
        .products
        .expect_insert()
        .times(1)
        .returning(move |_, _, record| {
            log.lock().unwrap().extend(record);
            Ok(())
        });
    let services = ports.build_at(pinned());

    services
        .catalog
        .create_product(&who, mug(), Some(product_key("mine")))
        .await
        .unwrap();

    assert_eq!(
        *finds.lock().unwrap(),
        vec![(who.tenant_id, who.user_id, "retry-7".to_owned(), pinned())],
        "looked up once, as the caller's own key in its tenant, at the clock's now"
    );
    let records = records.lock().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].user_id, who.user_id,
        "stored as the caller's own key"
    );
    assert_eq!(records[0].created_at, pinned());
    assert_eq!(
        records[0].expires_at,
        pinned() + Duration::hours(RETENTION_HOURS)
    );
}

#[tokio::test]
async fn a_key_stored_first_by_a_request_whose_lock_lapsed_replays_that_requests_answer() {
    let who = actor(Role::Owner);
    // Free when first looked up; the insert then finds the key taken by the other request.
    let (mut ports, finds) = ports_finding(vec![None, Some(stored("mine"))]);
    ports
        .products
        .expect_insert()
        .times(1)
        .returning(|_, _, _| Err(StoreError::IdempotencyKeyTaken));
    let services = ports.build_at(pinned());

    let out = services
        .catalog
        .create_product(&who, mug(), Some(product_key("mine")))
        .await
        .unwrap();

    assert_eq!(out, Outcome::Replayed(stored("mine").response));
    let finds = finds.lock().unwrap();
    assert_eq!(
        finds.len(),
        2,
        "looked up again after the store refused the key"
    );
    assert!(finds.iter().all(|(_, _, _, now)| *now == pinned()));
}

#[tokio::test]
async fn a_key_taken_by_another_request_that_left_no_record_is_still_in_progress() {
    let who = actor(Role::Owner);
    let (mut ports, finds) = ports_finding(vec![None, None]);
    ports
        .products
        .expect_insert()
        .times(1)
        .returning(|_, _, _| Err(StoreError::IdempotencyKeyTaken));
    let services = ports.build_at(pinned());

    let err = services
        .catalog
        .create_product(&who, mug(), Some(product_key("mine")))
        .await
        .unwrap_err();

    assert!(matches!(err, DomainError::IdempotencyInProgress), "{err:?}");
    assert_eq!(finds.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_key_taken_by_a_different_request_after_a_lapsed_lock_is_a_mismatch() {
    let who = actor(Role::Owner);
    let (mut ports, _) = ports_finding(vec![None, Some(stored("theirs"))]);
    ports
        .products
        .expect_insert()
        .times(1)
        .returning(|_, _, _| Err(StoreError::IdempotencyKeyTaken));
    let services = ports.build_at(pinned());

    let err = services
        .catalog
        .create_product(&who, mug(), Some(product_key("mine")))
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::IdempotencyMismatch), "{err:?}");
}

#[tokio::test]
async fn a_ledger_write_carries_its_key_stamped_at_the_clocks_now_rendering_what_was_committed() {
    let who = actor(Role::Manager);
    let tenant = who.tenant_id;
    let v = variant(tenant, 6, 0);
    let id = v.id;
    let (mut ports, finds) = ports_finding(vec![None]);
    ports.one_location();
    ports
        .variants
        .expect_get()
        .returning(move |_, _| Ok(Some(v.clone())));
    let writes = Arc::new(Mutex::new(Vec::<LedgerWrite>::new()));
    let log = writes.clone();
    // The store found 9 (not the 6 read): the record must render what was committed.
    ports.ledger.expect_commit().returning(move |_, write| {
        let answer = committed(tenant, &write, &[9], 0);
        log.lock().unwrap().push(write);
        Ok(answer)
    });
    ports.events.expect_publish().return_const(());
    let services = ports.build_at(pinned());

    let key: Idempotency<Adjusted> = Idempotency {
        key: IdempotencyKey::new("adjust-1").unwrap(),
        fingerprint: "fp-adjust".into(),
        render: Arc::new(|a: &Adjusted| StoredResponse {
            status: 201,
            body: format!("{} {}", a.stock, a.movement.quantity).into_bytes(),
        }),
    };
    let adjustment = Adjustment {
        quantity: StockDelta::new(-2).unwrap(),
        reason: Text::long("breakage").unwrap(),
        expected_stock: None,
        location_id: None,
        state: UnitState::Available,
    };
    services
        .stock
        .adjust(&who, &id, adjustment, Some(key))
        .await
        .unwrap();

    assert_eq!(finds.lock().unwrap()[0].3, pinned());
    let writes = writes.lock().unwrap();
    let write = &writes[0];
    let record = write
        .idempotency
        .as_ref()
        .expect("the key rides on the write");
    assert_eq!(record.key, "adjust-1");
    assert_eq!(record.user_id, who.user_id, "the caller's own key");
    assert_eq!(record.fingerprint, "fp-adjust");
    assert_eq!(record.created_at, pinned());
    assert_eq!(
        record.expires_at,
        pinned() + Duration::hours(RETENTION_HOURS)
    );
    let rendered = (record.render)(&committed(tenant, write, &[9], 0));
    assert_eq!(rendered.body, b"7 -2".to_vec());
}

#[tokio::test]
async fn colleagues_sending_the_same_key_hold_different_locks() {
    use crate::lock::LockKey;
    let a = actor(Role::Owner);
    let b = crate::auth::models::Actor {
        user_id: UserId::new(),
        ..a.clone()
    };
    let held = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut ports = MockPorts::default();
    let log = held.clone();
    ports.lock.expect_acquire().returning(move |keys, _| {
        log.lock()
            .unwrap()
            .extend(keys.iter().map(|k| k.as_str().to_owned()));
        Ok(LockGuard::empty())
    });
    ports
        .idempotency
        .expect_find()
        .returning(|_, _, _, _| Ok(None));
    ports.products.expect_insert().returning(|_, _, _| Ok(()));
    let services = ports.build_at(pinned());
    for who in [&a, &b] {
        services
            .catalog
            .create_product(who, mug(), Some(product_key("mine")))
            .await
            .unwrap();
    }
    let held = held.lock().unwrap();
    assert_eq!(
        *held,
        vec![
            LockKey::idempotency(&a.tenant_id, &a.user_id, "retry-7")
                .as_str()
                .to_owned(),
            LockKey::idempotency(&b.tenant_id, &b.user_id, "retry-7")
                .as_str()
                .to_owned(),
        ]
    );
    assert_ne!(held[0], held[1]);
}
