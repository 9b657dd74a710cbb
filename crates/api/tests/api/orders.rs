//! Order placement, fulfilment, cancellation and returns.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, slug, spawn_app, unclaimed};

#[tokio::test]
async fn placing_captures_prices_and_commits_units_that_fulfilment_sells() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("ord")).await;
    let a = app.variant_with_stock(&t.token, "ORD-A", 5).await;
    let b = app.variant_with_stock(&t.token, "ORD-B", 5).await;
    let (status, order) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": a, "quantity": 1}, {"variantId": b, "quantity": 2}, {"variantId": a, "quantity": 1}],
                   "customer": {"name": "Grace", "email": "grace@example.com"}, "note": "gift"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["status"], "PLACED");
    assert_eq!(
        order["lines"].as_array().unwrap().len(),
        2,
        "lines merged per variant"
    );
    assert_eq!(order["lines"][0]["quantity"], 2);
    assert_eq!(order["lines"][0]["unitPrice"], 1000);
    assert_eq!(order["total"], 4000);
    assert_eq!(order["customer"]["email"], "grace@example.com");
    let main = app.default_location(&t.token).await;
    assert!(
        order["locationId"].is_null(),
        "allocated, not asked of a location"
    );
    assert_eq!(
        order["lines"][0]["allocations"],
        json!([{"locationId": main, "quantity": 2, "returned": 0}])
    );
    assert_eq!(
        order["lines"][1]["allocations"],
        json!([{"locationId": main, "quantity": 2, "returned": 0}])
    );
    // Placed: the units are committed to the order, still on the shelf, and no longer
    // available; no movement is written until the order is fulfilled.
    assert_eq!(app.states_of(&t.token, &a).await, (3, 5, 2));
    assert_eq!(app.states_of(&t.token, &b).await, (3, 5, 2));
    let (_, read) = app.get(&format!("/v1/variants/{a}"), &t.token).await;
    assert_eq!(
        read["levels"],
        json!([unclaimed(
            json!({"locationId": main, "stock": 3, "onHand": 5, "committed": 2, "incoming": 0})
        )])
    );
    let sales = |movements: Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        movements
            .into_iter()
            .filter(|m| m["type"] == "SALE")
            .collect()
    };
    assert!(sales(app.movements_of(&t.token, &a).await).is_empty());
    app.assert_audit_clean(&t.token).await;

    // A later price change does not touch the placed order.
    app.patch(
        &format!("/v1/variants/{a}"),
        &t.token,
        json!({"price": 5000}),
    )
    .await;
    let (_, again) = app
        .get(
            &format!("/v1/orders/{}", order["id"].as_str().unwrap()),
            &t.token,
        )
        .await;
    assert_eq!(again["total"], 4000);

    // Fulfilled: one SALE per variant takes the committed units off the shelf.
    let id = order["id"].as_str().unwrap().to_owned();
    app.fulfil_all(&t.token, std::slice::from_ref(&id)).await;
    assert_eq!(app.states_of(&t.token, &a).await, (3, 3, 0));
    let sold = sales(app.movements_of(&t.token, &a).await);
    assert_eq!(sold.len(), 1);
    assert_eq!(sold[0]["quantity"], -2);
    assert_eq!(sold[0]["orderId"], id.as_str());
    assert_eq!(sold[0]["locationId"], main.as_str());
    assert_eq!(sales(app.movements_of(&t.token, &b).await).len(), 1);
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn short_stock_lists_every_short_line_and_writes_nothing() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("short")).await;
    let a = app.variant_with_stock(&t.token, "SH-A", 1).await;
    let b = app.variant_with_stock(&t.token, "SH-B", 0).await;
    let c = app.variant_with_stock(&t.token, "SH-C", 9).await;
    let (status, body) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": a, "quantity": 2}, {"variantId": b, "quantity": 1}, {"variantId": c, "quantity": 1}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let shortages = body["shortages"].as_array().unwrap();
    assert_eq!(shortages.len(), 2, "{body}");
    let short_a = shortages
        .iter()
        .find(|s| s["variantId"] == a.as_str())
        .unwrap();
    assert_eq!(
        (short_a["requested"].as_i64(), short_a["available"].as_i64()),
        (Some(2), Some(1))
    );
    assert!(
        short_a.get("locationId").is_none(),
        "an order naming no location is short over all of them: {short_a}"
    );
    assert_eq!(
        app.stock_of(&t.token, &c).await,
        9,
        "the good line was not applied"
    );
    let (_, orders) = app.get("/v1/orders", &t.token).await;
    assert_eq!(orders["items"], json!([]));

    let (status, body) = app
        .post("/v1/orders", &t.token, json!({"lines": [{"variantId": c, "quantity": 1}, {"variantId": uuid::Uuid::now_v7(), "quantity": 1}]}))
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "lines[1].variantId");
    let (status, body) = app.post("/v1/orders", &t.token, json!({"lines": []})).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn cancel_and_return_flows_restore_stock_and_refuse_illegal_moves() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("flow")).await;
    let v = app.variant_with_stock(&t.token, "FLOW-1", 10).await;
    let place = |q: i64| {
        app.post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": q}]}),
        )
    };

    // Cancel: the commitment is released; nothing left the shelf, so nothing moves.
    let (_, o1) = place(3).await;
    let o1 = o1["id"].as_str().unwrap().to_owned();
    assert_eq!(app.states_of(&t.token, &v).await, (7, 10, 3));
    let (status, cancelled) = app
        .post(&format!("/v1/orders/{o1}/cancel"), &t.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(app.states_of(&t.token, &v).await, (10, 10, 0));
    let moved = app.movements_of(&t.token, &v).await;
    assert_eq!(moved.len(), 1, "the initial count alone: {moved:?}");
    assert_eq!(moved[0]["type"], "ADJUSTMENT");
    for action in ["cancel", "fulfil"] {
        let (status, body) = app
            .post(&format!("/v1/orders/{o1}/{action}"), &t.token, json!({}))
            .await;
        assert_problem(status, &body, StatusCode::CONFLICT);
        assert!(
            body["detail"].as_str().unwrap().contains("CANCELLED"),
            "{body}"
        );
    }

    // Fulfil, then return in two parts.
    let (_, o2) = place(4).await;
    let o2 = o2["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .post(
            &format!("/v1/orders/{o2}/returns"),
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 1}], "reason": "early"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert!(
        body["detail"].as_str().unwrap().contains("PLACED"),
        "{body}"
    );
    let (status, fulfilled) = app
        .post(&format!("/v1/orders/{o2}/fulfil"), &t.token, json!({}))
        .await;
    assert_eq!(
        (status, fulfilled["status"].as_str()),
        (StatusCode::OK, Some("FULFILLED"))
    );
    let (status, body) = app
        .post(&format!("/v1/orders/{o2}/cancel"), &t.token, json!({}))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    let ret = |q: i64| {
        app.post(
            format!("/v1/orders/{o2}/returns"),
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": q}], "reason": "wrong size"}),
        )
    };
    let (status, body) = ret(5).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, partial) = ret(1).await;
    assert_eq!(status, StatusCode::CREATED, "{partial}");
    assert_eq!(partial["status"], "PARTIALLY_RETURNED");
    assert_eq!(partial["lines"][0]["returned"], 1);
    assert_eq!(partial["lines"][0]["allocations"][0]["returned"], 1);
    let (status, body) = ret(4).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, full) = ret(3).await;
    assert_eq!(status, StatusCode::CREATED, "{full}");
    assert_eq!(full["status"], "RETURNED");
    assert_eq!(app.stock_of(&t.token, &v).await, 10);

    let (_, listed) = app.get("/v1/orders?status=RETURNED", &t.token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    app.assert_audit_clean(&t.token).await;
}
