//! Events reach the sockets of their own tenant and no one else's.

use std::time::Duration;

use domain::events::EventPublisher;
use domain::ids::TenantId;
use serde_json::json;

use crate::support::{connect, stock_changed, stock_low, transfer_shipped, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_receives_its_own_stock_events_in_wire_format() {
    let server = TestServer::start(vec![]).await;
    let tenant = TenantId::new();
    let mut client = connect(server.addr, &tenant).await;

    let changed = stock_changed(tenant, 7);
    let low = stock_low(tenant, 2);
    let publisher = server.realtime.publisher();
    publisher.publish(vec![changed.clone(), low.clone()]).await;

    let (name, payload) = client
        .next_event(Duration::from_secs(5))
        .await
        .expect("stock.changed");
    assert_eq!(name, "stock.changed");
    assert_eq!(payload, realtime::to_wire(&changed).payload);
    assert_eq!(payload["tenantId"], json!(tenant.to_string()));
    assert_eq!(payload["stock"], json!(7));
    assert_eq!(payload["levelStock"], json!(7));
    assert!(payload["locationId"].is_string(), "{payload}");
    assert_eq!(payload["movementType"], json!("SALE"));
    assert_eq!(payload["at"], json!("2024-06-01T12:00:00.123Z"));

    let (name, payload) = client
        .next_event(Duration::from_secs(5))
        .await
        .expect("stock.low");
    assert_eq!(name, "stock.low");
    assert_eq!(payload, realtime::to_wire(&low).payload);
    assert_eq!(payload["reorderLevel"], json!(5));
    assert!(payload["locationId"].is_string(), "{payload}");

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_receives_its_transfer_events() {
    let server = TestServer::start(vec![]).await;
    let tenant = TenantId::new();
    let mut client = connect(server.addr, &tenant).await;

    let shipped = transfer_shipped(tenant, 12);
    server
        .realtime
        .publisher()
        .publish(vec![shipped.clone()])
        .await;

    let (name, payload) = client
        .next_event(Duration::from_secs(5))
        .await
        .expect("transfer.shipped");
    assert_eq!(name, "transfer.shipped");
    assert_eq!(payload, realtime::to_wire(&shipped).payload);
    assert_eq!(payload["units"], json!(12));
    assert!(payload["fromLocationId"].is_string(), "{payload}");
    assert!(payload["toLocationId"].is_string(), "{payload}");

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_hears_nothing_of_it() {
    let server = TestServer::start(vec![]).await;
    let (tenant_a, tenant_b) = (TenantId::new(), TenantId::new());
    let mut client_a = connect(server.addr, &tenant_a).await;
    let mut client_b = connect(server.addr, &tenant_b).await;
    let publisher = server.realtime.publisher();

    publisher
        .publish(vec![stock_changed(tenant_a, 3), stock_low(tenant_a, 1)])
        .await;
    // A's events arrive at A, so they have been emitted by the time B is checked...
    for expected in ["stock.changed", "stock.low"] {
        let (name, _) = client_a
            .next_event(Duration::from_secs(5))
            .await
            .expect("A's event");
        assert_eq!(name, expected);
    }
    // ...and B's own event is the first (and only) thing B hears.
    publisher.publish(vec![stock_changed(tenant_b, 9)]).await;
    let (name, payload) = client_b
        .next_event(Duration::from_secs(5))
        .await
        .expect("B's event");
    assert_eq!(name, "stock.changed");
    assert_eq!(payload["tenantId"], json!(tenant_b.to_string()));
    assert_eq!(client_b.next_event(Duration::from_millis(300)).await, None);
    assert_eq!(client_a.next_event(Duration::from_millis(300)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cannot_join_another_tenants_room() {
    let server = TestServer::start(vec![]).await;
    let (tenant_a, intruder) = (TenantId::new(), TenantId::new());
    let mut client = connect(server.addr, &intruder).await;
    for event in ["join", "subscribe", "room"] {
        client
            .client
            .emit(event, json!(format!("tenant:{tenant_a}")))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    server
        .realtime
        .publisher()
        .publish(vec![stock_low(tenant_a, 0)])
        .await;
    assert_eq!(client.next_event(Duration::from_millis(500)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_connected_sockets_and_ends_the_server() {
    let server = TestServer::start(vec![]).await;
    let mut client = connect(server.addr, &TenantId::new()).await;
    assert_eq!(server.realtime.connected_sockets(), 1);
    assert!(
        !client.closed(Duration::from_millis(300)).await,
        "closed too early"
    );
    let addr = server.addr;

    server.stop().await;
    assert!(
        client.closed(Duration::from_secs(5)).await,
        "client was not closed"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still listening"
    );
}
