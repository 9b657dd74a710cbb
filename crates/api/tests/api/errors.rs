//! Every error status is problem+json, and bad input never writes.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, slug, spawn_app};

#[tokio::test]
async fn error_statuses_are_problem_json() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("err")).await;
    let url = |p: &str| format!("{}{}", app.address, p);

    // 400: malformed JSON.
    let res = app
        .client
        .post(url("/v1/products"))
        .bearer_auth(&t.token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let status = res.status();
    assert_problem(status, &res.json().await.unwrap(), StatusCode::BAD_REQUEST);

    // 422: each bad field named.
    let (status, body) = app
        .post(
            "/v1/variants",
            &t.token,
            json!({"productId": "nope", "sku": "has space", "price": -1}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["productId", "sku", "price"]);
    let (status, body) = app.post("/v1/products", &t.token, json!({"name": 5})).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "name");
    let (status, body) = app
        .post("/v1/products", &t.token, json!({"nmae": "typo"}))
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = app.get("/v1/products?limit=1000", &t.token).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "limit");
    let (status, body) = app
        .get("/v1/movements?type=GIFT&from=yesterday", &t.token)
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);

    // 404: unknown route; malformed id.
    let (status, body) = app.get("/v1/nothing-here", &t.token).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app.get("/v1/products/not-an-id", &t.token).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);

    // 405: known path, wrong method, with Allow.
    let res = app
        .client
        .put(url("/v1/products"))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    let allow = res.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let status = res.status();
    assert_problem(
        status,
        &res.json().await.unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    );

    // The OpenAPI document and the Swagger UI are read-only too.
    for path in ["/openapi.json", "/docs/", "/docs/index.html"] {
        let res = app.client.post(url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(res.headers()["allow"], "GET, HEAD", "{path}");
    }
    let res = app
        .client
        .get(url("/docs/index.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the Swagger UI is served");

    // 413: body over 1 MiB.
    let big = json!({"name": "x".repeat(1024 * 1024 + 10)});
    let (status, body) = app.post("/v1/products", &t.token, big).await;
    assert_problem(status, &body, StatusCode::PAYLOAD_TOO_LARGE);

    // 415: not JSON.
    let res = app
        .client
        .post(url("/v1/products"))
        .bearer_auth(&t.token)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_problem(
        status,
        &res.json().await.unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    );

    // None of the refused requests wrote anything.
    let (_, products) = app.get("/v1/products", &t.token).await;
    assert_eq!(products["items"], json!([]));

    // Every response carries a request id; a sane one sent by the client is echoed.
    let res = app
        .client
        .get(url("/health"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc-123");
    let res = app.client.get(url("/v1/nothing")).send().await.unwrap();
    assert!(res.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn adjustments_refuse_negative_stock_and_stale_expectations() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("adj")).await;
    let v = app.variant_with_stock(&t.token, "ADJ-1", 3).await;
    let path = format!("/v1/variants/{v}/adjustments");

    let (status, body) = app
        .post(&path, &t.token, json!({"quantity": -4, "reason": "x"}))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, body) = app
        .post(
            &path,
            &t.token,
            json!({"quantity": 1, "reason": "x", "expectedStock": 2}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, body) = app
        .post(&path, &t.token, json!({"quantity": 0, "reason": "x"}))
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "quantity");
    assert_eq!(app.stock_of(&t.token, &v).await, 3);
    assert_eq!(app.movements_of(&t.token, &v).await.len(), 1);
}

#[tokio::test]
async fn health_ready_and_docs_are_served() {
    let Some(app) = spawn_app().await else {
        return;
    };
    for path in ["/health", "/ready", "/openapi.json", "/docs/"] {
        let res = app
            .client
            .get(format!("{}{}", app.address, path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}
