//! The lock's guarantees, each against the real Redis.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::ids::{LocationId, TenantId, VariantId};
use domain::lock::{LockError, LockKey, LockManager, NoopLock};
use domain::stock::models::Level;
use infra_redis::{RedisLock, RedisLockConfig, RELEASE_SCRIPT};

use crate::support::{eventually, get, raw, require_redis};

fn fresh_key(tenant: &TenantId) -> LockKey {
    LockKey::level(tenant, &Level::new(VariantId::new(), LocationId::new()))
}

fn fast_config(ttl: Duration) -> RedisLockConfig {
    RedisLockConfig {
        ttl,
        retry_min: Duration::from_millis(2),
        retry_max: Duration::from_millis(20),
        ..RedisLockConfig::default()
    }
}

/// 50 tasks each read a counter, pause, and write it back plus one, holding `lock` on one key.
/// Without mutual exclusion the pauses overlap and increments are lost.
async fn racing_increments(lock: Arc<dyn LockManager>, key: LockKey) -> i64 {
    let counter = Arc::new(AtomicI64::new(0));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (lock, key, counter) = (lock.clone(), key.clone(), counter.clone());
            tokio::spawn(async move {
                let _guard = lock
                    .acquire(std::slice::from_ref(&key), Duration::from_secs(30))
                    .await
                    .expect("lock acquired");
                let seen = counter.load(Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                counter.store(seen + 1, Ordering::SeqCst);
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task finished");
    }
    counter.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holders_of_one_key_exclude_each_other() {
    let url = require_redis!();
    let lock = RedisLock::connect_with(&url, fast_config(Duration::from_secs(10))).unwrap();
    let key = fresh_key(&TenantId::new());
    assert_eq!(racing_increments(Arc::new(lock), key).await, 50);
}

/// Shows that the increment race above does lose updates when nothing excludes the writers, so
/// the Redis test passing means something.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_increment_race_loses_updates_without_a_real_lock() {
    let key = fresh_key(&TenantId::new());
    assert!(racing_increments(Arc::new(NoopLock), key).await < 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_cannot_release_a_held_key_and_dropping_the_guard_does() {
    let url = require_redis!();
    let lock = RedisLock::connect(&url).unwrap();
    let key = fresh_key(&TenantId::new());
    let redis_key = RedisLock::redis_key(&key);
    assert_eq!(redis_key, format!("stockroom:lock:{}", key.as_str()));
    let mut conn = raw(&url).await;

    let guard = lock
        .acquire(std::slice::from_ref(&key), Duration::from_secs(1))
        .await
        .unwrap();
    let token = get(&mut conn, &redis_key).await.expect("key is held");

    let deleted: i64 = redis::Script::new(RELEASE_SCRIPT)
        .key(&redis_key)
        .arg("not-the-holders-token")
        .invoke_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(deleted, 0);
    assert_eq!(get(&mut conn, &redis_key).await.as_deref(), Some(&*token));

    drop(guard);
    let released = eventually(Duration::from_secs(2), || {
        let mut conn = conn.clone();
        let redis_key = redis_key.clone();
        async move { get(&mut conn, &redis_key).await.is_none() }
    })
    .await;
    assert!(released, "dropping the guard did not release the key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_key_expired_cannot_release_the_next_holders_key() {
    let url = require_redis!();
    let lock = RedisLock::connect_with(&url, fast_config(Duration::from_millis(200))).unwrap();
    let key = fresh_key(&TenantId::new());
    let redis_key = RedisLock::redis_key(&key);
    let keys = std::slice::from_ref(&key);
    let mut conn = raw(&url).await;

    let stale = lock.acquire(keys, Duration::from_secs(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fresh = lock.acquire(keys, Duration::from_secs(1)).await.unwrap();
    let fresh_token = get(&mut conn, &redis_key).await.expect("key is held");

    drop(stale);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        get(&mut conn, &redis_key).await.as_deref(),
        Some(&*fresh_token)
    );
    drop(fresh);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreleased_key_frees_itself_after_its_ttl() {
    let url = require_redis!();
    let lock = RedisLock::connect_with(&url, fast_config(Duration::from_millis(200))).unwrap();
    let key = fresh_key(&TenantId::new());
    let keys = std::slice::from_ref(&key);

    let taken_at = Instant::now();
    let abandoned = lock.acquire(keys, Duration::from_secs(1)).await.unwrap();
    // A crashed holder never runs its release.
    std::mem::forget(abandoned);

    let busy = lock.acquire(keys, Duration::from_millis(50)).await;
    assert!(matches!(busy, Err(LockError::Timeout)), "{busy:?}");

    let _guard = lock.acquire(keys, Duration::from_secs(3)).await.unwrap();
    assert!(taken_at.elapsed() >= Duration::from_millis(150));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_sorted_key_sets_never_deadlock() {
    let url = require_redis!();
    let lock =
        Arc::new(RedisLock::connect_with(&url, fast_config(Duration::from_secs(10))).unwrap());
    let tenant = TenantId::new();
    let mut keys: Vec<LockKey> = (0..6).map(|_| fresh_key(&tenant)).collect();
    keys.sort();
    let counters: Arc<Vec<AtomicI64>> = Arc::new((0..6).map(|_| AtomicI64::new(0)).collect());

    let tasks: Vec<_> = (0..40usize)
        .map(|task| {
            // Windows of two to four neighbouring keys, so every set overlaps others.
            let start = task % 5;
            let len = 2 + task % 3;
            let wanted: Vec<usize> = (start..(start + len).min(6)).collect();
            let (lock, keys, counters) = (lock.clone(), keys.clone(), counters.clone());
            tokio::spawn(async move {
                let set: Vec<LockKey> = wanted.iter().map(|&i| keys[i].clone()).collect();
                let _guard = lock.acquire(&set, Duration::from_secs(20)).await?;
                let seen: Vec<i64> = wanted
                    .iter()
                    .map(|&i| counters[i].load(Ordering::SeqCst))
                    .collect();
                tokio::time::sleep(Duration::from_millis(1)).await;
                for (&i, seen) in wanted.iter().zip(seen) {
                    counters[i].store(seen + 1, Ordering::SeqCst);
                }
                Ok::<usize, LockError>(wanted.len())
            })
        })
        .collect();

    let all = async {
        let mut expected = vec![0i64; 6];
        for (task, handle) in tasks.into_iter().enumerate() {
            handle.await.unwrap().expect("acquired");
            let start = task % 5;
            for slot in expected
                .iter_mut()
                .take((start + 2 + task % 3).min(6))
                .skip(start)
            {
                *slot += 1;
            }
        }
        expected
    };
    let expected = tokio::time::timeout(Duration::from_secs(30), all)
        .await
        .expect("tasks deadlocked");
    let actual: Vec<i64> = counters.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    assert_eq!(actual, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_acquisition_releases_the_keys_it_had_taken() {
    let url = require_redis!();
    let lock = RedisLock::connect_with(&url, fast_config(Duration::from_secs(10))).unwrap();
    let tenant = TenantId::new();
    let mut keys = vec![fresh_key(&tenant), fresh_key(&tenant)];
    keys.sort();
    let (first, second) = (keys[0].clone(), keys[1].clone());
    let mut conn = raw(&url).await;

    let _blocker = lock
        .acquire(std::slice::from_ref(&second), Duration::from_secs(1))
        .await
        .unwrap();

    let started = Instant::now();
    let result = lock.acquire(&keys, Duration::from_millis(300)).await;
    assert!(matches!(result, Err(LockError::Timeout)), "{result:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "gave up early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(2),
        "waited too long: {waited:?}"
    );

    assert_eq!(get(&mut conn, &RedisLock::redis_key(&first)).await, None);
    lock.acquire(std::slice::from_ref(&first), Duration::ZERO)
        .await
        .expect("first key is free at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_the_guarded_work_releases_the_keys() {
    let url = require_redis!();
    let lock = Arc::new(RedisLock::connect(&url).unwrap());
    let key = fresh_key(&TenantId::new());

    let worker = {
        let (lock, key) = (lock.clone(), key.clone());
        tokio::spawn(async move {
            let _guard = lock
                .acquire(std::slice::from_ref(&key), Duration::from_secs(1))
                .await
                .unwrap();
            panic!("the guarded work failed");
        })
    };
    assert!(worker.await.unwrap_err().is_panic());

    let started = Instant::now();
    lock.acquire(std::slice::from_ref(&key), Duration::from_secs(5))
        .await
        .expect("released after the panic");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acquiring_no_keys_succeeds_and_ping_answers() {
    let url = require_redis!();
    let lock = RedisLock::connect(&url).unwrap();
    lock.ping().await.expect("Redis answers");
    lock.acquire(&[], Duration::ZERO)
        .await
        .expect("nothing to take");
}

#[test]
fn a_malformed_url_is_refused_at_connect() {
    assert!(RedisLock::connect("not a url").is_err());
}
