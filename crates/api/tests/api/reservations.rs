//! Checkout holds over HTTP: placing, reading, listing, confirming into an order, releasing,
//! extending; their expiry, exact without a sweep; the sweep that stores it and says so.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use reqwest::StatusCode;
use rust_socketio::asynchronous::ClientBuilder;
use rust_socketio::{Event, Payload};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::helpers::{assert_problem, slug, spawn_app, spawn_app_configured, Call, TestApp};

/// A hold of `lines` (variant, quantity) for `ttl` seconds; asserts 201 and returns it.
async fn reserve(app: &TestApp, token: &str, lines: &[(&str, i64)], ttl: i64) -> Value {
    let (status, body) = app.post("/v1/reservations", token, hold(lines, ttl)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn hold(lines: &[(&str, i64)], ttl: i64) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(v, q)| json!({"variantId": v, "quantity": q}))
        .collect();
    json!({"lines": lines, "ttlSeconds": ttl})
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().unwrap().to_owned()
}

fn instant(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("{value}")))
        .unwrap()
        .with_timezone(&Utc)
}

/// `(stock, onHand, committed, reserved)` of a variant.
async fn states(app: &TestApp, token: &str, variant: &str) -> (i64, i64, i64, i64) {
    let v = app.variant(token, variant).await;
    let n = |f: &str| v[f].as_i64().unwrap_or_else(|| panic!("{f}: {v}"));
    (n("stock"), n("onHand"), n("committed"), n("reserved"))
}

/// The field names of a 422's `errors`.
fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a validation problem: {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

async fn order(app: &TestApp, token: &str, variant: &str, quantity: i64) -> (StatusCode, Value) {
    app.post(
        "/v1/orders",
        token,
        json!({"lines": [{"variantId": variant, "quantity": quantity}]}),
    )
    .await
}

#[tokio::test]
async fn staff_hold_units_and_confirm_them_into_an_order() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("hold")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let (_, me) = app.get("/v1/me", &staff).await;
    let main = app.default_location(&t.token).await;
    let v = app.variant_with_stock(&t.token, "HOLD-A", 10).await;

    let before = Utc::now();
    let (status, held) = app
        .post(
            "/v1/reservations",
            &staff,
            json!({"lines": [{"variantId": v, "quantity": 2}, {"variantId": v, "quantity": 1}],
                   "ttlSeconds": 900, "reference": "cart-7f3a"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    assert_eq!(held["status"], "ACTIVE");
    assert_eq!(held["reference"], "cart-7f3a");
    assert_eq!(held["orderId"], Value::Null);
    assert_eq!(held["createdBy"], me["user"]["id"]);
    assert_eq!(
        held["lines"],
        json!([{"variantId": v, "sku": "HOLD-A", "quantity": 3,
                "allocations": [{"locationId": main, "quantity": 3}]}]),
        "lines of one variant merge"
    );
    let expires = instant(&held["expiresAt"]);
    let ttl = expires - instant(&held["createdAt"]);
    assert_eq!(ttl.num_seconds(), 900, "{held}");
    assert!(expires >= before + chrono::Duration::seconds(899), "{held}");
    let id = id_of(&held);

    // Held: still on the shelf, no longer available; nothing moved.
    assert_eq!(states(&app, &t.token, &v).await, (7, 10, 0, 3));
    let level = &app.variant(&t.token, &v).await["levels"][0];
    assert_eq!(
        (&level["reserved"], &level["stock"]),
        (&json!(3), &json!(7))
    );
    assert_eq!(app.movements_of(&t.token, &v).await.len(), 1);
    let (status, read) = app.get(format!("/v1/reservations/{id}"), &staff).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read, held, "read back as placed");

    let (status, placed) = app
        .post(
            format!("/v1/reservations/{id}/confirm"),
            &staff,
            json!({"customer": {"name": "Grace", "email": "grace@example.com"}, "note": "gift wrap"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    assert_eq!(placed["status"], "PLACED");
    assert_eq!(placed["customer"]["name"], "Grace");
    assert_eq!(placed["note"], "gift wrap");
    assert_eq!(placed["total"], 3000);
    assert_eq!(
        placed["lines"][0]["allocations"],
        json!([{"locationId": main, "quantity": 3, "returned": 0}])
    );
    let order_id = id_of(&placed);
    let (_, listed) = app.get(format!("/v1/orders/{order_id}"), &t.token).await;
    assert_eq!(listed["id"], order_id.as_str());

    // Confirmed: the held units are the order's commitment now.
    assert_eq!(states(&app, &t.token, &v).await, (7, 10, 3, 0));
    let (_, read) = app.get(format!("/v1/reservations/{id}"), &staff).await;
    assert_eq!(read["status"], "CONFIRMED", "{read}");
    assert_eq!(read["orderId"], order_id.as_str());

    // Not ACTIVE any more: every transition is a conflict and changes nothing.
    for (path, body) in [
        ("confirm", json!({})),
        ("release", json!({})),
        ("extend", json!({"ttlSeconds": 60})),
    ] {
        let (status, body) = app
            .post(format!("/v1/reservations/{id}/{path}"), &staff, body)
            .await;
        assert_problem(status, &body, StatusCode::CONFLICT);
        assert!(
            body["detail"].as_str().unwrap().contains("CONFIRMED"),
            "{body}"
        );
    }
    assert_eq!(states(&app, &t.token, &v).await, (7, 10, 3, 0));

    app.fulfil_all(&t.token, std::slice::from_ref(&order_id))
        .await;
    assert_eq!(states(&app, &t.token, &v).await, (7, 7, 0, 0));
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn a_hold_refuses_what_is_not_available_and_releasing_gives_it_back() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("release")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let v = app.variant_with_stock(&t.token, "HOLD-B", 5).await;
    let held = reserve(&app, &staff, &[(&v, 4)], 900).await;
    let id = id_of(&held);

    // The held units are not available to orders or to other holds.
    let (status, body) = order(&app, &t.token, &v, 2).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["type"], "/problems/insufficient-stock");
    let (status, body) = app
        .post("/v1/reservations", &staff, hold(&[(&v, 2)], 900))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["type"], "/problems/insufficient-stock", "{body}");
    assert_eq!(
        body["shortages"],
        json!([{"variantId": v, "requested": 2, "available": 1}])
    );
    let (_, all) = app.get("/v1/reservations", &staff).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "nothing held");

    let (status, released) = app
        .call(
            reqwest::Method::POST,
            &format!("/v1/reservations/{id}/release"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{released}");
    assert_eq!(released["status"], "RELEASED");
    assert_eq!(released["id"], id.as_str());
    assert_eq!(states(&app, &t.token, &v).await, (5, 5, 0, 0));
    let (status, body) = app
        .post(format!("/v1/reservations/{id}/release"), &staff, json!({}))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert!(
        body["detail"].as_str().unwrap().contains("RELEASED"),
        "{body}"
    );
    let (status, body) = app
        .post(format!("/v1/reservations/{id}/confirm"), &staff, json!({}))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, _) = order(&app, &t.token, &v, 5).await;
    assert_eq!(status, StatusCode::CREATED, "every unit available again");
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn extending_holds_the_units_for_the_new_ttl_from_now() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("extend")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let v = app.variant_with_stock(&t.token, "HOLD-C", 3).await;
    let held = reserve(&app, &staff, &[(&v, 2)], 60).await;
    let id = id_of(&held);

    let asked = Utc::now();
    let (status, longer) = app
        .post(
            format!("/v1/reservations/{id}/extend"),
            &staff,
            json!({"ttlSeconds": 3600}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{longer}");
    assert_eq!(longer["status"], "ACTIVE");
    let expires = instant(&longer["expiresAt"]);
    assert!(
        expires >= asked + chrono::Duration::seconds(3599)
            && expires <= Utc::now() + chrono::Duration::seconds(3600),
        "{longer}"
    );
    let (status, shorter) = app
        .post(
            format!("/v1/reservations/{id}/extend"),
            &staff,
            json!({"ttlSeconds": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shorter}");
    assert!(
        instant(&shorter["expiresAt"]) < expires,
        "shorter is allowed"
    );
    assert_eq!(states(&app, &t.token, &v).await, (1, 3, 0, 2));

    for bad in [0, 86_401] {
        let (status, body) = app
            .post(
                format!("/v1/reservations/{id}/extend"),
                &staff,
                json!({"ttlSeconds": bad}),
            )
            .await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&body), vec!["ttlSeconds"], "{body}");
    }
    let (_, read) = app.get(format!("/v1/reservations/{id}"), &staff).await;
    assert_eq!(
        read["expiresAt"], shorter["expiresAt"],
        "refusals wrote nothing"
    );
}

#[tokio::test]
async fn ttl_seconds_outside_one_to_a_day_is_refused_naming_the_field() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("ttl")).await;
    let v = app.variant_with_stock(&t.token, "HOLD-D", 5).await;
    for bad in [0, -1, 86_401] {
        let (status, body) = app
            .post("/v1/reservations", &t.token, hold(&[(&v, 1)], bad))
            .await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&body), vec!["ttlSeconds"], "{bad}: {body}");
    }
    for good in [1, 86_400] {
        let held = reserve(&app, &t.token, &[(&v, 1)], good).await;
        let ttl = instant(&held["expiresAt"]) - instant(&held["createdAt"]);
        assert_eq!(ttl.num_seconds(), good, "{held}");
    }

    // Every bad field of a request is named at once.
    let (status, body) = app
        .post(
            "/v1/reservations",
            &t.token,
            json!({"lines": [{"variantId": "nope", "quantity": 0, "locationId": "nowhere"}],
                   "ttlSeconds": 0}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&body),
        vec![
            "lines[0].variantId",
            "lines[0].quantity",
            "lines[0].locationId",
            "ttlSeconds"
        ],
        "{body}"
    );
    let (status, body) = app
        .post(
            "/v1/reservations",
            &t.token,
            json!({"lines": [], "ttlSeconds": 60}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["lines"], "{body}");
    let (status, body) = app
        .post(
            "/v1/reservations",
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 1}]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["ttlSeconds"], "missing: {body}");
}

#[tokio::test]
async fn the_list_filters_by_status_now_and_pages_newest_first() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("list")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let v = app.variant_with_stock(&t.token, "HOLD-E", 20).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(id_of(&reserve(&app, &staff, &[(&v, 1)], 900).await));
    }
    let (status, _) = app
        .post(
            format!("/v1/reservations/{}/release", ids[0]),
            &staff,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post(
            format!("/v1/reservations/{}/confirm", ids[1]),
            &staff,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let listed = |query: &'static str| {
        let (app, staff) = (&app, &staff);
        async move {
            let (status, body) = app.get(format!("/v1/reservations{query}"), staff).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(listed("").await, newest_first);
    assert_eq!(
        listed("?status=ACTIVE").await,
        vec![ids[3].clone(), ids[2].clone()]
    );
    assert_eq!(listed("?status=RELEASED").await, vec![ids[0].clone()]);
    assert_eq!(listed("?status=CONFIRMED").await, vec![ids[1].clone()]);
    assert_eq!(listed("?status=EXPIRED").await, Vec::<String>::new());

    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .get(format!("/v1/reservations?limit=1&cursor={cursor}"), &staff)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page["items"].as_array().unwrap().len() <= 1);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, newest_first, "every reservation once");

    let (status, body) = app.get("/v1/reservations?status=HELD", &staff).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["status"], "{body}");
    let (status, body) = app.get("/v1/reservations?limit=0", &staff).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn another_tenants_reservation_is_not_found() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let a = app.register(&slug("hold-a")).await;
    let b = app.register(&slug("hold-b")).await;
    let v = app.variant_with_stock(&a.token, "HOLD-F", 5).await;
    let id = id_of(&reserve(&app, &a.token, &[(&v, 2)], 900).await);

    let (status, body) = app.get(format!("/v1/reservations/{id}"), &b.token).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    for (path, body) in [
        ("confirm", json!({})),
        ("release", json!({})),
        ("extend", json!({"ttlSeconds": 60})),
    ] {
        let (status, body) = app
            .post(format!("/v1/reservations/{id}/{path}"), &b.token, body)
            .await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
    }
    let (_, listed) = app.get("/v1/reservations", &b.token).await;
    assert_eq!(listed["items"], json!([]));
    // Nor can another tenant hold this tenant's variant.
    let (status, body) = app
        .post("/v1/reservations", &b.token, hold(&[(&v, 1)], 60))
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["lines[0].variantId"], "{body}");
    let (status, body) = app.get("/v1/reservations/not-an-id", &a.token).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);

    let (_, read) = app.get(format!("/v1/reservations/{id}"), &a.token).await;
    assert_eq!(read["status"], "ACTIVE", "untouched: {read}");
    assert_eq!(states(&app, &a.token, &v).await, (3, 5, 0, 2));
}

#[tokio::test]
async fn placing_and_confirming_replay_under_the_same_idempotency_key() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("hold-idem")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let v = app.variant_with_stock(&t.token, "HOLD-G", 5).await;

    let place = Call::post("/v1/reservations", hold(&[(&v, 2)], 900)).with_key("hold-1");
    let first = app.send(&staff, &place).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(!first.replayed);
    let again = app.send(&staff, &place).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(again.replayed, "a replay says so");
    assert_eq!(again.raw, first.raw, "byte for byte");
    assert_eq!(states(&app, &t.token, &v).await, (3, 5, 0, 2), "held once");
    let (_, all) = app.get("/v1/reservations", &staff).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    let changed = Call::post("/v1/reservations", hold(&[(&v, 1)], 900)).with_key("hold-1");
    let reused = app.send(&staff, &changed).await;
    assert_eq!(
        reused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reused.body
    );

    let id = id_of(&first.body);
    let confirm = Call::post(format!("/v1/reservations/{id}/confirm"), json!({})).with_key("pay-1");
    let placed = app.send(&staff, &confirm).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let replayed = app.send(&staff, &confirm).await;
    assert_eq!(replayed.status, StatusCode::CREATED, "not a 409");
    assert!(replayed.replayed);
    assert_eq!(replayed.raw, placed.raw);
    let (_, orders) = app.get("/v1/orders", &t.token).await;
    assert_eq!(orders["items"].as_array().unwrap().len(), 1, "one order");
    assert_eq!(states(&app, &t.token, &v).await, (3, 5, 2, 0));

    // Without the key, a second confirmation is the conflict it is.
    let unkeyed = app
        .send(
            &staff,
            &Call::post(format!("/v1/reservations/{id}/confirm"), json!({})),
        )
        .await;
    assert_eq!(unkeyed.status, StatusCode::CONFLICT, "{}", unkeyed.body);
}

#[tokio::test]
async fn an_expired_hold_reads_expired_at_once_and_its_units_are_available_without_a_sweep() {
    // No sweep runs during this test (only the one at start-up, before anything is held).
    let Some((app, _)) = spawn_app_configured(Default::default(), |config| {
        config.reservation_sweep = Duration::from_secs(3600);
    })
    .await
    else {
        return;
    };
    let t = app.register(&slug("expiry")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let v = app.variant_with_stock(&t.token, "HOLD-H", 2).await;
    let held = reserve(&app, &staff, &[(&v, 2)], 1).await;
    let id = id_of(&held);
    let (status, _) = order(&app, &t.token, &v, 1).await;
    assert_eq!(status, StatusCode::CONFLICT, "held while live");

    let wait = instant(&held["expiresAt"]) - Utc::now() + chrono::Duration::milliseconds(100);
    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;

    let (_, read) = app.get(format!("/v1/reservations/{id}"), &staff).await;
    assert_eq!(read["status"], "EXPIRED", "{read}");
    assert_eq!(read["expiresAt"], held["expiresAt"]);
    assert_eq!(states(&app, &t.token, &v).await, (2, 2, 0, 0));
    let (_, expired) = app.get("/v1/reservations?status=EXPIRED", &staff).await;
    assert_eq!(expired["items"][0]["id"], id.as_str(), "{expired}");
    assert_eq!(expired["items"][0]["status"], "EXPIRED");
    let (_, active) = app.get("/v1/reservations?status=ACTIVE", &staff).await;
    assert_eq!(active["items"], json!([]));

    // Its units serve an order placed right after.
    let (status, placed) = order(&app, &t.token, &v, 2).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    assert_eq!(states(&app, &t.token, &v).await, (0, 2, 2, 0));
    for (path, body) in [
        ("confirm", json!({})),
        ("release", json!({})),
        ("extend", json!({"ttlSeconds": 60})),
    ] {
        let (status, body) = app
            .post(format!("/v1/reservations/{id}/{path}"), &staff, body)
            .await;
        assert_problem(status, &body, StatusCode::CONFLICT);
        assert!(
            body["detail"].as_str().unwrap().contains("EXPIRED"),
            "{body}"
        );
    }
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn the_sweep_stores_an_expired_hold_and_announces_it() {
    let Some((app, socket_port)) = spawn_app_configured(Default::default(), |config| {
        config.reservation_sweep = Duration::from_secs(1);
    })
    .await
    else {
        return;
    };
    let t = app.register(&slug("sweep")).await;
    let v = app.variant_with_stock(&t.token, "HOLD-I", 3).await;
    let mut events = listen(socket_port, &t.token).await;

    let held = reserve(&app, &t.token, &[(&v, 2)], 1).await;
    let id = id_of(&held);
    let expired = events
        .until("reservation.expired", Duration::from_secs(15))
        .await;
    assert_eq!(expired["reservationId"], id.as_str(), "{expired}");
    assert_eq!(expired["tenantId"], t.id.as_str());
    assert_eq!(
        instant(&expired["expiredAt"]),
        instant(&held["expiresAt"]),
        "{expired}"
    );
    assert!(instant(&expired["at"]) >= instant(&expired["expiredAt"]));

    let heard = events.heard();
    let created = heard
        .iter()
        .find(|(name, _)| name == "reservation.created")
        .map(|(_, e)| e)
        .expect("reservation.created was heard");
    assert_eq!(created["reservationId"], id.as_str());
    assert_eq!(created["units"], 2);
    assert_eq!(created["expiresAt"], held["expiresAt"]);
    let held_change = heard
        .iter()
        .find(|(name, e)| name == "stock.changed" && e["reservationId"] == id.as_str())
        .map(|(_, e)| e)
        .expect("the hold's stock.changed names its reservation");
    assert_eq!(
        (&held_change["reserved"], &held_change["stock"]),
        (&json!(2), &json!(1)),
        "{held_change}"
    );
    assert_eq!(held_change["movementType"], Value::Null);

    let (_, read) = app.get(format!("/v1/reservations/{id}"), &t.token).await;
    assert_eq!(read["status"], "EXPIRED");
    assert_eq!(states(&app, &t.token, &v).await, (3, 3, 0, 0));
    // Swept once: no second announcement.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let again: Vec<_> = events
        .drain()
        .into_iter()
        .filter(|(name, _)| name == "reservation.expired")
        .collect();
    assert!(again.is_empty(), "{again:?}");
    app.assert_audit_clean(&t.token).await;
}

/// The events a Socket.IO client of a tenant hears.
struct Events {
    _client: rust_socketio::asynchronous::Client,
    incoming: mpsc::UnboundedReceiver<(String, Value)>,
    heard: Vec<(String, Value)>,
}

impl Events {
    /// Waits (at most `within`) for the first event named `name`, keeping what came before it.
    async fn until(&mut self, name: &str, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.incoming.recv()).await {
                Ok(Some((event, payload))) => {
                    self.heard.push((event.clone(), payload.clone()));
                    if event == name {
                        return payload;
                    }
                }
                _ => panic!("no {name} within {within:?}; heard {:?}", self.heard),
            }
        }
    }

    fn heard(&self) -> &[(String, Value)] {
        &self.heard
    }

    /// Whatever arrived since, without waiting.
    fn drain(&mut self) -> Vec<(String, Value)> {
        let mut more = Vec::new();
        while let Ok(e) = self.incoming.try_recv() {
            more.push(e);
        }
        more
    }
}

/// A Socket.IO client connected with `token`.
async fn listen(port: u16, token: &str) -> Events {
    let (tx, incoming) = mpsc::unbounded_channel();
    let (connected_tx, mut connected) = mpsc::unbounded_channel::<()>();
    let client = ClientBuilder::new(format!("http://127.0.0.1:{port}/"))
        .reconnect(false)
        .auth(json!({ "token": token }))
        .on_any(move |event, payload, _| {
            let tx = tx.clone();
            async move {
                if let Payload::Text(values) = payload {
                    let first = values.into_iter().next().unwrap_or(Value::Null);
                    let _ = tx.send((event.as_str().to_owned(), first));
                }
            }
            .boxed()
        })
        .on(Event::Connect, move |_, _| {
            let connected_tx = connected_tx.clone();
            async move {
                let _ = connected_tx.send(());
            }
            .boxed()
        })
        .connect()
        .await
        .expect("the Socket.IO client connects");
    tokio::time::timeout(Duration::from_secs(5), connected.recv())
        .await
        .expect("connected in time");
    // The room is joined as the connection is accepted; give the server a moment.
    tokio::time::sleep(Duration::from_millis(100)).await;
    Events {
        _client: client,
        incoming,
        heard: Vec::new(),
    }
}
