//! Locations and transfers are the tenant's own: another tenant's id in a path answers like a
//! missing one (404), and in a body or query it is refused naming the field (422), as a location
//! that does not exist would be. Every refusal of these routes is `application/problem+json`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, slug, spawn_app, TestApp};

/// Sends a request and asserts the answer is a problem document with `expected`, sent as
/// `application/problem+json`; returns its body.
async fn refused(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    expected: StatusCode,
) -> Value {
    let mut req = app
        .client
        .request(method.clone(), format!("{}{path}", app.address));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    assert_eq!(
        res.headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned()),
        Some("application/problem+json".to_owned()),
        "{method} {path}"
    );
    let body: Value = res.json().await.unwrap();
    assert_problem(status, &body, expected);
    body
}

fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn another_tenants_locations_and_transfers_are_404_in_paths_and_422_in_bodies() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let a = app.register(&slug("lt-a")).await;
    let b = app.register(&slug("lt-b")).await;
    let a_main = app.default_location(&a.token).await;
    let a_site = app.location(&a.token, "SITE", 10).await;
    let a_v = app.variant_with_stock(&a.token, "LTA-1", 10).await;
    let draft = app.transfer(&a.token, &a_main, &a_site, &[(&a_v, 2)]).await;
    let shipped = app.transfer(&a.token, &a_main, &a_site, &[(&a_v, 3)]).await;
    let (status, body) = app
        .post(format!("/v1/transfers/{shipped}/ship"), &a.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let a_locations = app.locations(&a.token).await;
    let (_, a_transfers) = app.get("/v1/transfers", &a.token).await;
    let a_variant = app.variant(&a.token, &a_v).await;

    let b_main = app.default_location(&b.token).await;
    let b_v = app.variant_with_stock(&b.token, "LTB-1", 5).await;
    let (_, b_supplier) = app
        .post("/v1/suppliers", &b.token, json!({"name": "S"}))
        .await;
    let (_, b_order) = app
        .post(
            "/v1/orders",
            &b.token,
            json!({"lines": [{"variantId": b_v, "quantity": 2}]}),
        )
        .await;
    let b_order = b_order["id"].as_str().unwrap().to_owned();
    app.post(format!("/v1/orders/{b_order}/fulfil"), &b.token, json!({}))
        .await;
    let bt = Some(b.token.as_str());
    let line = json!([{"variantId": b_v, "quantity": 1}]);

    // In a path: exactly like a missing id.
    let missing = refused(
        &app,
        Method::GET,
        &format!("/v1/locations/{}", uuid::Uuid::now_v7()),
        bt,
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    for (method, path, body) in [
        (Method::GET, format!("/v1/locations/{a_site}"), None),
        (
            Method::PATCH,
            format!("/v1/locations/{a_site}"),
            Some(json!({"name": "Mine now"})),
        ),
        (
            Method::PATCH,
            format!("/v1/locations/{a_site}"),
            Some(json!({"isDefault": true})),
        ),
        (Method::GET, format!("/v1/locations/{a_site}/levels"), None),
        (Method::GET, format!("/v1/transfers/{draft}"), None),
        (
            Method::PATCH,
            format!("/v1/transfers/{draft}"),
            Some(json!({"lines": line})),
        ),
        (
            Method::POST,
            format!("/v1/transfers/{draft}/ship"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/v1/transfers/{draft}/cancel"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/v1/transfers/{shipped}/receipts"),
            Some(json!({"lines": [{"variantId": a_v, "quantity": 1}]})),
        ),
    ] {
        let body = refused(&app, method, &path, bt, body, StatusCode::NOT_FOUND).await;
        assert_eq!(body["type"], missing["type"], "{path}: {body}");
    }

    // In a body: 422 naming the field.
    for (path, body, field) in [
        (
            "/v1/orders".to_owned(),
            json!({"locationId": a_site, "lines": line}),
            "locationId",
        ),
        (
            format!("/v1/variants/{b_v}/adjustments"),
            json!({"quantity": 1, "reason": "x", "locationId": a_main}),
            "locationId",
        ),
        (
            "/v1/transfers".to_owned(),
            json!({"fromLocationId": a_main, "toLocationId": b_main, "lines": line}),
            "fromLocationId",
        ),
        (
            "/v1/transfers".to_owned(),
            json!({"fromLocationId": b_main, "toLocationId": a_site, "lines": line}),
            "toLocationId",
        ),
        (
            "/v1/purchase-orders".to_owned(),
            json!({"supplierId": b_supplier["id"], "locationId": a_site,
                   "lines": [{"variantId": b_v, "quantity": 1, "unitCost": 1}]}),
            "locationId",
        ),
        (
            format!("/v1/orders/{b_order}/returns"),
            json!({"lines": line, "reason": "r", "locationId": a_site}),
            "locationId",
        ),
    ] {
        let answer = refused(
            &app,
            Method::POST,
            &path,
            bt,
            Some(body),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(fields(&answer), vec![field], "{path}: {answer}");
    }

    // In a report's query: 422 naming the field.
    for path in [
        format!("/v1/reports/low-stock?locationId={a_site}"),
        format!("/v1/reports/valuation?locationId={a_site}"),
        format!("/v1/variants/{b_v}/stock?locationId={a_site}"),
    ] {
        let answer = refused(
            &app,
            Method::GET,
            &path,
            bt,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(fields(&answer), vec!["locationId"], "{path}: {answer}");
    }
    // The ledger filtered by A's location shows B nothing of A's, whether it says so or not.
    let (status, body) = app
        .get(format!("/v1/movements?locationId={a_site}"), &b.token)
        .await;
    match status {
        StatusCode::OK => assert_eq!(body["items"], json!([]), "{body}"),
        _ => {
            assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(fields(&body), vec!["locationId"]);
        }
    }

    // B's lists hold only B's; A is untouched.
    let b_locations = app.locations(&b.token).await;
    assert_eq!(b_locations.len(), 1, "{b_locations:?}");
    assert_eq!(b_locations[0]["id"], b_main.as_str());
    let (_, b_transfers) = app.get("/v1/transfers", &b.token).await;
    assert_eq!(b_transfers["items"], json!([]));
    assert_eq!(app.locations(&a.token).await, a_locations);
    let (_, a_transfers_after) = app.get("/v1/transfers", &a.token).await;
    assert_eq!(a_transfers_after, a_transfers);
    assert_eq!(app.variant(&a.token, &a_v).await, a_variant);
    assert_eq!(app.stock_of(&b.token, &b_v).await, 3);
    assert_eq!(app.movements_of(&b.token, &b_v).await.len(), 2);
    let (_, b_orders) = app.get("/v1/orders", &b.token).await;
    assert_eq!(b_orders["items"].as_array().unwrap().len(), 1);
    let (_, b_pos) = app.get("/v1/purchase-orders", &b.token).await;
    assert_eq!(b_pos["items"], json!([]));
    app.assert_audit_clean(&a.token).await;
    app.assert_audit_clean(&b.token).await;
}

#[tokio::test]
async fn every_refusal_of_the_location_and_transfer_routes_is_problem_json() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("lt-err")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let main = app.default_location(&t.token).await;
    let site = app.location(&t.token, "SITE", 10).await;
    let v = app.variant_with_stock(&t.token, "LTE-1", 1).await;
    let draft = app.transfer(&t.token, &main, &site, &[(&v, 2)]).await;
    let owner = Some(t.token.as_str());

    // 401 without a token.
    for path in ["/v1/locations", "/v1/transfers"] {
        refused(
            &app,
            Method::GET,
            path,
            None,
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    // 403 for STAFF writing.
    refused(
        &app,
        Method::POST,
        "/v1/locations",
        Some(&staff),
        Some(json!({"name": "No", "code": "NO"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    refused(
        &app,
        Method::POST,
        &format!("/v1/transfers/{draft}/ship"),
        Some(&staff),
        Some(json!({})),
        StatusCode::FORBIDDEN,
    )
    .await;
    // 404, 409 (duplicate code, default deactivated, short shipment), 422.
    refused(
        &app,
        Method::GET,
        "/v1/transfers/not-an-id",
        owner,
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/v1/locations",
        owner,
        Some(json!({"name": "Again", "code": "SITE"})),
        StatusCode::CONFLICT,
    )
    .await;
    refused(
        &app,
        Method::PATCH,
        &format!("/v1/locations/{main}"),
        owner,
        Some(json!({"active": false})),
        StatusCode::CONFLICT,
    )
    .await;
    let short = refused(
        &app,
        Method::POST,
        &format!("/v1/transfers/{draft}/ship"),
        owner,
        Some(json!({})),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(short["type"], "/problems/insufficient-stock");
    refused(
        &app,
        Method::PATCH,
        &format!("/v1/locations/{site}"),
        owner,
        Some(json!({"isDefault": false})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/v1/transfers",
        owner,
        Some(json!({"fromLocationId": main, "toLocationId": main, "lines": []})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/v1/locations",
        owner,
        Some(json!({"name": "Typo", "code": "TYPO", "priorty": 1})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // 405 with Allow on the collection routes.
    for (path, allowed) in [("/v1/locations", "POST"), ("/v1/transfers", "POST")] {
        let res = app
            .client
            .put(format!("{}{path}", app.address))
            .bearer_auth(&t.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        let allow = res.headers()["allow"].to_str().unwrap().to_owned();
        assert!(allow.contains("GET") && allow.contains(allowed), "{allow}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    // Nothing refused was written.
    assert_eq!(app.locations(&t.token).await.len(), 2);
    let (_, transfers) = app.get("/v1/transfers", &t.token).await;
    assert_eq!(transfers["items"].as_array().unwrap().len(), 1);
    assert_eq!(transfers["items"][0]["status"], "DRAFT");
}
