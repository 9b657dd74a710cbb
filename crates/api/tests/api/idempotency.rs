//! `Idempotency-Key`: a retried request never writes twice.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, slug, spawn_app, TestApp};

async fn post_with_key(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: serde_json::Value,
) -> (StatusCode, String) {
    let res = app
        .client
        .post(format!("{}{}", app.address, path))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_retries_place_one_order_with_identical_answers() {
    let app = spawn_app().await;
    let t = app.register(&slug("idem")).await;
    let v = app.variant_with_stock(&t.token, "IDEM-1", 100).await;
    let body = json!({"lines": [{"variantId": v, "quantity": 2}]});
    let calls =
        (0..20).map(|_| post_with_key(&app, &t.token, "/v1/orders", "order-key-1", body.clone()));
    let results = join_all(calls).await;
    let first = &results[0];
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
    for r in &results {
        assert_eq!(r, first, "every retry answers the same");
    }
    let (_, orders) = app.get("/v1/orders", &t.token).await;
    assert_eq!(orders["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.stock_of(&t.token, &v).await, 98);
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn a_key_reused_with_another_body_is_422_and_keys_are_per_tenant() {
    let app = spawn_app().await;
    let a = app.register(&slug("ika")).await;
    let b = app.register(&slug("ikb")).await;
    let (s1, first) = post_with_key(
        &app,
        &a.token,
        "/v1/products",
        "k-1",
        json!({"name": "One"}),
    )
    .await;
    assert_eq!(s1, StatusCode::CREATED);
    let (s2, again) = post_with_key(
        &app,
        &a.token,
        "/v1/products",
        "k-1",
        json!({"name": "One"}),
    )
    .await;
    assert_eq!((s2, &again), (StatusCode::CREATED, &first));
    let (s3, other) = post_with_key(
        &app,
        &a.token,
        "/v1/products",
        "k-1",
        json!({"name": "Two"}),
    )
    .await;
    let other: serde_json::Value = serde_json::from_str(&other).unwrap();
    assert_problem(s3, &other, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, products) = app.get("/v1/products", &a.token).await;
    assert_eq!(products["items"].as_array().unwrap().len(), 1);

    // The same key in another tenant is another key.
    let (s4, theirs) = post_with_key(
        &app,
        &b.token,
        "/v1/products",
        "k-1",
        json!({"name": "One"}),
    )
    .await;
    assert_eq!(s4, StatusCode::CREATED);
    assert_ne!(theirs, first);

    // A failed write stores no key: after fixing the stock, the same key succeeds.
    let v = app.variant_with_stock(&a.token, "IK-1", 0).await;
    let adjust = format!("/v1/variants/{v}/adjustments");
    let (s5, _) = post_with_key(
        &app,
        &a.token,
        &adjust,
        "adj-1",
        json!({"quantity": -1, "reason": "x"}),
    )
    .await;
    assert_eq!(s5, StatusCode::CONFLICT);
    app.post(&adjust, &a.token, json!({"quantity": 5, "reason": "count"}))
        .await;
    let (s6, _) = post_with_key(
        &app,
        &a.token,
        &adjust,
        "adj-1",
        json!({"quantity": -1, "reason": "x"}),
    )
    .await;
    assert_eq!(s6, StatusCode::CREATED);
    let (s7, _) = post_with_key(
        &app,
        &a.token,
        &adjust,
        "adj-1",
        json!({"quantity": -1, "reason": "x"}),
    )
    .await;
    assert_eq!(s7, StatusCode::CREATED);
    assert_eq!(
        app.stock_of(&a.token, &v).await,
        4,
        "the replay did not adjust again"
    );

    let (s8, body) = post_with_key(
        &app,
        &a.token,
        "/v1/products",
        &"k".repeat(256),
        json!({"name": "x"}),
    )
    .await;
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_problem(s8, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key");
}
