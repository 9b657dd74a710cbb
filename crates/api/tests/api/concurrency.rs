//! Races for real: many concurrent HTTP requests against the running app and its store.

use std::sync::Arc;

use domain::lock::NoopLock;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{slug, spawn_app, spawn_app_with_lock, TestApp};

/// Fires `n` concurrent single-unit orders for `variant`; returns the statuses.
async fn order_race(app: &TestApp, token: &str, variant: &str, n: usize) -> Vec<StatusCode> {
    let calls = (0..n).map(|_| {
        app.post(
            "/v1/orders",
            token,
            json!({"lines": [{"variantId": variant, "quantity": 1}]}),
        )
    });
    join_all(calls).await.into_iter().map(|(s, _)| s).collect()
}

fn count(statuses: &[StatusCode], wanted: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == wanted).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_decrements_on_twenty_units() {
    let app = spawn_app().await;
    let t = app.register(&slug("adj-race")).await;
    let v = app.variant_with_stock(&t.token, "RACE-1", 20).await;
    let calls = (0..50).map(|_| {
        app.post(
            format!("/v1/variants/{v}/adjustments"),
            &t.token,
            json!({"quantity": -1, "reason": "race"}),
        )
    });
    let statuses: Vec<StatusCode> = join_all(calls).await.into_iter().map(|(s, _)| s).collect();
    assert_eq!(count(&statuses, StatusCode::CREATED), 20, "{statuses:?}");
    assert_eq!(count(&statuses, StatusCode::CONFLICT), 30, "{statuses:?}");
    assert_eq!(app.stock_of(&t.token, &v).await, 0);
    app.assert_audit_clean(&t.token).await;
}

async fn last_items_race(app: &TestApp, rounds: usize) {
    let t = app.register(&slug("flash")).await;
    for round in 0..rounds {
        let v = app
            .variant_with_stock(&t.token, &format!("FLASH-{round}"), 50)
            .await;
        let statuses = order_race(app, &t.token, &v, 200).await;
        assert_eq!(
            count(&statuses, StatusCode::CREATED),
            50,
            "round {round}: {statuses:?}"
        );
        assert_eq!(
            count(&statuses, StatusCode::CONFLICT),
            150,
            "round {round}: {statuses:?}"
        );
        assert_eq!(app.stock_of(&t.token, &v).await, 0);
        let sales = app
            .movements_of(&t.token, &v)
            .await
            .into_iter()
            .filter(|m| m["type"] == "SALE")
            .count();
        assert_eq!(sales, 50, "round {round}");
        app.assert_audit_clean(&t.token).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_orders_for_fifty_units_five_times() {
    let app = spawn_app().await;
    last_items_race(&app, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_any_lock_the_store_alone_refuses_to_oversell() {
    let app = spawn_app_with_lock(Arc::new(NoopLock)).await;
    last_items_race(&app, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_line_orders_in_opposite_orders_never_deadlock_or_half_apply() {
    let app = spawn_app().await;
    let t = app.register(&slug("pair")).await;
    let a = app.variant_with_stock(&t.token, "PAIR-A", 60).await;
    let b = app.variant_with_stock(&t.token, "PAIR-B", 60).await;
    let calls = (0..100).map(|i| {
        let lines = if i % 2 == 0 {
            json!([{"variantId": a, "quantity": 1}, {"variantId": b, "quantity": 1}])
        } else {
            json!([{"variantId": b, "quantity": 1}, {"variantId": a, "quantity": 1}])
        };
        app.post("/v1/orders", &t.token, json!({"lines": lines}))
    });
    let results = tokio::time::timeout(std::time::Duration::from_secs(60), join_all(calls))
        .await
        .expect("no deadlock");
    let placed: Vec<String> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .map(|(_, body)| body["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(placed.len(), 60);
    assert!(results
        .iter()
        .all(|(s, _)| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT));
    assert_eq!(app.stock_of(&t.token, &a).await, 0);
    assert_eq!(app.stock_of(&t.token, &b).await, 0);
    let mut movements = app.movements_of(&t.token, &a).await;
    movements.extend(app.movements_of(&t.token, &b).await);
    for order in &placed {
        let of_order = movements
            .iter()
            .filter(|m| m["orderId"] == order.as_str())
            .count();
        assert_eq!(of_order, 2, "order {order} must have both movements");
    }
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_racing_receipts_and_adjustments_keep_the_ledger_exact() {
    let app = spawn_app().await;
    let t = app.register(&slug("mixed")).await;
    let a = app.variant_with_stock(&t.token, "MIX-A", 10).await;
    let b = app.variant_with_stock(&t.token, "MIX-B", 10).await;
    let (_, supplier) = app
        .post("/v1/suppliers", &t.token, json!({"name": "Supplier"}))
        .await;
    let (_, po) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": supplier["id"], "lines": [
                {"variantId": a, "quantity": 40, "unitCost": 100},
                {"variantId": b, "quantity": 40, "unitCost": 100}]}),
        )
        .await;
    let po = po["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/v1/purchase-orders/{po}/submit"),
        &t.token,
        json!({}),
    )
    .await;

    let (app, t) = (&app, &t);
    let mut tasks = Vec::new();
    for i in 0..120 {
        let (path, body) = match i % 4 {
            0 => (
                "/v1/orders".to_owned(),
                json!({"lines": [{"variantId": a, "quantity": 1}, {"variantId": b, "quantity": 2}]}),
            ),
            1 => (
                "/v1/orders".to_owned(),
                json!({"lines": [{"variantId": b, "quantity": 1}]}),
            ),
            2 => (
                format!("/v1/purchase-orders/{po}/receipts"),
                json!({"lines": [{"variantId": a, "quantity": 1}, {"variantId": b, "quantity": 1}]}),
            ),
            _ => (
                format!("/v1/variants/{a}/adjustments"),
                json!({"quantity": if i % 8 == 3 { -1 } else { 1 }, "reason": "recount"}),
            ),
        };
        tasks.push(async move { app.post(&path, &t.token, body).await });
    }
    let results = join_all(tasks).await;
    for (status, body) in &results {
        assert!(
            [StatusCode::CREATED, StatusCode::CONFLICT].contains(status),
            "unexpected {status}: {body}"
        );
    }
    app.assert_audit_clean(&t.token).await;
    assert!(app.stock_of(&t.token, &a).await >= 0);
    assert!(app.stock_of(&t.token, &b).await >= 0);
}

/// A lock service that is always busy.
struct AlwaysBusy;

#[async_trait::async_trait]
impl domain::lock::LockManager for AlwaysBusy {
    async fn acquire(
        &self,
        _keys: &[domain::lock::LockKey],
        _wait: std::time::Duration,
    ) -> Result<domain::lock::LockGuard, domain::lock::LockError> {
        Err(domain::lock::LockError::Timeout)
    }
}

#[tokio::test]
async fn a_lock_wait_that_runs_out_is_a_retryable_503_and_writes_nothing() {
    let app = spawn_app_with_lock(Arc::new(AlwaysBusy)).await;
    let t = app.register(&slug("busy")).await;
    let product = app.product(&t.token, "Busy").await;
    let (_, v) = app
        .post(
            "/v1/variants",
            &t.token,
            json!({"productId": product, "sku": "BUSY-1", "price": 1}),
        )
        .await;
    let res = app
        .client
        .post(format!(
            "{}/v1/variants/{}/adjustments",
            app.address,
            v["id"].as_str().unwrap()
        ))
        .bearer_auth(&t.token)
        .json(&json!({"quantity": 5, "reason": "count"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(app.stock_of(&t.token, v["id"].as_str().unwrap()).await, 0);
}
