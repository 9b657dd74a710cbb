//! The role matrix over HTTP: a forbidden call is 403 and writes nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, slug, spawn_app};

#[tokio::test]
async fn staff_and_managers_get_403_where_the_matrix_says_so() {
    let app = spawn_app().await;
    let t = app.register(&slug("roles")).await;
    let manager = app.user_token(&t, "MANAGER").await;
    let staff = app.user_token(&t, "STAFF").await;
    let variant = app.variant_with_stock(&t.token, "R-1", 5).await;
    let product = app.product(&t.token, "P").await;

    let forbidden_for_staff = [
        (
            Method::POST,
            "/v1/products".to_owned(),
            Some(json!({"name": "x"})),
        ),
        (
            Method::PATCH,
            format!("/v1/products/{product}"),
            Some(json!({"name": "x"})),
        ),
        (Method::DELETE, format!("/v1/products/{product}"), None),
        (
            Method::POST,
            "/v1/variants".to_owned(),
            Some(json!({"productId": product, "sku": "S-X", "price": 1})),
        ),
        (
            Method::PATCH,
            format!("/v1/variants/{variant}"),
            Some(json!({"price": 1})),
        ),
        (
            Method::POST,
            format!("/v1/variants/{variant}/adjustments"),
            Some(json!({"quantity": -1, "reason": "x"})),
        ),
        (
            Method::POST,
            "/v1/suppliers".to_owned(),
            Some(json!({"name": "S"})),
        ),
        (Method::GET, "/v1/users".to_owned(), None),
        (
            Method::POST,
            "/v1/users".to_owned(),
            Some(
                json!({"email": "a@b.example", "name": "A", "password": "long enough", "role": "STAFF"}),
            ),
        ),
    ];
    for (method, path, body) in forbidden_for_staff {
        let (status, problem) = app.call(method.clone(), &path, Some(&staff), body).await;
        assert_problem(status, &problem, StatusCode::FORBIDDEN);
    }
    for (method, path, body) in [
        (Method::GET, "/v1/users".to_owned(), None),
        (
            Method::POST,
            "/v1/users".to_owned(),
            Some(
                json!({"email": "m@b.example", "name": "M", "password": "long enough", "role": "OWNER"}),
            ),
        ),
        (
            Method::PATCH,
            format!("/v1/users/{}", t.owner_id),
            Some(json!({"active": false})),
        ),
    ] {
        let (status, problem) = app.call(method, &path, Some(&manager), body).await;
        assert_problem(status, &problem, StatusCode::FORBIDDEN);
    }

    // Nothing was written by the refused calls.
    assert_eq!(app.stock_of(&t.token, &variant).await, 5);
    let (_, users) = app.get("/v1/users", &t.token).await;
    assert_eq!(users["items"].as_array().unwrap().len(), 3);

    // What staff may do: read the catalog and the ledger, place and cancel orders.
    for path in [
        "/v1/products",
        "/v1/variants",
        "/v1/movements",
        "/v1/stock/audit",
        "/v1/orders",
        "/v1/me",
    ] {
        let (status, body) = app.get(path, &staff).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let (status, order) = app
        .post(
            "/v1/orders",
            &staff,
            json!({"lines": [{"variantId": variant, "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let id = order["id"].as_str().unwrap();
    let (status, body) = app
        .post(&format!("/v1/orders/{id}/fulfil"), &staff, json!({}))
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(&format!("/v1/orders/{id}/cancel"), &staff, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Managers run the catalog and stock.
    let (status, body) = app
        .post(
            &format!("/v1/variants/{variant}/adjustments"),
            &manager,
            json!({"quantity": 1, "reason": "found"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_deactivated_user_is_locked_out_at_once_and_a_role_change_applies_at_once() {
    let app = spawn_app().await;
    let t = app.register(&slug("deact")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let (_, me) = app.get("/v1/me", &staff).await;
    let staff_id = me["user"]["id"].as_str().unwrap().to_owned();

    let (status, body) = app
        .patch(
            &format!("/v1/users/{staff_id}"),
            &t.token,
            json!({"role": "MANAGER"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .post("/v1/products", &staff, json!({"name": "now allowed"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    app.patch(
        &format!("/v1/users/{staff_id}"),
        &t.token,
        json!({"active": false}),
    )
    .await;
    let (status, body) = app.get("/v1/me", &staff).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);

    // An owner cannot lock the tenant out by demoting themselves.
    let (status, body) = app
        .patch(
            &format!("/v1/users/{}", t.owner_id),
            &t.token,
            json!({"role": "STAFF"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
}
