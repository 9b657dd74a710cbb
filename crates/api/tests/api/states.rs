//! The states units on hand are in, over HTTP: moves between available, damaged, quality control
//! and safety stock; adjustments and returns naming a state; the states a past moment replays;
//! and what the variant shows through a hold, its confirmation and the order's fulfilment.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, slug, spawn_app, TestApp};

/// The states as the API shows them: `{stock, onHand, committed, reserved, unavailable,
/// unavailableBy}`.
fn states(
    stock: i64,
    on_hand: i64,
    committed: i64,
    reserved: i64,
    [damaged, quality_control, safety_stock]: [i64; 3],
) -> Value {
    json!({
        "stock": stock,
        "onHand": on_hand,
        "committed": committed,
        "reserved": reserved,
        "unavailable": damaged + quality_control + safety_stock,
        "unavailableBy": {
            "damaged": damaged,
            "qualityControl": quality_control,
            "safetyStock": safety_stock,
        },
    })
}

/// The state fields of `value` (a variant, one of its levels, a location's level, a move's
/// `level` or `total`).
fn states_of(value: &Value) -> Value {
    let mut picked = serde_json::Map::new();
    for field in [
        "stock",
        "onHand",
        "committed",
        "reserved",
        "unavailable",
        "unavailableBy",
    ] {
        picked.insert(
            field.to_owned(),
            value
                .get(field)
                .cloned()
                .unwrap_or_else(|| panic!("{field}: {value}")),
        );
    }
    Value::Object(picked)
}

async fn variant_states(app: &TestApp, token: &str, variant: &str) -> Value {
    states_of(&app.variant(token, variant).await)
}

/// Moves `quantity` units of `variant` at the default location from one state to another.
async fn move_units(
    app: &TestApp,
    token: &str,
    variant: &str,
    from: &str,
    to: &str,
    quantity: i64,
) -> (StatusCode, Value) {
    app.post(
        format!("/v1/variants/{variant}/moves"),
        token,
        json!({"from": from, "to": to, "quantity": quantity, "reason": "inspection"}),
    )
    .await
}

fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a validation problem: {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn units_move_between_states_both_ways_and_a_short_source_is_refused() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("moves")).await;
    let main = app.default_location(&t.token).await;
    let v = app.variant_with_stock(&t.token, "MOVE-1", 10).await;

    let (status, moved) = move_units(&app, &t.token, &v, "available", "damaged", 3).await;
    assert_eq!(status, StatusCode::CREATED, "{moved}");
    let m = &moved["movement"];
    assert_eq!(m["type"], "MOVE");
    assert_eq!(m["quantity"], 0, "on hand does not move");
    assert_eq!(m["stockAfter"], 10);
    assert_eq!(m["locationId"], main.as_str());
    assert_eq!(m["reason"], "inspection");
    assert_eq!(
        m["unavailable"],
        json!({"damaged": 3, "qualityControl": 0, "safetyStock": 0})
    );
    assert_eq!(moved["level"], states(7, 10, 0, 0, [3, 0, 0]));
    assert_eq!(moved["total"], states(7, 10, 0, 0, [3, 0, 0]));
    assert_eq!(
        variant_states(&app, &t.token, &v).await,
        states(7, 10, 0, 0, [3, 0, 0])
    );

    // Back again, and between two unavailable states.
    let (status, back) = move_units(&app, &t.token, &v, "damaged", "available", 1).await;
    assert_eq!(status, StatusCode::CREATED, "{back}");
    assert_eq!(
        back["movement"]["unavailable"],
        json!({"damaged": -1, "qualityControl": 0, "safetyStock": 0})
    );
    let (status, qc) = move_units(&app, &t.token, &v, "damaged", "qualityControl", 2).await;
    assert_eq!(status, StatusCode::CREATED, "{qc}");
    assert_eq!(
        qc["movement"]["unavailable"],
        json!({"damaged": -2, "qualityControl": 2, "safetyStock": 0})
    );
    assert_eq!(qc["level"], states(8, 10, 0, 0, [0, 2, 0]));
    let (status, safety) = move_units(&app, &t.token, &v, "available", "safetyStock", 8).await;
    assert_eq!(status, StatusCode::CREATED, "{safety}");
    assert_eq!(safety["total"], states(0, 10, 0, 0, [0, 2, 8]));

    // Short sources: nothing damaged, nothing available, too little in quality control.
    for (from, to, quantity) in [
        ("damaged", "available", 1),
        ("available", "damaged", 1),
        ("qualityControl", "safetyStock", 3),
    ] {
        let (status, body) = move_units(&app, &t.token, &v, from, to, quantity).await;
        assert_problem(status, &body, StatusCode::CONFLICT);
    }
    assert_eq!(
        variant_states(&app, &t.token, &v).await,
        states(0, 10, 0, 0, [0, 2, 8]),
        "refusals moved nothing"
    );

    // Bad requests name their field; STAFF may not move units.
    let (status, body) = move_units(&app, &t.token, &v, "damaged", "damaged", 1).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["to"], "{body}");
    let (status, body) = move_units(&app, &t.token, &v, "broken", "available", 0).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["from", "quantity"], "{body}");
    let staff = app.user_token(&t, "STAFF").await;
    let (status, body) = move_units(&app, &staff, &v, "safetyStock", "available", 1).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = move_units(&app, &t.token, "not-an-id", "available", "damaged", 1).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);

    let moves = app
        .movements_where(&t.token, &format!("variantId={v}&type=MOVE"))
        .await;
    assert_eq!(moves.len(), 4, "one MOVE per move");
    let (_, adjustments) = app.get("/v1/movements?type=ADJUSTMENT", &t.token).await;
    assert_eq!(
        adjustments["items"][0]["unavailable"],
        json!({"damaged": 0, "qualityControl": 0, "safetyStock": 0}),
        "a movement of available units moves no other state"
    );
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn an_adjustment_in_a_state_moves_on_hand_with_it() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("writeoff")).await;
    let v = app.variant_with_stock(&t.token, "MOVE-2", 10).await;
    let (status, _) = move_units(&app, &t.token, &v, "available", "damaged", 3).await;
    assert_eq!(status, StatusCode::CREATED);

    // Writing off two damaged units takes them from on hand and from damaged: still 7 to sell.
    let (status, written_off) = app
        .post(
            format!("/v1/variants/{v}/adjustments"),
            &t.token,
            json!({"quantity": -2, "reason": "scrapped", "state": "damaged"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{written_off}");
    let m = &written_off["movement"];
    assert_eq!(
        (&m["type"], &m["quantity"]),
        (&json!("ADJUSTMENT"), &json!(-2))
    );
    assert_eq!(
        m["unavailable"],
        json!({"damaged": -2, "qualityControl": 0, "safetyStock": 0})
    );
    assert_eq!(m["stockAfter"], 8, "on hand after");
    assert_eq!(written_off["stock"], 7, "available, unchanged");
    assert_eq!(
        variant_states(&app, &t.token, &v).await,
        states(7, 8, 0, 0, [1, 0, 0])
    );

    // Not more than are damaged.
    let (status, body) = app
        .post(
            format!("/v1/variants/{v}/adjustments"),
            &t.token,
            json!({"quantity": -2, "reason": "scrapped", "state": "damaged"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    // Units found in quality control come in on hand, not for sale.
    let (status, found) = app
        .post(
            format!("/v1/variants/{v}/adjustments"),
            &t.token,
            json!({"quantity": 2, "reason": "found in QC", "state": "qualityControl"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{found}");
    assert_eq!(
        variant_states(&app, &t.token, &v).await,
        states(7, 10, 0, 0, [1, 2, 0])
    );
    // The default state is available.
    let (status, plain) = app
        .post(
            format!("/v1/variants/{v}/adjustments"),
            &t.token,
            json!({"quantity": 1, "reason": "count", "state": "available"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{plain}");
    assert_eq!(plain["stock"], 8);

    let (status, body) = app
        .post(
            format!("/v1/variants/{v}/adjustments"),
            &t.token,
            json!({"quantity": 1, "reason": "count", "state": "broken"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["state"], "{body}");
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn a_return_into_damaged_or_quality_control_is_on_hand_but_not_for_sale() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("return-state")).await;
    let v = app.variant_with_stock(&t.token, "MOVE-3", 5).await;
    let (status, order) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 3}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let order = order["id"].as_str().unwrap().to_owned();
    app.fulfil_all(&t.token, std::slice::from_ref(&order)).await;
    assert_eq!(
        variant_states(&app, &t.token, &v).await,
        states(2, 2, 0, 0, [0, 0, 0])
    );

    let returns = format!("/v1/orders/{order}/returns");
    let line = json!([{"variantId": v, "quantity": 1}]);
    let (status, body) = app
        .post(
            &returns,
            &t.token,
            json!({"lines": line, "reason": "torn", "state": "damaged"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        variant_states(&app, &t.token, &v).await,
        states(2, 3, 0, 0, [1, 0, 0])
    );
    let (status, body) = app
        .post(
            &returns,
            &t.token,
            json!({"lines": line, "reason": "to check", "state": "qualityControl"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .post(&returns, &t.token, json!({"lines": line, "reason": "fine"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "RETURNED");
    assert_eq!(
        variant_states(&app, &t.token, &v).await,
        states(3, 5, 0, 0, [1, 1, 0])
    );
    let kinds: Vec<Value> = app
        .movements_where(&t.token, &format!("variantId={v}&type=RETURN"))
        .await
        .into_iter()
        .map(|m| m["unavailable"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec![
            json!({"damaged": 0, "qualityControl": 0, "safetyStock": 0}),
            json!({"damaged": 0, "qualityControl": 1, "safetyStock": 0}),
            json!({"damaged": 1, "qualityControl": 0, "safetyStock": 0}),
        ],
        "newest first"
    );

    // Safety stock is set aside by a move, never returned into.
    let (status, order) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let order = order["id"].as_str().unwrap().to_owned();
    app.fulfil_all(&t.token, std::slice::from_ref(&order)).await;
    for bad in ["safetyStock", "lost"] {
        let (status, body) = app
            .post(
                format!("/v1/orders/{order}/returns"),
                &t.token,
                json!({"lines": line, "reason": "r", "state": bad}),
            )
            .await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&body), vec!["state"], "{bad}: {body}");
    }
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn stock_at_a_past_moment_answers_the_unavailable_states_then() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("stock-at")).await;
    let main = app.default_location(&t.token).await;
    let v = app.variant_with_stock(&t.token, "MOVE-4", 10).await;
    let (status, first) = move_units(&app, &t.token, &v, "available", "damaged", 3).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let then = first["movement"]["createdAt"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (status, _) = move_units(&app, &t.token, &v, "available", "qualityControl", 2).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .post(
            format!("/v1/variants/{v}/adjustments"),
            &t.token,
            json!({"quantity": -1, "reason": "scrapped", "state": "damaged"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let at = |query: String| {
        let (app, token, v) = (&app, &t.token, &v);
        async move {
            let (status, body) = app
                .get(format!("/v1/variants/{v}/stock?{query}"), token)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };
    let past = at(format!("at={}", then.replace('+', "%2B"))).await;
    assert_eq!(
        (&past["stock"], &past["onHand"]),
        (&json!(10), &json!(10)),
        "{past}"
    );
    assert_eq!(past["unavailable"], 3);
    assert_eq!(
        past["unavailableBy"],
        json!({"damaged": 3, "qualityControl": 0, "safetyStock": 0})
    );
    let now = at(String::new()).await;
    assert_eq!(
        (&now["stock"], &now["onHand"]),
        (&json!(9), &json!(9)),
        "{now}"
    );
    assert_eq!(
        now["unavailableBy"],
        json!({"damaged": 2, "qualityControl": 2, "safetyStock": 0})
    );
    assert_eq!(now["unavailable"], 4);
    let here = at(format!("locationId={main}")).await;
    assert_eq!(here["unavailable"], 4, "{here}");
    assert_eq!(here["locationId"], main.as_str());
}

#[tokio::test]
async fn the_variant_shows_each_state_through_a_hold_its_confirmation_and_fulfilment() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("hold-states")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let main = app.default_location(&t.token).await;
    let v = app.variant_with_stock(&t.token, "MOVE-5", 10).await;
    let (status, _) = move_units(&app, &t.token, &v, "available", "safetyStock", 1).await;
    assert_eq!(status, StatusCode::CREATED);
    let level_here = |read: &Value| states_of(&read["levels"][0]);
    let location_level = || async {
        let (status, body) = app
            .get(format!("/v1/locations/{main}/levels"), &staff)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        states_of(&body["items"][0])
    };

    // Safety stock is not for holds: 9 of 10 can be held.
    let (status, body) = app
        .post(
            "/v1/reservations",
            &staff,
            json!({"lines": [{"variantId": v, "quantity": 10}], "ttlSeconds": 600}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["shortages"][0]["available"], 9, "{body}");

    let (status, held) = app
        .post(
            "/v1/reservations",
            &staff,
            json!({"lines": [{"variantId": v, "quantity": 3, "locationId": main}], "ttlSeconds": 600}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let held_states = states(6, 10, 0, 3, [0, 0, 1]);
    let read = app.variant(&t.token, &v).await;
    assert_eq!(states_of(&read), held_states, "{read}");
    assert_eq!(level_here(&read), held_states);
    assert_eq!(location_level().await, held_states);
    assert!(!read["lowStock"].as_bool().unwrap());

    let id = held["id"].as_str().unwrap();
    let (status, order) = app
        .post(format!("/v1/reservations/{id}/confirm"), &staff, json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let confirmed_states = states(6, 10, 3, 0, [0, 0, 1]);
    let read = app.variant(&t.token, &v).await;
    assert_eq!(states_of(&read), confirmed_states, "{read}");
    assert_eq!(level_here(&read), confirmed_states);
    assert_eq!(location_level().await, confirmed_states);

    let order = order["id"].as_str().unwrap().to_owned();
    app.fulfil_all(&t.token, std::slice::from_ref(&order)).await;
    let fulfilled_states = states(6, 7, 0, 0, [0, 0, 1]);
    let read = app.variant(&t.token, &v).await;
    assert_eq!(states_of(&read), fulfilled_states, "{read}");
    assert_eq!(level_here(&read), fulfilled_states);
    assert_eq!(location_level().await, fulfilled_states);
    let sales = app
        .movements_where(&t.token, &format!("variantId={v}&type=SALE"))
        .await;
    assert_eq!(sales.len(), 1, "the SALE at fulfilment, none before");
    assert_eq!(sales[0]["quantity"], -3);
    app.assert_audit_clean(&t.token).await;
}
