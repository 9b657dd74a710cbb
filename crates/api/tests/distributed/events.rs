//! Tenant A's browser hears A's stock changes as an order is placed, fulfilled and cancelled;
//! tenant B hears nothing of A's.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{
    call, default_location, http_client, listen, order, register, start_binary, variant,
};

/// Places a one-unit order of `v` on `http`; returns its id.
async fn place(client: &reqwest::Client, http: &str, token: &str, v: &str) -> String {
    let res = order(client, http, token, v).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

/// The only `stock.changed` among `heard`.
fn the_stock_change(heard: &[(String, Value)]) -> &Value {
    let changes: Vec<&Value> = heard
        .iter()
        .filter(|(n, _)| n == "stock.changed")
        .map(|(_, p)| p)
        .collect();
    assert_eq!(changes.len(), 1, "one stock.changed: {heard:?}");
    changes[0]
}

/// The states a `stock.changed` carries, the variant's then its level's:
/// `(stock, onHand, committed, levelStock, levelOnHand, levelCommitted)`.
fn states(changed: &Value) -> [i64; 6] {
    [
        "stock",
        "onHand",
        "committed",
        "levelStock",
        "levelOnHand",
        "levelCommitted",
    ]
    .map(|f| {
        changed[f]
            .as_i64()
            .unwrap_or_else(|| panic!("{f}: {changed}"))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_hears_its_own_stock_events_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("events.db").display());
    let api = start_binary(&[("STOCKROOM_DATABASE_URL", &db)]);
    let client = http_client();
    let (token_a, _) = register(&client, &api.http, "events-a").await;
    let (token_b, _) = register(&client, &api.http, "events-b").await;
    // Stock 3, reorder level 2: one order commits a unit and takes what is available down to
    // the level.
    let v = variant(&client, &api.http, &token_a, "EV-1", 3, 2).await;
    let main = default_location(&client, &api.http, &token_a).await;

    let mut a = listen(api.socket_port, &token_a).await.expect("A connects");
    let mut b = listen(api.socket_port, &token_b).await.expect("B connects");
    match listen(api.socket_port, "not-a-token").await {
        Ok(_) => panic!("a bad token must be refused"),
        Err(message) => assert!(message.contains("invalid"), "a clear message: {message}"),
    }

    // Placed: the unit is committed, nothing moves.
    let first = place(&client, &api.http, &token_a, &v).await;
    let heard = a.drain(Duration::from_secs(2)).await;
    let changed = the_stock_change(&heard);
    assert_eq!(changed["variantId"], v.as_str());
    assert_eq!(
        changed["locationId"],
        main.as_str(),
        "the default location's level"
    );
    assert_eq!(states(changed), [2, 3, 1, 2, 3, 1], "{changed}");
    assert_eq!(changed["delta"], 0, "{changed}");
    assert_eq!(changed["movementType"], Value::Null, "{changed}");
    assert_eq!(changed["movementId"], Value::Null, "{changed}");
    assert_eq!(changed["orderId"], first.as_str(), "{changed}");
    let low = heard
        .iter()
        .find(|(n, _)| n == "stock.low")
        .expect("stock.low when the commitment crosses the level");
    assert_eq!(
        (low.1["stock"].as_i64(), low.1["reorderLevel"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(low.1["locationId"], main.as_str());
    assert!(heard.iter().any(|(n, _)| n == "order.placed"));

    // Fulfilled: the SALE takes the unit off the shelf; what is available stays, so no new
    // stock.low.
    let (status, body) = call(
        &client,
        format!("{}/v1/orders/{first}/fulfil", api.http),
        &token_a,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let heard = a.drain(Duration::from_secs(2)).await;
    let changed = the_stock_change(&heard);
    assert_eq!(states(changed), [2, 2, 0, 2, 2, 0], "{changed}");
    assert_eq!(changed["delta"], -1, "{changed}");
    assert_eq!(changed["movementType"], "SALE", "{changed}");
    assert_eq!(changed["orderId"], first.as_str(), "{changed}");
    assert_eq!(changed["locationId"], main.as_str());
    let (_, sales) = call(
        &client,
        format!("{}/v1/movements?variantId={v}&type=SALE", api.http),
        &token_a,
        None,
    )
    .await;
    let sales = sales["items"].as_array().unwrap();
    assert_eq!(sales.len(), 1, "{sales:?}");
    assert_eq!(changed["movementId"], sales[0]["id"], "{changed}");
    assert!(
        !heard.iter().any(|(n, _)| n == "stock.low"),
        "a sale of committed units crosses no level: {heard:?}"
    );

    // Cancelled: the commitment is released, nothing moves.
    let second = place(&client, &api.http, &token_a, &v).await;
    let heard = a.drain(Duration::from_secs(2)).await;
    assert_eq!(states(the_stock_change(&heard)), [1, 2, 1, 1, 2, 1]);
    let (status, body) = call(
        &client,
        format!("{}/v1/orders/{second}/cancel", api.http),
        &token_a,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let heard = a.drain(Duration::from_secs(2)).await;
    let changed = the_stock_change(&heard);
    assert_eq!(states(changed), [2, 2, 0, 2, 2, 0], "{changed}");
    assert_eq!(changed["delta"], 0, "{changed}");
    assert_eq!(changed["movementType"], Value::Null, "{changed}");
    assert_eq!(changed["movementId"], Value::Null, "{changed}");
    assert_eq!(changed["orderId"], second.as_str(), "{changed}");

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
