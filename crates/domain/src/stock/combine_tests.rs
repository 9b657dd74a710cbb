//! The combiner's failure paths, driven through concurrent adjustments of one variant.
//!
//! The first adjustment finds no worker and starts one, which blocks in the lock until the test
//! opens a gate; the adjustments started meanwhile queue behind it and go as one batch. The
//! runtime is single-threaded, so an adjustment whose variant was read has also been queued
//! (nothing between the read and the queueing waits).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::service::Adjustment;
use crate::auth::models::{Actor, Role};
use crate::error::{DomainError, StoreError};
use crate::idempotency::Outcome;
use crate::ids::VariantId;
use crate::lock::{LockError, LockGuard, LockKey, LockManager};
use crate::services::Services;
use crate::stock::models::{Adjusted, Committed, LedgerError, LedgerWrite, Level};
use crate::testing::{actor, committed, home, variant, MockPorts};
use crate::values::{StockDelta, Text};

/// How many adjustments queue behind the first one.
const QUEUED: usize = 3;

/// A lock whose first acquisition waits for the gate; every acquisition then answers `answer`.
struct GatedLock {
    gate: Semaphore,
    answer: fn() -> Result<LockGuard, LockError>,
    acquisitions: AtomicUsize,
    keys: Mutex<Vec<Vec<LockKey>>>,
}

impl GatedLock {
    fn new(answer: fn() -> Result<LockGuard, LockError>) -> Arc<Self> {
        Arc::new(Self {
            gate: Semaphore::new(0),
            answer,
            acquisitions: AtomicUsize::new(0),
            keys: Mutex::new(Vec::new()),
        })
    }
}

#[async_trait]
impl LockManager for GatedLock {
    async fn acquire(&self, keys: &[LockKey], _: Duration) -> Result<LockGuard, LockError> {
        self.keys.lock().unwrap().push(keys.to_vec());
        if self.acquisitions.fetch_add(1, Ordering::SeqCst) == 0 {
            self.gate.acquire().await.expect("gate open").forget();
        }
        (self.answer)()
    }
}

fn minus(units: i64) -> Adjustment {
    Adjustment {
        quantity: StockDelta::new(-units).unwrap(),
        reason: Text::long("shrinkage").unwrap(),
        expected_stock: None,
        location_id: None,
        state: crate::stock::state::UnitState::Available,
    }
}

type Answer = Result<Outcome<Adjusted>, DomainError>;

/// Starts one adjustment, then `QUEUED` more once the first holds the worker in the lock; opens
/// the gate once all are queued. Answers the first's outcome and the queued ones', in order.
async fn race(
    services: Services,
    who: Actor,
    id: VariantId,
    lock: &GatedLock,
    reads: &AtomicUsize,
) -> (Answer, Vec<Answer>) {
    let start = |units: i64| -> JoinHandle<Answer> {
        let (services, who) = (services.clone(), who.clone());
        tokio::spawn(async move { services.stock.adjust(&who, &id, minus(units), None).await })
    };
    let first = start(1);
    while lock.acquisitions.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let queued: Vec<_> = (0..QUEUED).map(|i| start(2 + i as i64)).collect();
    while reads.load(Ordering::SeqCst) < 1 + QUEUED {
        tokio::task::yield_now().await;
    }
    lock.gate.add_permits(1);
    let first = first.await.expect("the first writer finished");
    let mut answers = Vec::new();
    for handle in queued {
        answers.push(handle.await.expect("a queued writer finished"));
    }
    (first, answers)
}

/// Ports where the variant has plenty of stock and every read is counted.
fn ports_with_variant(who: &Actor) -> (MockPorts, VariantId, Arc<AtomicUsize>) {
    let v = variant(who.tenant_id, 100, 0);
    let id = v.id;
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    let mut ports = MockPorts::default();
    ports.one_location();
    ports.variants.expect_get().returning(move |_, _| {
        counted.fetch_add(1, Ordering::SeqCst);
        Ok(Some(v.clone()))
    });
    (ports, id, reads)
}

fn services_with(ports: MockPorts, lock: Arc<GatedLock>) -> Services {
    let clock = crate::testing::clock_at(chrono::Utc::now());
    Services::new(ports.deps_with(Arc::new(clock), Some(lock)))
}

fn assert_one_hold_per_batch(lock: &GatedLock, who: &Actor, id: &VariantId) {
    assert_eq!(
        lock.acquisitions.load(Ordering::SeqCst),
        2,
        "the first write alone, then the queued ones as one batch"
    );
    let key = vec![LockKey::level(&who.tenant_id, &Level::new(*id, home()))];
    assert_eq!(*lock.keys.lock().unwrap(), vec![key.clone(), key]);
}

#[tokio::test]
async fn a_lock_timeout_refuses_every_write_of_the_batch_and_commits_none() {
    let who = actor(Role::Manager);
    let (mut ports, id, reads) = ports_with_variant(&who);
    ports.ledger.expect_commit().never();
    ports.ledger.expect_commit_batch().never();
    ports.events.expect_publish().never();
    let lock = GatedLock::new(|| Err(LockError::Timeout));
    let services = services_with(ports, lock.clone());

    let (first, queued) = race(services, who.clone(), id, &lock, &reads).await;

    assert!(matches!(first, Err(DomainError::LockTimeout)), "{first:?}");
    assert_eq!(queued.len(), QUEUED);
    for answer in &queued {
        assert!(
            matches!(answer, Err(DomainError::LockTimeout)),
            "{answer:?}"
        );
    }
    assert_one_hold_per_batch(&lock, &who, &id);
}

#[tokio::test]
async fn an_unreachable_lock_service_refuses_every_write_of_the_batch_as_unavailable() {
    let who = actor(Role::Manager);
    let (mut ports, id, reads) = ports_with_variant(&who);
    ports.ledger.expect_commit().never();
    ports.ledger.expect_commit_batch().never();
    ports.events.expect_publish().never();
    let lock = GatedLock::new(|| Err(LockError::Unavailable("redis: connection refused".into())));
    let services = services_with(ports, lock.clone());

    let (first, queued) = race(services, who.clone(), id, &lock, &reads).await;

    for answer in std::iter::once(&first).chain(&queued) {
        assert!(
            matches!(answer, Err(DomainError::Unavailable(m)) if m == "redis: connection refused"),
            "{answer:?}"
        );
    }
    assert_eq!(queued.len(), QUEUED);
    assert_one_hold_per_batch(&lock, &who, &id);
}

/// Ports where the first write commits alone and the batch is answered by `batch`.
fn ports_failing_the_batch(
    who: &Actor,
    batch: impl Fn(&[LedgerWrite]) -> Result<Vec<Result<Committed, LedgerError>>, StoreError>
        + Send
        + Sync
        + 'static,
) -> (MockPorts, VariantId, Arc<AtomicUsize>) {
    let (mut ports, id, reads) = ports_with_variant(who);
    let tenant = who.tenant_id;
    ports
        .ledger
        .expect_commit()
        .times(1)
        .returning(move |_, w| Ok(committed(tenant, &w, &[100], 0)));
    ports
        .ledger
        .expect_commit_batch()
        .withf(|_, writes| {
            let deltas: Vec<i64> = writes.iter().map(|w| w.changes[0].delta).collect();
            deltas == [-2, -3, -4]
        })
        .times(1)
        .returning(move |_, writes| batch(&writes));
    // Only the first write is announced.
    ports
        .events
        .expect_publish()
        .withf(|events| events.len() == 1)
        .times(1)
        .return_const(());
    (ports, id, reads)
}

#[tokio::test]
async fn a_failed_batch_commit_answers_every_waiting_write_with_its_error() {
    let who = actor(Role::Manager);
    let (ports, id, reads) =
        ports_failing_the_batch(&who, |_| Err(StoreError::Unavailable("disk full".into())));
    let lock = GatedLock::new(|| Ok(LockGuard::empty()));
    let services = services_with(ports, lock.clone());

    let (first, queued) = race(services, who.clone(), id, &lock, &reads).await;

    assert!(matches!(first, Ok(Outcome::Fresh(_))), "{first:?}");
    assert_eq!(queued.len(), QUEUED);
    for answer in &queued {
        assert!(
            matches!(answer, Err(DomainError::Unavailable(m)) if m == "disk full"),
            "{answer:?}"
        );
    }
    assert_one_hold_per_batch(&lock, &who, &id);
}

#[tokio::test]
async fn a_batch_answer_of_the_wrong_length_fails_every_write_of_the_batch() {
    let who = actor(Role::Manager);
    // One answer for three writes: which write it belongs to is unknown, so none may take it.
    let tenant = who.tenant_id;
    let (ports, id, reads) = ports_failing_the_batch(&who, move |writes| {
        Ok(vec![Ok(committed(tenant, &writes[0], &[99], 0))])
    });
    let lock = GatedLock::new(|| Ok(LockGuard::empty()));
    let services = services_with(ports, lock.clone());

    let (first, queued) = race(services, who.clone(), id, &lock, &reads).await;

    assert!(matches!(first, Ok(Outcome::Fresh(_))), "{first:?}");
    assert_eq!(queued.len(), QUEUED);
    for answer in &queued {
        assert!(
            matches!(answer, Err(DomainError::Unknown(e)) if e.to_string().contains("1 results for 3 writes")),
            "{answer:?}"
        );
    }
}
