//! Suppliers and the purchase-order flow.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, slug, spawn_app, TestApp};

async fn incoming(app: &TestApp, token: &str, v: &str) -> i64 {
    let (_, body) = app.get(&format!("/v1/variants/{v}"), token).await;
    body["incoming"].as_i64().unwrap()
}

#[tokio::test]
async fn draft_submit_two_partial_receipts_received() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("po")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let a = app.variant_with_stock(&t.token, "PO-A", 0).await;
    let b = app.variant_with_stock(&t.token, "PO-B", 0).await;
    let (status, supplier) = app
        .post(
            "/v1/suppliers",
            &t.token,
            json!({"name": "Mill", "email": "mill@example.com", "leadTimeDays": 7}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{supplier}");
    let sid = supplier["id"].as_str().unwrap();

    let (status, po) = app
        .post("/v1/purchase-orders", &t.token, json!({"supplierId": sid, "lines": [
            {"variantId": a, "quantity": 10, "unitCost": 300}, {"variantId": b, "quantity": 5, "unitCost": 500}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{po}");
    assert_eq!(po["status"], "DRAFT");
    let main = app.default_location(&t.token).await;
    assert_eq!(
        po["locationId"],
        main.as_str(),
        "bound for the default location"
    );
    let id = po["id"].as_str().unwrap().to_owned();
    assert_eq!(
        incoming(&app, &t.token, &a).await,
        0,
        "drafts are not incoming"
    );

    let (status, patched) = app
        .patch(&format!("/v1/purchase-orders/{id}"), &t.token, json!({"lines": [
            {"variantId": a, "quantity": 12, "unitCost": 300}, {"variantId": b, "quantity": 5, "unitCost": 500}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");

    let (status, body) = app
        .post(
            &format!("/v1/purchase-orders/{id}/receipts"),
            &t.token,
            json!({"lines": [{"variantId": a, "quantity": 1}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    let (status, submitted) = app
        .post(
            &format!("/v1/purchase-orders/{id}/submit"),
            &t.token,
            json!({}),
        )
        .await;
    assert_eq!(
        (status, submitted["status"].as_str()),
        (StatusCode::OK, Some("ORDERED"))
    );
    assert_eq!(incoming(&app, &t.token, &a).await, 12);
    let (status, body) = app
        .patch(
            &format!("/v1/purchase-orders/{id}"),
            &t.token,
            json!({"expectedAt": null}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    // Supplier with an open PO cannot be deleted.
    let (status, body) = app.delete(&format!("/v1/suppliers/{sid}"), &t.token).await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    // Over-receipt: 409 and nothing written.
    let receive = |lines: Value, token: String| {
        let path = format!("/v1/purchase-orders/{id}/receipts");
        let app = &app;
        async move { app.post(&path, &token, json!({"lines": lines})).await }
    };
    let (status, body) = receive(
        json!([{"variantId": a, "quantity": 1}, {"variantId": b, "quantity": 6}]),
        staff.clone(),
    )
    .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(app.stock_of(&t.token, &a).await, 0);

    let (status, first) = receive(json!([{"variantId": a, "quantity": 4}]), staff.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["status"], "PARTIALLY_RECEIVED");
    assert_eq!(first["lines"][0]["received"], 4);
    assert_eq!(incoming(&app, &t.token, &a).await, 8);
    assert_eq!(app.stock_of(&t.token, &a).await, 4);

    let (status, second) = receive(
        json!([{"variantId": a, "quantity": 8}, {"variantId": b, "quantity": 5}]),
        staff.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(second["status"], "RECEIVED");
    assert_eq!(incoming(&app, &t.token, &a).await, 0);
    assert_eq!(incoming(&app, &t.token, &b).await, 0);
    assert_eq!(app.stock_of(&t.token, &b).await, 5);

    let purchases = app.movements_of(&t.token, &a).await;
    assert!(purchases
        .iter()
        .all(|m| m["type"] == "PURCHASE" && m["purchaseOrderId"] == id.as_str()));
    assert_eq!(purchases[0]["unitCost"], 300);
    assert!(purchases.iter().all(|m| m["locationId"] == main.as_str()));

    let (status, body) = app
        .post(
            &format!("/v1/purchase-orders/{id}/cancel"),
            &t.token,
            json!({}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, _) = app.delete(&format!("/v1/suppliers/{sid}"), &t.token).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn cancelling_before_receipt_cancels_and_after_a_partial_receipt_closes() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("poc")).await;
    let v = app.variant_with_stock(&t.token, "POC-1", 0).await;
    let (_, supplier) = app
        .post("/v1/suppliers", &t.token, json!({"name": "S"}))
        .await;
    let new_po = || {
        app.post("/v1/purchase-orders", &t.token, json!({"supplierId": supplier["id"], "lines": [{"variantId": v, "quantity": 10, "unitCost": 1}]}))
    };

    let (_, p1) = new_po().await;
    let p1 = p1["id"].as_str().unwrap();
    let (status, c) = app
        .post(
            &format!("/v1/purchase-orders/{p1}/cancel"),
            &t.token,
            json!({}),
        )
        .await;
    assert_eq!(
        (status, c["status"].as_str()),
        (StatusCode::OK, Some("CANCELLED"))
    );

    let (_, p2) = new_po().await;
    let p2 = p2["id"].as_str().unwrap();
    app.post(
        &format!("/v1/purchase-orders/{p2}/submit"),
        &t.token,
        json!({}),
    )
    .await;
    app.post(
        &format!("/v1/purchase-orders/{p2}/receipts"),
        &t.token,
        json!({"lines": [{"variantId": v, "quantity": 3}]}),
    )
    .await;
    assert_eq!(incoming(&app, &t.token, &v).await, 7);
    let (status, c) = app
        .post(
            &format!("/v1/purchase-orders/{p2}/cancel"),
            &t.token,
            json!({}),
        )
        .await;
    assert_eq!(
        (status, c["status"].as_str()),
        (StatusCode::OK, Some("CLOSED"))
    );
    assert_eq!(incoming(&app, &t.token, &v).await, 0);
    assert_eq!(app.stock_of(&t.token, &v).await, 3);

    let (_, listed) = app.get("/v1/purchase-orders?status=CLOSED", &t.token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let (status, body) = app
        .post("/v1/purchase-orders", &t.token, json!({"supplierId": uuid::Uuid::now_v7(), "lines": [{"variantId": v, "quantity": 1, "unitCost": 1}]}))
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "supplierId");
}
