//! `Idempotency-Key` belongs to the user who sent it: a colleague sending the same key (and the
//! same body) gets a request of their own executed, never the other's stored answer.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{slug, spawn_app, TestApp};

/// Posts `body` with `key`: the status, the parsed body and whether it was a replay.
async fn post_keyed(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> (StatusCode, Value, bool) {
    let res = app
        .client
        .post(format!("{}{}", app.address, path))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let replayed = res.headers().get("idempotent-replayed").is_some();
    (status, res.json().await.unwrap(), replayed)
}

#[tokio::test]
async fn colleagues_sending_the_same_key_each_have_their_own_request_executed() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("idem-users")).await;
    let (ann, bob) = (
        app.user_token(&t, "STAFF").await,
        app.user_token(&t, "STAFF").await,
    );
    let v = app.variant_with_stock(&t.token, "IDEM-U-1", 10).await;
    let body = json!({"lines": [{"variantId": v, "quantity": 2}]});

    let (status, first, replayed) = post_keyed(&app, &ann, "/v1/orders", "shared-key", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert!(!replayed);

    // Bob, same tenant, same key, same body: his own order, not Ann's answer.
    let (status, second, replayed) =
        post_keyed(&app, &bob, "/v1/orders", "shared-key", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert!(!replayed, "not a replay of a colleague's answer: {second}");
    assert_ne!(first["id"], second["id"]);
    assert_ne!(first["placedBy"], second["placedBy"]);

    // Each one's retry still replays their own answer.
    for (token, answer) in [(&ann, &first), (&bob, &second)] {
        let (status, again, replayed) =
            post_keyed(&app, token, "/v1/orders", "shared-key", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        assert!(replayed);
        assert_eq!(&again, answer);
    }

    let (_, orders) = app.get("/v1/orders", &t.token).await;
    assert_eq!(
        orders["items"].as_array().unwrap().len(),
        2,
        "two orders, one each"
    );
    assert_eq!(app.states_of(&t.token, &v).await, (6, 10, 4));

    // A colleague's key with another body is that colleague's business, not a mismatch.
    let (status, body, replayed) = post_keyed(
        &app,
        &t.token,
        "/v1/products",
        "shared-key",
        &json!({"name": "Owner's own"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(!replayed);
}
