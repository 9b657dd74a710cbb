//! Two instances sharing Redis: an event caused on one reaches clients of the other.

use std::time::Duration;

use domain::events::EventPublisher;
use domain::ids::TenantId;
use infra_redis::RedisFanout;
use realtime::FanoutPublisher;
use serde_json::json;

use crate::support::{connect, redis_url, stock_changed, stock_low, TestServer};

fn unique_channel() -> String {
    format!("stockroom:events:test:{}", TenantId::new())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_of_one_instance_hears_events_published_on_another() {
    let Some(url) = redis_url() else {
        return;
    };
    let channel = unique_channel();
    let first = TestServer::start(vec![]).await;
    let second = TestServer::start(vec![]).await;
    let first_publisher = FanoutPublisher::start(
        &first.realtime,
        RedisFanout::connect(&url).unwrap().with_channel(&channel),
    );
    let second_publisher = FanoutPublisher::start(
        &second.realtime,
        RedisFanout::connect(&url).unwrap().with_channel(&channel),
    );
    assert!(
        first_publisher
            .wait_subscribed(Duration::from_secs(5))
            .await
    );
    assert!(
        second_publisher
            .wait_subscribed(Duration::from_secs(5))
            .await
    );
    assert!(second_publisher.is_subscribed());

    let (tenant, other_tenant) = (TenantId::new(), TenantId::new());
    let mut on_first = connect(first.addr, &tenant).await;
    let mut on_second = connect(second.addr, &tenant).await;
    let mut other_on_second = connect(second.addr, &other_tenant).await;

    let event = stock_changed(tenant, 4);
    first_publisher.publish(vec![event.clone()]).await;

    let (name, payload) = on_second
        .next_event(Duration::from_secs(5))
        .await
        .expect("event on the other instance");
    assert_eq!(name, "stock.changed");
    assert_eq!(payload, realtime::to_wire(&event).payload);
    // The publishing instance hears it through Redis too, exactly once.
    let (name, _) = on_first
        .next_event(Duration::from_secs(5))
        .await
        .expect("event on the first");
    assert_eq!(name, "stock.changed");
    assert_eq!(on_first.next_event(Duration::from_millis(300)).await, None);
    assert_eq!(on_second.next_event(Duration::from_millis(300)).await, None);
    // Tenancy holds across instances.
    assert_eq!(
        other_on_second.next_event(Duration::from_millis(300)).await,
        None
    );

    second_publisher
        .publish(vec![stock_low(other_tenant, 0)])
        .await;
    let (name, payload) = other_on_second
        .next_event(Duration::from_secs(5))
        .await
        .expect("own event");
    assert_eq!(name, "stock.low");
    assert_eq!(payload["tenantId"], json!(other_tenant.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_still_delivered_locally_when_redis_is_unreachable() {
    // Nothing listens on port 1, so every publish to Redis fails at once.
    let server = TestServer::start(vec![]).await;
    let publisher = FanoutPublisher::start(
        &server.realtime,
        RedisFanout::connect("redis://127.0.0.1:1").unwrap(),
    );
    assert!(!publisher.is_subscribed());
    let tenant = TenantId::new();
    let mut client = connect(server.addr, &tenant).await;

    publisher.publish(vec![stock_low(tenant, 1)]).await;
    let (name, _) = client
        .next_event(Duration::from_secs(5))
        .await
        .expect("local delivery");
    assert_eq!(name, "stock.low");
}
