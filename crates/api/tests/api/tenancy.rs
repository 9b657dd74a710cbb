//! Tenant isolation: another tenant's ids answer exactly like missing ones.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, slug, spawn_app};

#[tokio::test]
async fn tenant_b_cannot_see_or_touch_tenant_a() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let a = app.register(&slug("ta")).await;
    let b = app.register(&slug("tb")).await;
    let product = app.product(&a.token, "A's product").await;
    let variant = app.variant_with_stock(&a.token, "A-SKU", 5).await;

    let missing_product = format!("/v1/products/{}", uuid::Uuid::now_v7());
    let (_, missing_body) = app.get(&missing_product, &b.token).await;

    for path in [
        format!("/v1/products/{product}"),
        format!("/v1/variants/{variant}"),
    ] {
        let (status, body) = app.get(&path, &b.token).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
        assert_eq!(
            body["type"], missing_body["type"],
            "same body as a missing id"
        );
        let (status, body) = app
            .patch(&path, &b.token, json!({"name": "hijacked"}))
            .await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{status} {body}"
        );
        let (status, body) = app.delete(&path, &b.token).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
    }
    let (status, body) = app
        .patch(
            &format!("/v1/variants/{variant}"),
            &b.token,
            json!({"price": 1}),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(
            &format!("/v1/variants/{variant}/adjustments"),
            &b.token,
            json!({"quantity": -5, "reason": "theft"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(
            "/v1/orders",
            &b.token,
            json!({"lines": [{"variantId": variant, "quantity": 1}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "lines[0].variantId");

    for list in [
        "/v1/products",
        "/v1/variants",
        "/v1/movements",
        "/v1/orders",
        "/v1/suppliers",
        "/v1/purchase-orders",
        "/v1/transfers",
    ] {
        let (status, body) = app.get(list, &b.token).await;
        assert_eq!(status, StatusCode::OK, "{list}: {body}");
        assert_eq!(body["items"], json!([]), "{list} leaked A's rows: {body}");
    }
    let (_, locations) = app.get("/v1/locations", &b.token).await;
    assert_eq!(
        locations["items"].as_array().unwrap().len(),
        1,
        "only B's own default: {locations}"
    );
    let (_, audit) = app.get("/v1/stock/audit", &b.token).await;
    assert_eq!(audit["variantsChecked"], 0);

    // A is untouched.
    assert_eq!(app.stock_of(&a.token, &variant).await, 5);
    let (status, _) = app.get(&format!("/v1/products/{product}"), &a.token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn skus_are_unique_per_tenant_only() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let a = app.register(&slug("ua")).await;
    let b = app.register(&slug("ub")).await;
    app.variant_with_stock(&a.token, "SHARED-1", 0).await;
    app.variant_with_stock(&b.token, "SHARED-1", 0).await;

    let product = app.product(&a.token, "Another").await;
    let (status, body) = app
        .post(
            "/v1/variants",
            &a.token,
            json!({"productId": product, "sku": "SHARED-1", "price": 1}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    let (status, body) = app
        .call(
            reqwest::Method::POST,
            "/v1/auth/register",
            None,
            Some(json!({"tenantName": "Dup", "tenantSlug": a.slug, "email": "x@y.example", "password": "long enough", "name": "X"})),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
}
