//! Orders and locations: an order naming a location is served from it alone; one naming none is
//! allocated across the active locations, the default first, then by priority, splitting a line
//! when it must. Cancelling puts every unit back where it came from; a return goes back there
//! too, or to the location it names.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, level_in, slug, spawn_app, TestApp};

/// The order's first line's allocations as (location, quantity, returned).
fn allocations(order: &Value) -> Vec<(String, i64, i64)> {
    order["lines"][0]["allocations"]
        .as_array()
        .unwrap_or_else(|| panic!("a line lists its allocations: {order}"))
        .iter()
        .map(|a| {
            (
                a["locationId"].as_str().unwrap().to_owned(),
                a["quantity"].as_i64().unwrap(),
                a["returned"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The units available at each of `locations`, in that order.
async fn levels(app: &TestApp, token: &str, v: &str, locations: &[&String]) -> Vec<i64> {
    let variant = app.variant(token, v).await;
    locations.iter().map(|l| level_in(&variant, l)).collect()
}

/// The units committed to placed orders at each of `locations`, in that order.
async fn committed_at(app: &TestApp, token: &str, v: &str, locations: &[&String]) -> Vec<i64> {
    let variant = app.variant(token, v).await;
    let levels = variant["levels"].as_array().unwrap();
    locations
        .iter()
        .map(|l| {
            levels
                .iter()
                .find(|level| level["locationId"] == l.as_str())
                .map_or(0, |level| level["committed"].as_i64().unwrap())
        })
        .collect()
}

fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_order_naming_a_location_is_served_from_it_alone() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("ol-at")).await;
    let main = app.default_location(&t.token).await;
    let shop = app.location(&t.token, "SHOP", 10).await;
    let v = app.variant_with_stock(&t.token, "OLA-1", 2).await;
    app.adjust(&t.token, &v, Some(&shop), 10).await;

    let (status, order) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"locationId": shop, "lines": [{"variantId": v, "quantity": 3}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["locationId"], shop.as_str());
    assert_eq!(allocations(&order), vec![(shop.clone(), 3, 0)]);
    assert_eq!(
        levels(&app, &t.token, &v, &[&main, &shop]).await,
        vec![2, 7]
    );
    assert_eq!(
        committed_at(&app, &t.token, &v, &[&main, &shop]).await,
        vec![0, 3]
    );
    let id = order["id"].as_str().unwrap().to_owned();
    app.fulfil_all(&t.token, std::slice::from_ref(&id)).await;
    let sale = app
        .movements_where(&t.token, &format!("variantId={v}&type=SALE"))
        .await;
    assert_eq!(
        (&sale[0]["locationId"], &sale[0]["stockAfter"]),
        (&json!(shop), &json!(7)),
        "the movement's stock after is the level's on hand"
    );

    // Short at the named location: 409 naming it, even though the tenant holds enough.
    let (status, body) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"locationId": main, "lines": [{"variantId": v, "quantity": 3}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["type"], "/problems/insufficient-stock");
    assert_eq!(
        body["shortages"],
        json!([{"variantId": v, "locationId": main, "requested": 3, "available": 2}]),
        "{body}"
    );

    // Unknown, malformed or inactive locations are 422 naming `locationId`.
    let closed = app.location(&t.token, "CLOSED", 10).await;
    app.patch(
        format!("/v1/locations/{closed}"),
        &t.token,
        json!({"active": false}),
    )
    .await;
    for location in [
        json!(uuid::Uuid::now_v7()),
        json!("not-an-id"),
        json!(closed),
    ] {
        let (status, body) = app
            .post(
                "/v1/orders",
                &t.token,
                json!({"locationId": location, "lines": [{"variantId": v, "quantity": 1}]}),
            )
            .await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&body), vec!["locationId"], "{location}: {body}");
    }
    let (_, orders) = app.get("/v1/orders", &t.token).await;
    assert_eq!(orders["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        levels(&app, &t.token, &v, &[&main, &shop]).await,
        vec![2, 7]
    );
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn an_order_naming_none_draws_on_the_default_first_then_by_priority_and_cancels_back() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("ol-any")).await;
    let main = app.default_location(&t.token).await;
    let late = app.location(&t.token, "LATE", 5).await;
    let early = app.location(&t.token, "EARLY", 1).await;
    let closed = app.location(&t.token, "CLOSED", 0).await;
    let v = app.variant_with_stock(&t.token, "OLN-1", 2).await;
    app.adjust(&t.token, &v, Some(&late), 3).await;
    app.adjust(&t.token, &v, Some(&early), 4).await;
    app.adjust(&t.token, &v, Some(&closed), 1).await;
    app.adjust(&t.token, &v, Some(&closed), -1).await;
    app.patch(
        format!("/v1/locations/{closed}"),
        &t.token,
        json!({"active": false}),
    )
    .await;
    let all = [&main, &early, &late];

    let (status, order) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 7}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert!(order["locationId"].is_null(), "{order}");
    assert_eq!(
        allocations(&order),
        vec![
            (main.clone(), 2, 0),
            (early.clone(), 4, 0),
            (late.clone(), 1, 0)
        ],
        "default, then priority 1, then priority 5"
    );
    assert_eq!(order["lines"][0]["quantity"], 7);
    assert_eq!(levels(&app, &t.token, &v, &all).await, vec![0, 0, 2]);
    assert_eq!(app.stock_of(&t.token, &v).await, 2);
    assert_eq!(
        committed_at(&app, &t.token, &v, &all).await,
        vec![2, 4, 1],
        "committed where allocated; nothing moved yet"
    );
    let sales = app
        .movements_where(&t.token, &format!("variantId={v}&type=SALE"))
        .await;
    assert_eq!(sales, Vec::<Value>::new());

    // More than all of them hold: a shortage over all locations, naming none.
    let (status, body) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 3}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(
        body["shortages"],
        json!([{"variantId": v, "requested": 3, "available": 2}]),
        "{body}"
    );

    // Cancelled: every commitment is released where it was made; nothing moves.
    let id = order["id"].as_str().unwrap();
    let (status, cancelled) = app
        .post(format!("/v1/orders/{id}/cancel"), &t.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(levels(&app, &t.token, &v, &all).await, vec![2, 4, 3]);
    assert_eq!(committed_at(&app, &t.token, &v, &all).await, vec![0, 0, 0]);
    let back = app
        .movements_where(&t.token, &format!("variantId={v}&type=RETURN"))
        .await;
    assert_eq!(back, Vec::<Value>::new());

    // A new default leads the allocation.
    app.patch(
        format!("/v1/locations/{late}"),
        &t.token,
        json!({"isDefault": true}),
    )
    .await;
    let (status, order) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 4}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(
        allocations(&order),
        vec![(late.clone(), 3, 0), (main.clone(), 1, 0)],
        "the new default, then the old one (priority 0), then EARLY"
    );
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn returns_go_back_where_the_units_came_from_or_to_the_named_location() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("ol-ret")).await;
    let main = app.default_location(&t.token).await;
    let second = app.location(&t.token, "SECOND", 10).await;
    let returns_desk = app.location(&t.token, "RETURNS", 10).await;
    let v = app.variant_with_stock(&t.token, "OLR-1", 3).await;
    app.adjust(&t.token, &v, Some(&second), 5).await;
    let all = [&main, &second, &returns_desk];

    let (_, order) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 6}]}),
        )
        .await;
    let id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(
        allocations(&order),
        vec![(main.clone(), 3, 0), (second.clone(), 3, 0)]
    );
    let (status, body) = app
        .post(format!("/v1/orders/{id}/fulfil"), &t.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(levels(&app, &t.token, &v, &all).await, vec![0, 2, 0]);
    let ret = |body: Value| app.post(format!("/v1/orders/{id}/returns"), &t.token, body);

    // Without a location: counted against the allocations in the order they were drawn.
    let (status, first) =
        ret(json!({"lines": [{"variantId": v, "quantity": 4}], "reason": "r"})).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["status"], "PARTIALLY_RETURNED");
    assert_eq!(first["lines"][0]["returned"], 4);
    assert_eq!(
        allocations(&first),
        vec![(main.clone(), 3, 3), (second.clone(), 3, 1)]
    );
    assert_eq!(levels(&app, &t.token, &v, &all).await, vec![3, 3, 0]);

    // A foreign or unknown location is refused naming the field, and writes nothing.
    let (status, body) = ret(
        json!({"lines": [{"variantId": v, "quantity": 1}], "reason": "r",
                                     "locationId": uuid::Uuid::now_v7()}),
    )
    .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["locationId"]);

    // To a named location: the units land there, whatever allocation they are counted against.
    let (status, last) = ret(
        json!({"lines": [{"variantId": v, "quantity": 2}], "reason": "r",
                                    "locationId": returns_desk}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{last}");
    assert_eq!(last["status"], "RETURNED");
    assert_eq!(
        allocations(&last),
        vec![(main.clone(), 3, 3), (second.clone(), 3, 3)]
    );
    assert_eq!(levels(&app, &t.token, &v, &all).await, vec![3, 3, 2]);
    let at_desk = app
        .movements_where(&t.token, &format!("locationId={returns_desk}"))
        .await;
    assert_eq!(at_desk.len(), 1, "{at_desk:?}");
    assert_eq!(
        (
            &at_desk[0]["type"],
            &at_desk[0]["quantity"],
            &at_desk[0]["orderId"]
        ),
        (&json!("RETURN"), &json!(2), &json!(id))
    );
    assert_eq!(app.stock_of(&t.token, &v).await, 8);
    app.assert_audit_clean(&t.token).await;
}
