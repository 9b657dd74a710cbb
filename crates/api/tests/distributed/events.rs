//! Tenant A's browser hears A's stock changes after an HTTP order; tenant B hears nothing of A's.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::{
    default_location, http_client, listen, order, register, start_binary, variant,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_hears_its_own_stock_events_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("events.db").display());
    let api = start_binary(&[("STOCKROOM_DATABASE_URL", &db)]);
    let client = http_client();
    let (token_a, _) = register(&client, &api.http, "events-a").await;
    let (token_b, _) = register(&client, &api.http, "events-b").await;
    // Stock 3, reorder level 2: one sale changes the stock and crosses the level.
    let v = variant(&client, &api.http, &token_a, "EV-1", 3, 2).await;

    let mut a = listen(api.socket_port, &token_a).await.expect("A connects");
    let mut b = listen(api.socket_port, &token_b).await.expect("B connects");
    match listen(api.socket_port, "not-a-token").await {
        Ok(_) => panic!("a bad token must be refused"),
        Err(message) => assert!(message.contains("invalid"), "a clear message: {message}"),
    }

    assert_eq!(
        order(&client, &api.http, &token_a, &v).await.status(),
        StatusCode::CREATED
    );

    let heard = a.drain(Duration::from_secs(2)).await;
    let changed = heard
        .iter()
        .find(|(n, _)| n == "stock.changed")
        .expect("stock.changed");
    assert_eq!(changed.1["variantId"], v.as_str());
    assert_eq!(changed.1["stock"], 2);
    assert_eq!(changed.1["delta"], -1);
    assert_eq!(changed.1["movementType"], "SALE");
    assert_eq!(changed.1["levelStock"], 2, "the default location's level");
    let main = default_location(&client, &api.http, &token_a).await;
    assert_eq!(changed.1["locationId"], main.as_str());
    let low = heard
        .iter()
        .find(|(n, _)| n == "stock.low")
        .expect("stock.low");
    assert_eq!(
        (low.1["stock"].as_i64(), low.1["reorderLevel"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(low.1["locationId"], main.as_str());
    assert!(heard.iter().any(|(n, _)| n == "order.placed"));
    assert!(
        b.drain(Duration::from_millis(500)).await.is_empty(),
        "B hears nothing of A's"
    );
    let _ = a.client.disconnect().await;
    let _ = b.client.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_is_closed_when_the_token_that_opened_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("expiry.db").display());
    let api = start_binary(&[
        ("STOCKROOM_DATABASE_URL", &db),
        ("STOCKROOM_TOKEN_TTL_SECS", "2"),
    ]);
    let client = http_client();
    let (token, _) = register(&client, &api.http, "expiry").await;
    let mut socket = listen(api.socket_port, &token).await.expect("connects");

    let heard = socket.drain(Duration::from_secs(6)).await;
    let (_, notice) = heard
        .iter()
        .find(|(n, _)| n == "session.expired")
        .expect("session.expired before the socket is closed");
    assert!(notice["expiredAt"].is_string(), "{notice}");
    // The token that opened the socket is now refused for a new one.
    match listen(api.socket_port, &token).await {
        Ok(_) => panic!("an expired token must be refused"),
        Err(message) => assert!(message.contains("invalid"), "{message}"),
    }
}
