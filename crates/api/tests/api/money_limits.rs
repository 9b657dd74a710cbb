//! Money limits: a quantity × price or cost past the largest amount of money is refused with 422
//! naming the field, before anything is written, and the valuation of a tenant holding the
//! largest allowed values still answers exactly.

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, slug, spawn_app, Tenant, TestApp};

/// Largest price or cost in minor units (`domain::values::MAX_MONEY`).
const MAX_MONEY: i64 = 10_000_000_000_000;

/// A variant priced at `price`, with `stock` units counted in.
async fn priced(app: &TestApp, token: &str, sku: &str, price: i64, stock: i64) -> String {
    let product = app.product(token, &format!("Product {sku}")).await;
    let (status, body) = app
        .post(
            "/v1/variants",
            token,
            json!({"productId": product, "sku": sku, "price": price}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    if stock > 0 {
        app.adjust(token, &id, None, stock).await;
    }
    id
}

async fn supplier(app: &TestApp, token: &str) -> String {
    let (status, body) = app
        .post("/v1/suppliers", token, json!({"name": "Mint"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// The fields a validation problem names.
fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no field errors: {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

async fn count(app: &TestApp, t: &Tenant, path: &str) -> usize {
    let (status, body) = app.get(path, &t.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn an_order_past_the_largest_total_is_refused_naming_the_line_and_writes_nothing() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("money-order")).await;
    let dear = priced(&app, &t.token, "M-DEAR", MAX_MONEY, 5).await;
    let cheap = priced(&app, &t.token, "M-CHEAP", 1, 5).await;

    // 10^13 × 2 is a line total above the maximum.
    let (status, body) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": cheap, "quantity": 1}, {"variantId": dear, "quantity": 2}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["lines[1].quantity"]);

    // Each line is within the limit, their sum is not.
    let (status, body) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": dear, "quantity": 1}, {"variantId": cheap, "quantity": 1}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["total"]);

    assert_eq!(count(&app, &t, "/v1/orders").await, 0, "no order written");
    for v in [&dear, &cheap] {
        assert_eq!(
            app.states_of(&t.token, v).await,
            (5, 5, 0),
            "stock unchanged"
        );
        assert!(
            app.movements_of(&t.token, v).await.len() == 1,
            "only the count"
        );
    }

    // The largest total itself is an order that can be read, listed and fulfilled.
    let (status, order) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": dear, "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["total"].as_i64(), Some(MAX_MONEY));
    let id = order["id"].as_str().unwrap();
    let (status, _) = app.get(format!("/v1/orders/{id}"), &t.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&app, &t, "/v1/orders").await, 1);
    app.fulfil_all(&t.token, &[id.to_owned()]).await;
}

#[tokio::test]
async fn confirming_a_hold_past_the_largest_total_is_refused_and_keeps_the_hold() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("money-hold")).await;
    let dear = priced(&app, &t.token, "M-HOLD", MAX_MONEY, 5).await;
    let (status, hold) = app
        .post(
            "/v1/reservations",
            &t.token,
            json!({"lines": [{"variantId": dear, "quantity": 2}], "ttlSeconds": 600}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    let id = hold["id"].as_str().unwrap();

    let (status, body) = app
        .post(
            format!("/v1/reservations/{id}/confirm"),
            &t.token,
            json!({}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["lines[0].quantity"]);

    assert_eq!(count(&app, &t, "/v1/orders").await, 0, "no order written");
    let (_, hold) = app.get(format!("/v1/reservations/{id}"), &t.token).await;
    assert_eq!(hold["status"], "ACTIVE", "{hold}");
    let (_, variant) = app.get(format!("/v1/variants/{dear}"), &t.token).await;
    assert_eq!(variant["onHand"], 5, "{variant}");
    assert_eq!(variant["committed"], 0, "{variant}");
    assert_eq!(variant["reserved"], 2, "{variant}");
}

#[tokio::test]
async fn a_purchase_order_past_the_largest_total_is_refused_on_create_and_edit() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("money-po")).await;
    let a = priced(&app, &t.token, "M-PO-A", 100, 0).await;
    let b = priced(&app, &t.token, "M-PO-B", 100, 0).await;
    let sid = supplier(&app, &t.token).await;

    // 10^9 × 10^13 is far past i64: stored, it broke valuation and reorder for good.
    let (status, body) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": sid, "lines": [
                {"variantId": a, "quantity": 1, "unitCost": 1},
                {"variantId": b, "quantity": 1_000_000_000, "unitCost": MAX_MONEY}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["lines[1].quantity"]);

    let (status, body) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": sid, "lines": [
                {"variantId": a, "quantity": 1, "unitCost": MAX_MONEY},
                {"variantId": b, "quantity": 1, "unitCost": 1}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["total"]);
    assert_eq!(count(&app, &t, "/v1/purchase-orders").await, 0);

    let (status, po) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": sid, "lines": [{"variantId": a, "quantity": 2, "unitCost": 5}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{po}");
    let id = po["id"].as_str().unwrap();
    let (status, body) = app
        .patch(
            format!("/v1/purchase-orders/{id}"),
            &t.token,
            json!({"lines": [{"variantId": a, "quantity": 3, "unitCost": MAX_MONEY}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["lines[0].quantity"]);
    let (_, kept) = app.get(format!("/v1/purchase-orders/{id}"), &t.token).await;
    assert_eq!(kept["lines"][0]["quantity"], 2, "{kept}");
    assert_eq!(kept["lines"][0]["unitCost"], 5, "{kept}");
}

#[derive(Deserialize)]
struct ValuationLine {
    sku: String,
    value: i128,
}

#[derive(Deserialize)]
struct Valuation {
    items: Vec<ValuationLine>,
    total: i128,
}

#[tokio::test]
async fn the_valuation_of_a_tenant_at_the_largest_values_is_exact() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("money-value")).await;
    let sid = supplier(&app, &t.token).await;
    let skus = ["M-VAL-A", "M-VAL-B", "M-VAL-C"];
    let mut variants = Vec::new();
    for sku in skus {
        variants.push(priced(&app, &t.token, sku, MAX_MONEY, 0).await);
    }
    // One unit of each received at the largest cost, then the largest counts on top: each
    // variant is worth about 10^22 minor units, their sum far past i64.
    for v in &variants {
        let (status, po) = app
            .post(
                "/v1/purchase-orders",
                &t.token,
                json!({"supplierId": sid, "lines": [{"variantId": v, "quantity": 1, "unitCost": MAX_MONEY}]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{po}");
        let id = po["id"].as_str().unwrap();
        let (status, body) = app
            .post(
                format!("/v1/purchase-orders/{id}/submit"),
                &t.token,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app
            .post(
                format!("/v1/purchase-orders/{id}/receipts"),
                &t.token,
                json!({"lines": [{"variantId": v, "quantity": 1}]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        for _ in 0..2 {
            app.adjust(&t.token, v, None, 1_000_000_000).await;
        }
    }

    let res = app
        .client
        .get(format!("{}/v1/reports/valuation", app.address))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    let valuation: Valuation = serde_json::from_str(&text).expect("exact integers");
    let each = 2_000_000_001_i128 * MAX_MONEY as i128;
    assert_eq!(valuation.items.len(), 3, "{text}");
    for line in &valuation.items {
        assert_eq!(line.value, each, "{}", line.sku);
    }
    assert_eq!(valuation.total, 3 * each, "{text}");

    let (status, body) = app.get("/v1/reports/low-stock", &t.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
