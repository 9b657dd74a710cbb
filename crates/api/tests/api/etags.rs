//! `ETag` / `If-Match` over HTTP: a GET answers the resource's version, a PATCH or DELETE naming
//! a version that is no longer current is refused with 412 and writes nothing, and of two clients
//! editing the same version at once exactly one wins.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, slug, spawn_app, TestApp};

/// Sends `method path` with an optional `If-Match`; answers status, `ETag` and body.
pub(crate) async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    let mut req = app
        .client
        .request(method, format!("{}{}", app.address, path))
        .bearer_auth(token);
    if let Some(tag) = if_match {
        req = req.header("If-Match", tag);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = res.bytes().await.expect("body read");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, etag, value)
}

pub(crate) async fn etag_of(app: &TestApp, path: &str, token: &str) -> (String, Value) {
    let (status, etag, body) = send(app, Method::GET, path, token, None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let etag = etag.unwrap_or_else(|| panic!("GET {path} answered no ETag"));
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "a strong, quoted ETag: {etag}"
    );
    (etag, body)
}

pub(crate) fn assert_precondition_failed(status: StatusCode, body: &Value) {
    assert_problem(status, body, StatusCode::PRECONDITION_FAILED);
    assert_eq!(body["type"], "/problems/precondition-failed", "{body}");
}

#[tokio::test]
async fn a_product_edit_on_a_stale_etag_is_refused_and_writes_nothing() {
    let Some(app) = spawn_app().await else { return };
    let owner = app.register(&slug("etag-product")).await.token;
    let id = app.product(&owner, "Tee shirt").await;
    let path = format!("/v1/products/{id}");
    let (first, _) = etag_of(&app, &path, &owner).await;

    let (status, second, body) = send(
        &app,
        Method::PATCH,
        &path,
        &owner,
        Some(&first),
        Some(json!({"name": "Tee shirt v2"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = second.expect("PATCH answers the new ETag");
    assert_ne!(second, first);
    assert_eq!(etag_of(&app, &path, &owner).await.0, second);

    let (status, _, body) = send(
        &app,
        Method::PATCH,
        &path,
        &owner,
        Some(&first),
        Some(json!({"name": "Lost update"})),
    )
    .await;
    assert_precondition_failed(status, &body);
    let (now, stored) = etag_of(&app, &path, &owner).await;
    assert_eq!(
        (now.as_str(), &stored["name"]),
        (second.as_str(), &json!("Tee shirt v2"))
    );

    // Several tags: one current is enough; `*` matches whatever is current.
    let list = format!("\"1\", {second}");
    let (status, third, body) = send(
        &app,
        Method::PATCH,
        &path,
        &owner,
        Some(&list),
        Some(json!({"description": "cotton"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(
        &app,
        Method::PATCH,
        &path,
        &owner,
        Some("*"),
        Some(json!({"name": "Tee shirt v4"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Without If-Match an edit still applies to the current version.
    let (status, last, body) = send(
        &app,
        Method::PATCH,
        &path,
        &owner,
        None,
        Some(json!({"name": "Tee shirt v5"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, _, body) = send(&app, Method::DELETE, &path, &owner, third.as_deref(), None).await;
    assert_precondition_failed(status, &body);
    let (_, stored) = etag_of(&app, &path, &owner).await;
    assert_eq!(stored["name"], "Tee shirt v5");
    let (status, _, body) = send(&app, Method::DELETE, &path, &owner, last.as_deref(), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app.get(&path, &owner).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_if_match_that_is_not_an_entity_tag_is_refused_naming_the_header() {
    let Some(app) = spawn_app().await else { return };
    let owner = app.register(&slug("etag-bad")).await.token;
    let id = app.product(&owner, "Mug").await;
    let path = format!("/v1/products/{id}");
    let (status, _, body) = send(
        &app,
        Method::PATCH,
        &path,
        &owner,
        Some("12345"),
        Some(json!({"name": "Unquoted"})),
    )
    .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "If-Match", "{body}");
    let (_, stored) = etag_of(&app, &path, &owner).await;
    assert_eq!(stored["name"], "Mug");
}

#[tokio::test]
async fn a_variants_etag_covers_its_catalog_fields_not_its_stock() {
    let Some(app) = spawn_app().await else { return };
    let owner = app.register(&slug("etag-variant")).await.token;
    let variant = app.variant_with_stock(&owner, &slug("SKU"), 0).await;
    let path = format!("/v1/variants/{variant}");
    let (before, _) = etag_of(&app, &path, &owner).await;
    app.adjust(&owner, &variant, None, 5).await;
    let (after, stocked) = etag_of(&app, &path, &owner).await;
    assert_eq!(stocked["stock"], 5, "{stocked}");
    assert_eq!(after, before, "a stock change moved the catalog ETag");

    let (status, priced, body) = send(
        &app,
        Method::PATCH,
        &path,
        &owner,
        Some(&before),
        Some(json!({"price": 2500})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let priced = priced.expect("PATCH answers the new ETag");
    assert_ne!(priced, before);

    let (status, _, body) = send(
        &app,
        Method::PATCH,
        &path,
        &owner,
        Some(&before),
        Some(json!({"price": 1})),
    )
    .await;
    assert_precondition_failed(status, &body);
    let (_, stored) = etag_of(&app, &path, &owner).await;
    assert_eq!(
        (&stored["price"], &stored["stock"]),
        (&json!(2500), &json!(5))
    );

    // A variant without stock, deleted on a stale tag, stays.
    let empty = app.variant_with_stock(&owner, &slug("SKU"), 0).await;
    let empty_path = format!("/v1/variants/{empty}");
    let (tag, _) = etag_of(&app, &empty_path, &owner).await;
    let (status, _, body) = send(
        &app,
        Method::PATCH,
        &empty_path,
        &owner,
        Some(&tag),
        Some(json!({"reorderLevel": 9})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(&app, Method::DELETE, &empty_path, &owner, Some(&tag), None).await;
    assert_precondition_failed(status, &body);
    let (status, body) = app.get(&empty_path, &owner).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn of_two_clients_editing_the_same_version_exactly_one_wins_each_round() {
    let Some(app) = spawn_app().await else { return };
    let owner = app.register(&slug("etag-race")).await.token;
    let id = app.product(&owner, "Raced").await;
    let path = format!("/v1/products/{id}");
    for round in 0..20 {
        let (tag, _) = etag_of(&app, &path, &owner).await;
        let (a, b) = tokio::join!(
            send(
                &app,
                Method::PATCH,
                &path,
                &owner,
                Some(&tag),
                Some(json!({"name": format!("round {round} A")})),
            ),
            send(
                &app,
                Method::PATCH,
                &path,
                &owner,
                Some(&tag),
                Some(json!({"name": format!("round {round} B")})),
            ),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::PRECONDITION_FAILED],
            "round {round}: {} / {}",
            a.2,
            b.2
        );
        let winner = if a.0 == StatusCode::OK { &a } else { &b };
        let (now, stored) = etag_of(&app, &path, &owner).await;
        assert_eq!(Some(&now), winner.1.as_ref(), "round {round}");
        assert_eq!(stored["name"], winner.2["name"], "round {round}");
    }
}

#[tokio::test]
async fn suppliers_and_locations_refuse_edits_on_a_stale_etag() {
    let Some(app) = spawn_app().await else { return };
    let owner = app.register(&slug("etag-supplier")).await.token;
    let (status, body) = app
        .post("/v1/suppliers", &owner, json!({"name": "Acme"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = format!("/v1/suppliers/{}", body["id"].as_str().unwrap());
    let (old, _) = etag_of(&app, &path, &owner).await;
    let edit = Some(json!({"name": "Acme Ltd"}));
    let (status, new, body) = send(&app, Method::PATCH, &path, &owner, Some(&old), edit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lost = Some(json!({"name": "Lost"}));
    let (status, _, body) = send(&app, Method::PATCH, &path, &owner, Some(&old), lost).await;
    assert_precondition_failed(status, &body);
    let (status, _, body) = send(&app, Method::DELETE, &path, &owner, Some(&old), None).await;
    assert_precondition_failed(status, &body);
    let (now, stored) = etag_of(&app, &path, &owner).await;
    assert_eq!(
        (Some(now), &stored["name"]),
        (new.clone(), &json!("Acme Ltd"))
    );
    let (status, _, body) = send(&app, Method::DELETE, &path, &owner, new.as_deref(), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let location = app.location(&owner, "ANNEX", 5).await;
    let path = format!("/v1/locations/{location}");
    let (old, _) = etag_of(&app, &path, &owner).await;
    let edit = Some(json!({"priority": 3}));
    let (status, new, body) = send(&app, Method::PATCH, &path, &owner, Some(&old), edit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lost = Some(json!({"priority": 9}));
    let (status, _, body) = send(&app, Method::PATCH, &path, &owner, Some(&old), lost).await;
    assert_precondition_failed(status, &body);
    let (now, stored) = etag_of(&app, &path, &owner).await;
    assert_eq!((Some(now), &stored["priority"]), (new, &json!(3)));
}

#[tokio::test]
async fn purchase_orders_and_transfers_refuse_edits_on_a_stale_etag() {
    let Some(app) = spawn_app().await else { return };
    let owner = app.register(&slug("etag-po")).await.token;
    let variant = app.variant_with_stock(&owner, &slug("SKU"), 4).await;
    let (_, supplier) = app
        .post("/v1/suppliers", &owner, json!({"name": "S"}))
        .await;
    let (status, po) = app
        .post(
            "/v1/purchase-orders",
            &owner,
            json!({"supplierId": supplier["id"], "lines": [
                {"variantId": variant, "quantity": 10, "unitCost": 100}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{po}");
    let path = format!("/v1/purchase-orders/{}", po["id"].as_str().unwrap());
    let (old, _) = etag_of(&app, &path, &owner).await;
    let edit = |quantity: i64| {
        Some(json!({"lines": [{"variantId": variant, "quantity": quantity, "unitCost": 100}]}))
    };
    let (status, new, body) = send(&app, Method::PATCH, &path, &owner, Some(&old), edit(12)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(new.as_ref(), Some(&old));
    let (status, _, body) = send(&app, Method::PATCH, &path, &owner, Some(&old), edit(99)).await;
    assert_precondition_failed(status, &body);
    let (now, stored) = etag_of(&app, &path, &owner).await;
    assert_eq!(Some(now), new);
    assert_eq!(stored["lines"][0]["quantity"], 12, "{stored}");

    let from = app.default_location(&owner).await;
    let to = app.location(&owner, "ANNEX", 5).await;
    let transfer = app.transfer(&owner, &from, &to, &[(&variant, 1)]).await;
    let path = format!("/v1/transfers/{transfer}");
    let (old, _) = etag_of(&app, &path, &owner).await;
    let edit =
        |quantity: i64| Some(json!({"lines": [{"variantId": variant, "quantity": quantity}]}));
    let (status, new, body) = send(&app, Method::PATCH, &path, &owner, Some(&old), edit(2)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(&app, Method::PATCH, &path, &owner, Some(&old), edit(3)).await;
    assert_precondition_failed(status, &body);
    let (now, stored) = etag_of(&app, &path, &owner).await;
    assert_eq!(Some(now), new);
    assert_eq!(stored["lines"][0]["quantity"], 2, "{stored}");
}
