//! `Idempotency-Key`: a retried request never writes twice.

use std::time::Duration;

use domain::ids::{LocationId, TenantId, VariantId};
use domain::lock::LockKey;
use domain::stock::models::Level;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    assert_problem, slug, spawn_app, spawn_app_with_lock, summary, Answer, Call, GatedLock, TestApp,
};

async fn post_with_key(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: serde_json::Value,
) -> (StatusCode, String) {
    let res = app
        .client
        .post(format!("{}{}", app.address, path))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_retries_place_one_order_with_identical_answers() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("idem")).await;
    let v = app.variant_with_stock(&t.token, "IDEM-1", 100).await;
    let body = json!({"lines": [{"variantId": v, "quantity": 2}]});
    let calls =
        (0..20).map(|_| post_with_key(&app, &t.token, "/v1/orders", "order-key-1", body.clone()));
    let results = join_all(calls).await;
    let first = &results[0];
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
    for r in &results {
        assert_eq!(r, first, "every retry answers the same");
    }
    let (_, orders) = app.get("/v1/orders", &t.token).await;
    assert_eq!(orders["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.states_of(&t.token, &v).await,
        (98, 100, 2),
        "one order's two units committed, once"
    );
    assert_eq!(
        app.movements_of(&t.token, &v).await.len(),
        1,
        "placing writes no movement"
    );
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn a_key_reused_with_another_body_is_422_and_keys_are_per_tenant() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let a = app.register(&slug("ika")).await;
    let b = app.register(&slug("ikb")).await;
    let (s1, first) = post_with_key(
        &app,
        &a.token,
        "/v1/products",
        "k-1",
        json!({"name": "One"}),
    )
    .await;
    assert_eq!(s1, StatusCode::CREATED);
    let (s2, again) = post_with_key(
        &app,
        &a.token,
        "/v1/products",
        "k-1",
        json!({"name": "One"}),
    )
    .await;
    assert_eq!((s2, &again), (StatusCode::CREATED, &first));
    let (s3, other) = post_with_key(
        &app,
        &a.token,
        "/v1/products",
        "k-1",
        json!({"name": "Two"}),
    )
    .await;
    let other: serde_json::Value = serde_json::from_str(&other).unwrap();
    assert_problem(s3, &other, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, products) = app.get("/v1/products", &a.token).await;
    assert_eq!(products["items"].as_array().unwrap().len(), 1);

    // The same key in another tenant is another key.
    let (s4, theirs) = post_with_key(
        &app,
        &b.token,
        "/v1/products",
        "k-1",
        json!({"name": "One"}),
    )
    .await;
    assert_eq!(s4, StatusCode::CREATED);
    assert_ne!(theirs, first);

    // A failed write stores no key: after fixing the stock, the same key succeeds.
    let v = app.variant_with_stock(&a.token, "IK-1", 0).await;
    let adjust = format!("/v1/variants/{v}/adjustments");
    let (s5, _) = post_with_key(
        &app,
        &a.token,
        &adjust,
        "adj-1",
        json!({"quantity": -1, "reason": "x"}),
    )
    .await;
    assert_eq!(s5, StatusCode::CONFLICT);
    app.post(&adjust, &a.token, json!({"quantity": 5, "reason": "count"}))
        .await;
    let (s6, _) = post_with_key(
        &app,
        &a.token,
        &adjust,
        "adj-1",
        json!({"quantity": -1, "reason": "x"}),
    )
    .await;
    assert_eq!(s6, StatusCode::CREATED);
    let (s7, _) = post_with_key(
        &app,
        &a.token,
        &adjust,
        "adj-1",
        json!({"quantity": -1, "reason": "x"}),
    )
    .await;
    assert_eq!(s7, StatusCode::CREATED);
    assert_eq!(
        app.stock_of(&a.token, &v).await,
        4,
        "the replay did not adjust again"
    );

    let (s8, body) = post_with_key(
        &app,
        &a.token,
        "/v1/products",
        &"k".repeat(256),
        json!({"name": "x"}),
    )
    .await;
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_problem(s8, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key");
}

/// Sends `call` with `key` twice and asserts the second answer is the first one replayed, byte
/// for byte, and that the replay wrote no movement of `variant` and changed none of its stock,
/// on hand or committed units. Returns the first answer.
async fn assert_replayed(
    app: &TestApp,
    token: &str,
    call: Call,
    key: &str,
    variant: &str,
    expected: StatusCode,
) -> Answer {
    let call = call.with_key(key);
    let first = app.send(token, &call).await;
    assert_eq!(
        first.status, expected,
        "{} {}: {}",
        call.method, call.path, first.body
    );
    assert!(!first.replayed, "a fresh answer is not marked replayed");
    let movements = app.movements_of(token, variant).await.len();
    let states = app.states_of(token, variant).await;

    let again = app.send(token, &call).await;
    assert_eq!(again.status, first.status, "{}: {}", call.path, again.body);
    assert!(
        again.replayed,
        "{}: the retry carries `idempotent-replayed: true`",
        call.path
    );
    assert_eq!(
        again.raw, first.raw,
        "{}: the replay is byte-identical",
        call.path
    );
    assert_eq!(
        app.movements_of(token, variant).await.len(),
        movements,
        "{}: the replay wrote no movement",
        call.path
    );
    assert_eq!(
        app.states_of(token, variant).await,
        states,
        "{}: the replay changed no stock",
        call.path
    );
    first
}

#[tokio::test]
async fn retried_transitions_replay_the_first_answer_and_write_nothing_more() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("idem-tr")).await;
    let v = app.variant_with_stock(&t.token, "IDEM-TR", 20).await;
    let place = Call::post(
        "/v1/orders",
        json!({"lines": [{"variantId": v, "quantity": 3}]}),
    );

    let placed = assert_replayed(
        &app,
        &t.token,
        place.clone(),
        "place-1",
        &v,
        StatusCode::CREATED,
    )
    .await;
    let order = placed.body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.states_of(&t.token, &v).await, (17, 20, 3));
    // Cancel: the same cancel without the key is 409 by now; with it, the first 200 again.
    let cancel = Call::post(format!("/v1/orders/{order}/cancel"), json!({}));
    let cancelled = assert_replayed(
        &app,
        &t.token,
        cancel.clone(),
        "cancel-1",
        &v,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cancelled.body["status"], "CANCELLED");
    assert_eq!(
        app.send(&t.token, &cancel).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.states_of(&t.token, &v).await,
        (20, 20, 0),
        "the commitment is released"
    );
    assert!(app
        .movements_of_order(&t.token, &v, &order)
        .await
        .is_empty());

    // Fulfil, which sells with a SALE that a re-run would write again, then a partial return.
    let placed = assert_replayed(&app, &t.token, place, "place-2", &v, StatusCode::CREATED).await;
    let order = placed.body["id"].as_str().unwrap().to_owned();
    let fulfil = Call::post(format!("/v1/orders/{order}/fulfil"), json!({}));
    assert_replayed(&app, &t.token, fulfil, "fulfil-1", &v, StatusCode::OK).await;
    assert_eq!(app.states_of(&t.token, &v).await, (17, 17, 0));
    let of_order = app.movements_of_order(&t.token, &v, &order).await;
    assert_eq!(of_order.len(), 1, "one SALE: {of_order:?}");
    assert_eq!(
        (&of_order[0]["type"], &of_order[0]["quantity"]),
        (&json!("SALE"), &json!(-3))
    );
    let ret = Call::post(
        format!("/v1/orders/{order}/returns"),
        json!({"lines": [{"variantId": v, "quantity": 1}], "reason": "damaged"}),
    );
    let returned = assert_replayed(&app, &t.token, ret, "return-1", &v, StatusCode::CREATED).await;
    assert_eq!(returned.body["lines"][0]["returned"], 1);
    assert_eq!(
        app.states_of(&t.token, &v).await,
        (20 - 3 + 1, 20 - 3 + 1, 0)
    );

    // Purchase order: submit, then a partial receipt that a re-run would apply again.
    let (_, supplier) = app
        .post("/v1/suppliers", &t.token, json!({"name": "Mill"}))
        .await;
    let (status, po) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": supplier["id"], "lines": [{"variantId": v, "quantity": 10, "unitCost": 100}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{po}");
    let po = po["id"].as_str().unwrap().to_owned();
    let submit = Call::post(format!("/v1/purchase-orders/{po}/submit"), json!({}));
    assert_replayed(&app, &t.token, submit, "submit-1", &v, StatusCode::OK).await;
    let receipt = Call::post(
        format!("/v1/purchase-orders/{po}/receipts"),
        json!({"lines": [{"variantId": v, "quantity": 4}]}),
    );
    let received = assert_replayed(
        &app,
        &t.token,
        receipt,
        "receipt-1",
        &v,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(received.body["lines"][0]["received"], 4);
    let (_, po) = app
        .get(&format!("/v1/purchase-orders/{po}"), &t.token)
        .await;
    assert_eq!(po["lines"][0]["received"], 4, "received once: {po}");
    assert_eq!(
        app.states_of(&t.token, &v).await,
        (20 - 3 + 1 + 4, 20 - 3 + 1 + 4, 0)
    );

    let movements = app.movements_of(&t.token, &v).await;
    let of = |kind: &str| movements.iter().filter(|m| m["type"] == kind).count();
    assert_eq!(
        (of("ADJUSTMENT"), of("SALE"), of("RETURN"), of("PURCHASE")),
        (1, 1, 1, 1),
        "the initial count, the fulfilled order's sale, the return and the receipt, once each"
    );
    assert_eq!(movements.len(), 4);
    app.assert_audit_clean(&t.token).await;
}

/// The `Idempotency-Key` of a request still in flight: held at a known point by a gate on the
/// lock of the variant's level at the default location (where the order committed its units),
/// after its use case took the key and before it writes. This proves what
/// a second request with that key answers while the first one is running, and that the first
/// one still writes exactly once; it runs on the in-process lock, not on Redis. The second
/// request waits the use cases' whole key wait (10 s) before it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_still_in_flight_answers_409_and_the_first_request_writes_once() {
    let gate = GatedLock::new();
    let Some(app) = spawn_app_with_lock(gate.clone()).await else {
        return;
    };
    let t = app.register(&slug("inflight")).await;
    let v = app.variant_with_stock(&t.token, "FLIGHT-1", 10).await;
    let (status, order) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 3}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let order = order["id"].as_str().unwrap().to_owned();

    let tenant: TenantId = t.id.parse().unwrap();
    let variant: VariantId = v.parse().unwrap();
    let main: LocationId = app.default_location(&t.token).await.parse().unwrap();
    gate.shut(LockKey::level(&tenant, &Level::new(variant, main)));
    let cancel = Call::post(format!("/v1/orders/{order}/cancel"), json!({})).with_key("cancel-k");
    let first = app.spawn_send(&t.token, cancel.clone());
    gate.until_waiting(1).await;

    let second = tokio::time::timeout(Duration::from_secs(30), app.send(&t.token, &cancel))
        .await
        .expect("the second request answers while the first is still in flight");
    assert_problem(second.status, &second.body, StatusCode::CONFLICT);
    assert_eq!(
        second.problem_type(),
        Some("/problems/idempotency-key-in-progress"),
        "{}",
        second.body
    );
    assert!(
        !first.is_finished(),
        "the first request is still held at the gate"
    );
    assert_eq!(
        app.states_of(&t.token, &v).await,
        (7, 10, 3),
        "nothing released yet"
    );
    assert_eq!(app.movements_of_order(&t.token, &v, &order).await.len(), 0);

    gate.open();
    let first = tokio::time::timeout(Duration::from_secs(30), first)
        .await
        .expect("the first request finishes once the gate opens")
        .unwrap();
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(!first.replayed);
    assert_eq!(first.body["status"], "CANCELLED");

    let third = app.send(&t.token, &cancel).await;
    assert_eq!(
        (third.status, third.replayed),
        (StatusCode::OK, true),
        "{}",
        third.body
    );
    assert_eq!(third.raw, first.raw);
    let (_, now) = app.get(format!("/v1/orders/{order}"), &t.token).await;
    assert_eq!(now["status"], "CANCELLED", "{now}");
    assert_eq!(
        app.states_of(&t.token, &v).await,
        (10, 10, 0),
        "released once"
    );
    let of_order = app.movements_of_order(&t.token, &v, &order).await;
    assert!(of_order.is_empty(), "a release moves nothing: {of_order:?}");
    app.assert_audit_clean(&t.token).await;
}

/// Sixteen requests with one key at once: exactly one is answered fresh; every other one is
/// either its replay or (had it waited out the key) a 409 in progress — never a second write.
/// Which of the two a loser gets depends on timing, so only the shape is asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_same_key_cancels_write_once() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("idem-race")).await;
    let v = app.variant_with_stock(&t.token, "IDEM-RACE", 10).await;
    let (status, order) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 4}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let order = order["id"].as_str().unwrap().to_owned();
    assert_eq!(app.states_of(&t.token, &v).await, (6, 10, 4));
    let cancel = Call::post(format!("/v1/orders/{order}/cancel"), json!({})).with_key("race-k");
    let answers = app.race(&t.token, vec![cancel; 16]).await;

    let fresh_ok: Vec<&Answer> = answers
        .iter()
        .filter(|r| !r.replayed && r.status == StatusCode::OK)
        .collect();
    assert_eq!(
        fresh_ok.len(),
        1,
        "exactly one fresh cancel: {:?}",
        summary(&answers)
    );
    for answer in &answers {
        if answer.replayed {
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.raw, fresh_ok[0].raw, "a replay is the fresh answer");
        } else if answer.status != StatusCode::OK {
            assert_eq!(
                answer.problem_type(),
                Some("/problems/idempotency-key-in-progress"),
                "a loser is a replay or in progress, never a re-run: {}",
                answer.body
            );
        }
    }
    assert_eq!(
        app.states_of(&t.token, &v).await,
        (10, 10, 0),
        "released once"
    );
    let of_order = app.movements_of_order(&t.token, &v, &order).await;
    assert!(of_order.is_empty(), "a release moves nothing: {of_order:?}");
    assert_eq!(
        app.movements_of(&t.token, &v).await.len(),
        1,
        "only the initial count"
    );
    app.assert_audit_clean(&t.token).await;
}
