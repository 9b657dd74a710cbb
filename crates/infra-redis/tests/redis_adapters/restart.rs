//! Redis going away and coming back on the same port, with the adapters left running.

use std::time::{Duration, Instant};

use domain::ids::{LocationId, TenantId, VariantId};
use domain::lock::{LockError, LockKey, LockManager};
use domain::stock::models::Level;
use infra_redis::{RedisFanout, RedisLock, RedisLockConfig};

use crate::fanout::{collecting, next};
use crate::support::OwnRedis;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_reports_unavailable_while_redis_is_down_and_recovers_by_itself() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let config = RedisLockConfig {
        command_timeout: Duration::from_millis(500),
        ..RedisLockConfig::default()
    };
    let lock = RedisLock::connect_with(&redis.url(), config).unwrap();
    let key = LockKey::level(
        &TenantId::new(),
        &Level::new(VariantId::new(), LocationId::new()),
    );
    let keys = std::slice::from_ref(&key);

    drop(lock.acquire(keys, Duration::from_secs(1)).await.unwrap());
    lock.ping().await.unwrap();

    redis.kill();
    let started = Instant::now();
    let result = lock.acquire(keys, Duration::from_secs(5)).await;
    assert!(
        matches!(result, Err(LockError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "did not fail fast"
    );
    assert!(lock.ping().await.is_err());

    redis.restart();
    lock.acquire(keys, Duration::from_secs(1))
        .await
        .expect("the same RedisLock works again");
    lock.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscriber_resubscribes_after_redis_returns() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let fanout = RedisFanout::connect(&redis.url()).unwrap();
    let (subscription, mut rx) = collecting(&fanout);
    assert!(subscription.wait_subscribed(Duration::from_secs(5)).await);
    fanout.publish(b"before").await.unwrap();
    assert_eq!(next(&mut rx).await, b"before");

    redis.kill();
    assert!(fanout.publish(b"lost").await.is_err());
    let noticed = crate::support::eventually(Duration::from_secs(10), || {
        let down = !subscription.is_subscribed();
        async move { down }
    })
    .await;
    assert!(noticed, "the subscriber did not notice Redis went away");

    redis.restart();
    assert!(subscription.wait_subscribed(Duration::from_secs(15)).await);
    fanout.publish(b"after").await.unwrap();
    assert_eq!(next(&mut rx).await, b"after");
}

/// Redis stops answering this instance while it holds a key (here: a password is set and its
/// connections are cut), so the release on drop fails. When Redis answers again, the same
/// instance's next acquisition gives the key back first instead of waiting out its TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_whose_release_failed_in_an_outage_is_given_back_when_redis_answers_again() {
    let Some(redis) = OwnRedis::start() else {
        return;
    };
    let config = RedisLockConfig {
        ttl: Duration::from_secs(30),
        command_timeout: Duration::from_millis(500),
        ..RedisLockConfig::default()
    };
    let lock = RedisLock::connect_with(&redis.url(), config).unwrap();
    let key = LockKey::level(
        &TenantId::new(),
        &Level::new(VariantId::new(), LocationId::new()),
    );
    let keys = std::slice::from_ref(&key);
    let mut admin = crate::support::raw(&redis.url()).await;
    let guard = lock.acquire(keys, Duration::from_secs(1)).await.unwrap();

    let _: () = redis::cmd("CONFIG")
        .arg(&["SET", "requirepass", "outage"])
        .query_async(&mut admin)
        .await
        .unwrap();
    let _: i64 = redis::cmd("CLIENT")
        .arg(&["KILL", "TYPE", "normal", "SKIPME", "yes"])
        .query_async(&mut admin)
        .await
        .unwrap();
    drop(guard);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let redis_key = RedisLock::redis_key(&key);
    assert!(
        crate::support::get(&mut admin, &redis_key).await.is_some(),
        "the release could not reach Redis, so the key is still there"
    );

    let _: () = redis::cmd("CONFIG")
        .arg(&["SET", "requirepass", ""])
        .query_async(&mut admin)
        .await
        .unwrap();
    let started = Instant::now();
    lock.acquire(keys, Duration::from_secs(2))
        .await
        .expect("the key left over from the outage was given back");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}
