//! The lock contract, one `pub async fn` per case, each taking a fresh [`LockManager`].
//!
//! Keys are made from fresh ids in every case, so suites of a shared lock service (Redis) can
//! run in parallel without stepping on each other.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::ids::{LocationId, TenantId, VariantId};
use domain::lock::{LockError, LockKey, LockManager};
use domain::stock::models::Level;

/// The lock under test, as the use cases hold it.
pub type SharedLock = Arc<dyn LockManager>;

/// A generous wait for cases where the lock must eventually be granted.
const PATIENT: Duration = Duration::from_secs(20);

/// `n` fresh level keys of one tenant, sorted as callers pass them.
fn keys(n: usize) -> Vec<LockKey> {
    let tenant = TenantId::new();
    let mut keys: Vec<LockKey> = (0..n)
        .map(|_| LockKey::level(&tenant, &Level::new(VariantId::new(), LocationId::new())))
        .collect();
    keys.sort();
    keys
}

/// 50 tasks do read–sleep–write on a shared counter under one key: none may interleave.
pub async fn lock_serialises_holders(lock: SharedLock) {
    let key = keys(1);
    let counter = Arc::new(AtomicI64::new(0));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (lock, key, counter) = (lock.clone(), key.clone(), counter.clone());
            tokio::spawn(async move {
                let _guard = lock.acquire(&key, PATIENT).await.expect("lock granted");
                let seen = counter.load(Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                counter.store(seen + 1, Ordering::SeqCst);
            })
        })
        .collect();
    for task in futures::future::join_all(tasks).await {
        task.expect("the task ran");
    }
    assert_eq!(counter.load(Ordering::SeqCst), 50);
}

/// A key held elsewhere makes `acquire` give up with `Timeout` after about `wait`.
pub async fn lock_times_out_when_held(lock: SharedLock) {
    let key = keys(1);
    let _held = lock.acquire(&key, PATIENT).await.expect("lock granted");
    let wait = Duration::from_millis(300);
    let started = Instant::now();
    let refused = lock.acquire(&key, wait).await;
    let waited = started.elapsed();
    assert!(matches!(refused, Err(LockError::Timeout)), "{refused:?}");
    assert!(
        waited >= wait / 2,
        "gave up after {waited:?}, long before {wait:?}"
    );
    assert!(
        waited < wait + Duration::from_secs(2),
        "waited {waited:?} for {wait:?}"
    );
}

/// When the second of two keys is busy, the first (already taken) is released on timeout.
pub async fn lock_releases_taken_keys_on_timeout(lock: SharedLock) {
    let ks = keys(2);
    let _second = lock.acquire(&ks[1..], PATIENT).await.expect("lock granted");
    let refused = lock.acquire(&ks, Duration::from_millis(200)).await;
    assert!(matches!(refused, Err(LockError::Timeout)), "{refused:?}");
    let first = lock.acquire(&ks[..1], Duration::from_millis(200)).await;
    assert!(first.is_ok(), "the first key stayed locked: {first:?}");
}

/// Many tasks take overlapping sets of keys, each set in sorted order: all finish.
pub async fn lock_overlapping_sorted_sets_never_deadlock(lock: SharedLock) {
    let pool = keys(5);
    let in_use = Arc::new(AtomicI64::new(0));
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let mut mine: Vec<LockKey> = [i % 5, (i + 2) % 5, (i + 3) % 5]
                .iter()
                .map(|&k| pool[k].clone())
                .collect();
            mine.sort();
            if i % 2 == 1 {
                // Half the tasks also take the first key, so sets overlap in several ways.
                mine.insert(0, pool[0].clone());
                mine.dedup();
            }
            let (lock, in_use) = (lock.clone(), in_use.clone());
            tokio::spawn(async move {
                let _guard = lock.acquire(&mine, PATIENT).await.expect("lock granted");
                in_use.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(3)).await;
            })
        })
        .collect();
    let all = tokio::time::timeout(
        PATIENT + Duration::from_secs(10),
        futures::future::join_all(tasks),
    )
    .await
    .expect("no deadlock");
    for task in all {
        task.expect("the task ran");
    }
    assert_eq!(in_use.load(Ordering::SeqCst), 30);
}

/// Dropping the guard frees the key, also when its holder panicked.
pub async fn lock_dropped_guard_frees_the_key(lock: SharedLock) {
    let key = keys(1);
    let guard = lock.acquire(&key, PATIENT).await.expect("lock granted");
    drop(guard);
    let again = lock.acquire(&key, Duration::from_millis(500)).await;
    assert!(again.is_ok(), "{again:?}");
    drop(again);

    let panicking = {
        let (lock, key) = (lock.clone(), key.clone());
        tokio::spawn(async move {
            let _guard = lock.acquire(&key, PATIENT).await.expect("lock granted");
            panic!("the holder fails while holding the key");
        })
    };
    assert!(panicking.await.is_err());
    let after_panic = lock.acquire(&key, Duration::from_millis(500)).await;
    assert!(after_panic.is_ok(), "{after_panic:?}");
}

/// Holding one key does not block another, nor does one level of a variant block another level
/// of the same variant.
pub async fn lock_keys_are_independent(lock: SharedLock) {
    let ks = keys(2);
    let _first = lock.acquire(&ks[..1], PATIENT).await.expect("lock granted");
    let second = lock.acquire(&ks[1..], Duration::from_millis(200)).await;
    assert!(second.is_ok(), "{second:?}");

    let (tenant, variant) = (TenantId::new(), VariantId::new());
    let at = |location| LockKey::level(&tenant, &Level::new(variant, location));
    let _here = lock
        .acquire(&[at(LocationId::new())], PATIENT)
        .await
        .expect("lock granted");
    let there = lock
        .acquire(&[at(LocationId::new())], Duration::from_millis(200))
        .await;
    assert!(there.is_ok(), "{there:?}");
}
