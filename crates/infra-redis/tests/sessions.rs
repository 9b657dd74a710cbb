//! Announcements of changed sessions across instances, against a real redis-server: one
//! instance's announcement reaches every other subscriber, and a lost subscription says so
//! (the domain then trusts what it keeps for one second only) until Redis is back.
//!
//! They read `STOCKROOM_TEST_REDIS_URL`; without it they skip loudly, and fail under CI.

#[allow(dead_code, unused_macros, unused_imports)]
#[path = "redis_adapters/support.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use domain::auth::ports::{SessionInvalidation, SessionSink};
use domain::ids::{TenantId, UserId};
use infra_redis::RedisSessionInvalidation;
use tokio::sync::mpsc;

use support::{eventually, require_redis, OwnRedis};

/// Hands every announcement heard to a channel the test reads.
struct Recording(mpsc::UnboundedSender<(TenantId, UserId)>);

impl SessionSink for Recording {
    fn forget(&self, tenant: &TenantId, user: &UserId) {
        let _ = self.0.send((*tenant, *user));
    }
}

fn recording() -> (
    Arc<dyn SessionSink>,
    mpsc::UnboundedReceiver<(TenantId, UserId)>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Arc::new(Recording(tx)), rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(TenantId, UserId)>) -> (TenantId, UserId) {
    tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("an announcement within 2 s")
        .expect("the subscription is running")
}

fn channel_name() -> String {
    format!("stockroom:test:sessions:{}", UserId::new())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_on_one_instance_reaches_every_other_subscriber() {
    let url = require_redis!();
    let name = channel_name();
    let one = RedisSessionInvalidation::connect(&url)
        .unwrap()
        .with_channel(&name);
    let two = RedisSessionInvalidation::connect(&url)
        .unwrap()
        .with_channel(&name);
    let other_deployment = RedisSessionInvalidation::connect(&url)
        .unwrap()
        .with_channel(&channel_name());
    let (sink_one, mut heard_one) = recording();
    let (sink_two, mut heard_two) = recording();
    let (sink_other, mut heard_other) = recording();
    let sub_one = one.subscribe(sink_one);
    let sub_two = two.subscribe(sink_two);
    let sub_other = other_deployment.subscribe(sink_other);
    for sub in [&sub_one, &sub_two, &sub_other] {
        assert!(sub.wait_subscribed(Duration::from_secs(5)).await);
    }

    let (tenant, user) = (TenantId::new(), UserId::new());
    let sent = std::time::Instant::now();
    one.publish(&tenant, &user).await.unwrap();
    assert_eq!(next(&mut heard_two).await, (tenant, user));
    let delay = sent.elapsed();
    assert!(delay < Duration::from_secs(1), "took {delay:?}");
    assert_eq!(next(&mut heard_one).await, (tenant, user), "its own too");
    let line = format!("session announcement heard by the other subscriber after {delay:?}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());

    // Another channel (another deployment on the same Redis) hears nothing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(heard_other.try_recv().is_err());
}

/// Redis that stops answering without closing the connection (every client paused), which the
/// connection's own health check would notice only after seconds: the heartbeat notices it within
/// a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_redis_is_reported_as_not_heard_within_a_second() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let channel = RedisSessionInvalidation::connect(&redis.url()).unwrap();
    let (sink, _heard) = recording();
    let subscription = channel.subscribe(sink);
    assert!(subscription.wait_subscribed(Duration::from_secs(5)).await);
    // Heard for as long as Redis answers: the heartbeats keep it so.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(subscription.is_subscribed());

    let mut admin = support::raw(&redis.url()).await;
    redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(3000)
        .arg("ALL")
        .query_async::<()>(&mut admin)
        .await
        .expect("CLIENT PAUSE");
    let paused = std::time::Instant::now();
    let noticed = eventually(Duration::from_secs(5), || {
        let down = !subscription.is_subscribed();
        async move { down }
    })
    .await;
    let took = paused.elapsed();
    assert!(noticed, "a silent Redis was still reported as heard");
    assert!(took < Duration::from_secs(1), "{took:?}");
    // Heard again once the pause ends.
    assert!(subscription.wait_subscribed(Duration::from_secs(10)).await);
    redis.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_subscription_is_reported_until_redis_returns_and_then_hears_again() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let channel = RedisSessionInvalidation::connect(&redis.url()).unwrap();
    let (sink, mut heard) = recording();
    let subscription = channel.subscribe(sink);
    assert!(subscription.wait_subscribed(Duration::from_secs(5)).await);

    redis.kill();
    let (tenant, user) = (TenantId::new(), UserId::new());
    assert!(
        channel.publish(&tenant, &user).await.is_err(),
        "an announcement Redis cannot take is refused, not swallowed"
    );
    let lost = std::time::Instant::now();
    let noticed = eventually(Duration::from_secs(10), || {
        let down = !subscription.is_subscribed();
        async move { down }
    })
    .await;
    assert!(noticed, "the lost subscription was not reported");
    // Within a second, so that the domain's short bound takes over in time.
    assert!(
        lost.elapsed() < Duration::from_secs(1),
        "{:?}",
        lost.elapsed()
    );

    redis.restart();
    assert!(subscription.wait_subscribed(Duration::from_secs(15)).await);
    channel.publish(&tenant, &user).await.unwrap();
    assert_eq!(next(&mut heard).await, (tenant, user));
}
