//! Transfers over HTTP: a DRAFT is edited, shipped (its units leave the source and are counted at
//! neither end, only as in transit), received in parts at the destination, or cancelled while
//! still a draft. Shipping short lists every short line with its location and moves nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, level_in, slug, spawn_app, Call, TestApp};

fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}

/// The transfer's lines as (variant, quantity, received, inTransit).
fn lines(transfer: &Value) -> Vec<(String, i64, i64, i64)> {
    transfer["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("a transfer has lines: {transfer}"))
        .iter()
        .map(|l| {
            (
                l["variantId"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
                l["received"].as_i64().unwrap(),
                l["inTransit"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn transfer_json(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, body) = app.get(format!("/v1/transfers/{id}"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// (total stock, level at `from`, level at `to`, in transit) of `variant`.
async fn where_is(app: &TestApp, token: &str, v: &str, from: &str, to: &str) -> [i64; 4] {
    let variant = app.variant(token, v).await;
    [
        variant["stock"].as_i64().unwrap(),
        level_in(&variant, from),
        level_in(&variant, to),
        variant["inTransit"].as_i64().unwrap(),
    ]
}

#[tokio::test]
async fn a_shipped_transfer_is_in_transit_until_received_in_parts() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("tr-flow")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let a = app.default_location(&t.token).await;
    let b = app.location(&t.token, "B", 10).await;
    let x = app.variant_with_stock(&t.token, "TR-X", 10).await;
    let y = app.variant_with_stock(&t.token, "TR-Y", 5).await;

    let (status, draft) = app
        .post(
            "/v1/transfers",
            &t.token,
            json!({"fromLocationId": a, "toLocationId": b,
                   "lines": [{"variantId": x, "quantity": 4}, {"variantId": y, "quantity": 5}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    assert_eq!(draft["status"], "DRAFT");
    assert_eq!(
        (&draft["fromLocationId"], &draft["toLocationId"]),
        (&json!(a), &json!(b))
    );
    assert_eq!(
        lines(&draft),
        vec![(x.clone(), 4, 0, 0), (y.clone(), 5, 0, 0)]
    );
    assert_eq!(draft["inTransit"], 0);
    assert_eq!(draft["createdBy"], t.owner_id.as_str());
    assert!(draft["shippedAt"].is_null(), "{draft}");
    assert!(draft["createdAt"].is_string() && draft["updatedAt"].is_string());
    let id = draft["id"].as_str().unwrap().to_owned();
    let version = draft["version"].as_i64().unwrap();
    assert_eq!(where_is(&app, &t.token, &x, &a, &b).await, [10, 10, 0, 0]);

    // A DRAFT is edited; nothing moves.
    let (status, edited) = app
        .patch(
            format!("/v1/transfers/{id}"),
            &t.token,
            json!({"lines": [{"variantId": x, "quantity": 6}, {"variantId": y, "quantity": 5}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["status"], "DRAFT");
    assert_eq!(lines(&edited)[0], (x.clone(), 6, 0, 0));
    assert!(edited["version"].as_i64().unwrap() > version, "{edited}");
    assert_eq!(app.stock_of(&t.token, &x).await, 10);

    // Shipped: the units leave A and are counted at neither end, only as in transit.
    let (status, shipped) = app
        .post(format!("/v1/transfers/{id}/ship"), &t.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{shipped}");
    assert_eq!(shipped["status"], "SHIPPED");
    assert!(shipped["shippedAt"].is_string(), "{shipped}");
    assert_eq!(shipped["inTransit"], 11);
    assert_eq!(
        lines(&shipped),
        vec![(x.clone(), 6, 0, 6), (y.clone(), 5, 0, 5)]
    );
    assert_eq!(transfer_json(&app, &t.token, &id).await, shipped);
    assert_eq!(where_is(&app, &t.token, &x, &a, &b).await, [4, 4, 0, 6]);
    assert_eq!(where_is(&app, &t.token, &y, &a, &b).await, [0, 0, 0, 5]);
    let out = app
        .movements_where(&t.token, &format!("variantId={x}&type=TRANSFER_OUT"))
        .await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        (
            &out[0]["quantity"],
            &out[0]["stockAfter"],
            &out[0]["locationId"],
            &out[0]["transferId"]
        ),
        (&json!(-6), &json!(4), &json!(a), &json!(id)),
        "{}",
        out[0]
    );

    // Units in transit keep the destination active and the variant from being deleted, even
    // with no stock anywhere.
    let (status, body) = app
        .patch(
            format!("/v1/locations/{b}"),
            &t.token,
            json!({"active": false}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, body) = app.delete(format!("/v1/variants/{y}"), &t.token).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let product = app.variant(&t.token, &y).await["productId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = app
        .delete(format!("/v1/products/{product}"), &t.token)
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    // Shipped transfers are neither edited, shipped again nor cancelled.
    let (status, body) = app
        .patch(
            format!("/v1/transfers/{id}"),
            &t.token,
            json!({"lines": [{"variantId": x, "quantity": 1}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    for action in ["ship", "cancel"] {
        let (status, body) = app
            .post(format!("/v1/transfers/{id}/{action}"), &t.token, json!({}))
            .await;
        assert_problem(status, &body, StatusCode::CONFLICT);
    }

    // A partial receipt, by STAFF.
    let receipts = format!("/v1/transfers/{id}/receipts");
    let (status, part) = app
        .post(
            &receipts,
            &staff,
            json!({"lines": [{"variantId": x, "quantity": 2}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{part}");
    assert_eq!(part["status"], "PARTIALLY_RECEIVED");
    assert_eq!(part["inTransit"], 9);
    assert_eq!(
        lines(&part),
        vec![(x.clone(), 6, 2, 4), (y.clone(), 5, 0, 5)]
    );
    assert_eq!(where_is(&app, &t.token, &x, &a, &b).await, [6, 4, 2, 4]);

    // Over-receipt, a variant not on the transfer, no lines: refused, nothing written.
    let before = app
        .movements_where(&t.token, &format!("locationId={b}"))
        .await;
    let (status, body) = app
        .post(
            &receipts,
            &staff,
            json!({"lines": [{"variantId": y, "quantity": 1}, {"variantId": x, "quantity": 5}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let stranger = app.variant_with_stock(&t.token, "TR-Z", 1).await;
    let (status, body) = app
        .post(
            &receipts,
            &staff,
            json!({"lines": [{"variantId": stranger, "quantity": 1}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["lines[0].variantId"]);
    let (status, body) = app.post(&receipts, &staff, json!({"lines": []})).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(transfer_json(&app, &t.token, &id).await, part);
    assert_eq!(
        app.movements_where(&t.token, &format!("locationId={b}"))
            .await,
        before
    );

    // The rest arrives: RECEIVED, every unit at B, nothing in transit.
    let (status, done) = app
        .post(
            &receipts,
            &staff,
            json!({"lines": [{"variantId": x, "quantity": 4}, {"variantId": y, "quantity": 5}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "RECEIVED");
    assert_eq!(done["inTransit"], 0);
    assert_eq!(
        lines(&done),
        vec![(x.clone(), 6, 6, 0), (y.clone(), 5, 5, 0)]
    );
    assert_eq!(where_is(&app, &t.token, &x, &a, &b).await, [10, 4, 6, 0]);
    assert_eq!(where_is(&app, &t.token, &y, &a, &b).await, [5, 0, 5, 0]);
    let arrived = app
        .movements_where(&t.token, &format!("locationId={b}"))
        .await;
    let arrived: Vec<(&str, i64)> = arrived
        .iter()
        .map(|m| {
            assert_eq!(m["type"], "TRANSFER_IN", "{m}");
            assert_eq!(m["transferId"], id.as_str(), "{m}");
            (
                m["variantId"].as_str().unwrap(),
                m["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(arrived.len(), 3, "{arrived:?}");
    assert_eq!(
        arrived
            .iter()
            .filter(|(v, _)| *v == x)
            .map(|(_, q)| q)
            .sum::<i64>(),
        6
    );
    let (status, body) = app
        .post(
            &receipts,
            &staff,
            json!({"lines": [{"variantId": x, "quantity": 1}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn only_a_draft_is_cancelled_and_a_cancelled_transfer_stays_so() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("tr-cancel")).await;
    let a = app.default_location(&t.token).await;
    let b = app.location(&t.token, "B", 10).await;
    let v = app.variant_with_stock(&t.token, "TRC-1", 3).await;
    let id = app.transfer(&t.token, &a, &b, &[(&v, 2)]).await;

    let (status, cancelled) = app
        .post(format!("/v1/transfers/{id}/cancel"), &t.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["inTransit"], 0);
    for action in ["cancel", "ship"] {
        let (status, body) = app
            .post(format!("/v1/transfers/{id}/{action}"), &t.token, json!({}))
            .await;
        assert_problem(status, &body, StatusCode::CONFLICT);
    }
    let (status, body) = app
        .post(
            format!("/v1/transfers/{id}/receipts"),
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 1}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, body) = app
        .patch(
            format!("/v1/transfers/{id}"),
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 1}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(transfer_json(&app, &t.token, &id).await, cancelled);
    assert_eq!(app.level_of(&t.token, &v, &a).await, 3);
    assert_eq!(app.movements_of(&t.token, &v).await.len(), 1);
}

#[tokio::test]
async fn shipping_short_lists_every_short_line_at_the_source_and_moves_nothing() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("tr-short")).await;
    let a = app.location(&t.token, "A", 10).await;
    let b = app.default_location(&t.token).await;
    let short = app.variant_with_stock(&t.token, "TRS-1", 0).await;
    let none = app.variant_with_stock(&t.token, "TRS-2", 0).await;
    let fine = app.variant_with_stock(&t.token, "TRS-3", 0).await;
    app.adjust(&t.token, &short, Some(&a), 1).await;
    app.adjust(&t.token, &fine, Some(&a), 9).await;
    // Plenty at the destination does not help the source.
    app.adjust(&t.token, &short, Some(&b), 100).await;
    let id = app
        .transfer(&t.token, &a, &b, &[(&short, 2), (&none, 1), (&fine, 9)])
        .await;
    let draft = transfer_json(&app, &t.token, &id).await;

    let res = app
        .client
        .post(format!("{}/v1/transfers/{id}/ship", app.address))
        .bearer_auth(&t.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["type"], "/problems/insufficient-stock", "{body}");
    let mut shortages = body["shortages"].as_array().unwrap().clone();
    shortages.sort_by_key(|s| s["variantId"].as_str().unwrap().to_owned());
    assert_eq!(
        shortages,
        vec![
            json!({"variantId": short, "locationId": a, "requested": 2, "available": 1}),
            json!({"variantId": none, "locationId": a, "requested": 1, "available": 0}),
        ],
        "{body}"
    );

    assert_eq!(
        transfer_json(&app, &t.token, &id).await,
        draft,
        "still a draft"
    );
    assert_eq!(app.level_of(&t.token, &fine, &a).await, 9);
    assert_eq!(app.level_of(&t.token, &short, &a).await, 1);
    assert!(app
        .movements_where(&t.token, "type=TRANSFER_OUT")
        .await
        .is_empty());
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn bad_transfers_are_refused_naming_the_field_and_write_nothing() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("tr-bad")).await;
    let a = app.default_location(&t.token).await;
    let b = app.location(&t.token, "B", 10).await;
    let closed = app.location(&t.token, "CLOSED", 10).await;
    let (status, body) = app
        .patch(
            format!("/v1/locations/{closed}"),
            &t.token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v = app.variant_with_stock(&t.token, "TRB-1", 5).await;
    let line = json!([{"variantId": v, "quantity": 1}]);
    let create = |body: Value| app.post("/v1/transfers", &t.token, body);

    for (body, expected) in [
        (
            json!({"fromLocationId": a, "toLocationId": a, "lines": line}),
            vec!["toLocationId"],
        ),
        (
            json!({"fromLocationId": a, "toLocationId": closed, "lines": line}),
            vec!["toLocationId"],
        ),
        (
            json!({"fromLocationId": closed, "toLocationId": b, "lines": line}),
            vec!["fromLocationId"],
        ),
        (
            json!({"fromLocationId": uuid::Uuid::now_v7(), "toLocationId": b, "lines": line}),
            vec!["fromLocationId"],
        ),
        (
            json!({"fromLocationId": "not-an-id", "toLocationId": b, "lines": line}),
            vec!["fromLocationId"],
        ),
        (
            json!({"fromLocationId": a, "toLocationId": b, "lines": []}),
            vec!["lines"],
        ),
        (
            json!({"fromLocationId": a, "toLocationId": b,
                   "lines": [{"variantId": uuid::Uuid::now_v7(), "quantity": 1}]}),
            vec!["lines[0].variantId"],
        ),
        (
            json!({"fromLocationId": a, "toLocationId": b,
                   "lines": [{"variantId": v, "quantity": 1}, {"variantId": v, "quantity": 2}]}),
            vec!["lines[1].variantId"],
        ),
        (
            json!({"fromLocationId": a, "toLocationId": b,
                   "lines": [{"variantId": v, "quantity": 0}]}),
            vec!["lines[0].quantity"],
        ),
    ] {
        let (status, answer) = create(body.clone()).await;
        assert_problem(status, &answer, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&answer), expected, "{body} → {answer}");
    }
    let (status, body) = create(json!({"toLocationId": b, "lines": line})).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);

    // An edit is checked the same way.
    let id = app.transfer(&t.token, &a, &b, &[(&v, 1)]).await;
    let (status, body) = app
        .patch(
            format!("/v1/transfers/{id}"),
            &t.token,
            json!({"toLocationId": a}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["toLocationId"]);
    let (status, body) = app
        .patch(
            format!("/v1/transfers/{id}"),
            &t.token,
            json!({"toLocationId": closed}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["toLocationId"]);
    let (_, listed) = app.get("/v1/transfers", &t.token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["toLocationId"], b.as_str());

    for path in [
        format!("/v1/transfers/{}", uuid::Uuid::now_v7()),
        "/v1/transfers/not-an-id".to_owned(),
    ] {
        let (status, body) = app.get(&path, &t.token).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
        let (status, body) = app.post(format!("{path}/ship"), &t.token, json!({})).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn transfers_list_newest_first_and_filter_by_status_and_locations() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("tr-list")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let a = app.default_location(&t.token).await;
    let b = app.location(&t.token, "B", 10).await;
    let c = app.location(&t.token, "C", 10).await;
    let v = app.variant_with_stock(&t.token, "TRL-1", 10).await;
    app.adjust(&t.token, &v, Some(&b), 10).await;
    let ab = app.transfer(&t.token, &a, &b, &[(&v, 1)]).await;
    let ba = app.transfer(&t.token, &b, &a, &[(&v, 1)]).await;
    let ac = app.transfer(&t.token, &a, &c, &[(&v, 1)]).await;
    let (status, body) = app
        .post(format!("/v1/transfers/{ab}/ship"), &t.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let ids = |query: &str| {
        let app = &app;
        let staff = staff.clone();
        let query = query.to_owned();
        async move {
            let (status, body) = app.get(format!("/v1/transfers{query}"), &staff).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids("").await, vec![ac.clone(), ba.clone(), ab.clone()]);
    assert_eq!(ids("?status=SHIPPED").await, vec![ab.clone()]);
    assert_eq!(ids("?status=DRAFT").await, vec![ac.clone(), ba.clone()]);
    assert_eq!(
        ids(&format!("?fromLocationId={a}")).await,
        vec![ac.clone(), ab.clone()]
    );
    assert_eq!(ids(&format!("?toLocationId={a}")).await, vec![ba.clone()]);
    assert_eq!(
        ids(&format!("?fromLocationId={a}&status=DRAFT")).await,
        vec![ac.clone()]
    );
    assert_eq!(
        ids(&format!("?fromLocationId={b}&toLocationId={c}")).await,
        Vec::<String>::new()
    );
    assert_eq!(ids("?status=RECEIVED").await, Vec::<String>::new());

    // Paged, newest first.
    let (_, first) = app.get("/v1/transfers?limit=2", &t.token).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["nextCursor"].as_str().expect("a second page");
    let (_, second) = app
        .get(format!("/v1/transfers?limit=2&cursor={cursor}"), &t.token)
        .await;
    assert_eq!(second["items"][0]["id"], ab.as_str());
    assert!(second["nextCursor"].is_null());

    for (query, field) in [
        ("?status=LOST", "status"),
        ("?fromLocationId=nowhere", "fromLocationId"),
        ("?toLocationId=nowhere", "toLocationId"),
    ] {
        let (status, body) = app.get(format!("/v1/transfers{query}"), &t.token).await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&body), vec![field], "{body}");
    }
}

#[tokio::test]
async fn a_retried_ship_or_receipt_replays_its_first_answer_and_moves_nothing_more() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("tr-idem")).await;
    let a = app.default_location(&t.token).await;
    let b = app.location(&t.token, "B", 10).await;
    let v = app.variant_with_stock(&t.token, "TRI-1", 10).await;
    let id = app.transfer(&t.token, &a, &b, &[(&v, 4)]).await;

    let ship = Call::post(format!("/v1/transfers/{id}/ship"), json!({})).with_key("ship-1");
    let first = app.send(&t.token, &ship).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(!first.replayed);
    let again = app.send(&t.token, &ship).await;
    assert_eq!((again.status, again.replayed), (StatusCode::OK, true));
    assert_eq!(again.raw, first.raw, "byte for byte");
    let fresh = app
        .send(
            &t.token,
            &Call::post(format!("/v1/transfers/{id}/ship"), json!({})),
        )
        .await;
    assert_problem(fresh.status, &fresh.body, StatusCode::CONFLICT);
    assert_eq!(app.level_of(&t.token, &v, &a).await, 6, "shipped once");
    let outs = app
        .movements_where(&t.token, &format!("variantId={v}&type=TRANSFER_OUT"))
        .await;
    assert_eq!(outs.len(), 1, "{outs:?}");

    // A partial receipt that a re-run would apply again.
    let receipt = Call::post(
        format!("/v1/transfers/{id}/receipts"),
        json!({"lines": [{"variantId": v, "quantity": 1}]}),
    )
    .with_key("receipt-1");
    let first = app.send(&t.token, &receipt).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let again = app.send(&t.token, &receipt).await;
    assert_eq!((again.status, again.replayed), (StatusCode::OK, true));
    assert_eq!(again.raw, first.raw);
    assert_eq!(app.level_of(&t.token, &v, &b).await, 1, "received once");
    let (_, now) = app.get(format!("/v1/transfers/{id}"), &t.token).await;
    assert_eq!(now["lines"][0]["received"], 1, "{now}");

    // The same key with another body is refused.
    let other = Call::post(
        format!("/v1/transfers/{id}/receipts"),
        json!({"lines": [{"variantId": v, "quantity": 2}]}),
    )
    .with_key("receipt-1");
    let refused = app.send(&t.token, &other).await;
    assert_problem(
        refused.status,
        &refused.body,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_eq!(app.level_of(&t.token, &v, &b).await, 1);
    app.assert_audit_clean(&t.token).await;
}
