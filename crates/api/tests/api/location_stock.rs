//! Stock writes and reads that name a location: adjustments (and their compare-and-set, which
//! compares the level), purchase orders bound for a location (received there, incoming there),
//! the ledger filtered by location, and the reports asked about one location.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, slug, spawn_app, unclaimed};

fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_adjustment_names_its_level_and_its_expected_stock_is_the_levels() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("ls-adj")).await;
    let main = app.default_location(&t.token).await;
    let back = app.location(&t.token, "BACK", 10).await;
    let v = app.variant_with_stock(&t.token, "LSA-1", 5).await;
    let path = format!("/v1/variants/{v}/adjustments");

    let (status, adjusted) = app
        .post(
            &path,
            &t.token,
            json!({"quantity": 3, "reason": "found", "locationId": back, "expectedStock": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{adjusted}");
    assert_eq!(adjusted["stock"], 8, "the variant's total");
    assert_eq!(adjusted["levelStock"], 3, "the level's");
    assert_eq!(adjusted["movement"]["locationId"], back.as_str());
    assert_eq!(adjusted["movement"]["stockAfter"], 3);
    assert!(adjusted["movement"]["transferId"].is_null());

    // The expectation is compared with the level, not the total nor another level.
    for expected in [8, 5] {
        let (status, body) = app
            .post(
                &path,
                &t.token,
                json!({"quantity": 1, "reason": "x", "locationId": back, "expectedStock": expected}),
            )
            .await;
        assert_problem(status, &body, StatusCode::CONFLICT);
    }
    let (status, body) = app
        .post(
            &path,
            &t.token,
            json!({"quantity": 1, "reason": "x", "locationId": back, "expectedStock": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (&body["stock"], &body["levelStock"]),
        (&json!(9), &json!(4))
    );

    // A level never goes below zero, whatever the other levels hold.
    let (status, body) = app
        .post(
            &path,
            &t.token,
            json!({"quantity": -5, "reason": "x", "locationId": back}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    // Without a location: the default's level, and the expectation is the default's.
    let (status, body) = app
        .post(
            &path,
            &t.token,
            json!({"quantity": -1, "reason": "x", "expectedStock": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["movement"]["locationId"], main.as_str());
    assert_eq!(
        (&body["stock"], &body["levelStock"]),
        (&json!(8), &json!(4))
    );

    // A level that does not exist yet reads as 0.
    let fresh = app.location(&t.token, "FRESH", 10).await;
    let (status, body) = app
        .post(
            &path,
            &t.token,
            json!({"quantity": 1, "reason": "x", "locationId": fresh, "expectedStock": 1}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, body) = app
        .post(
            &path,
            &t.token,
            json!({"quantity": -1, "reason": "x", "locationId": fresh}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    // Unknown and malformed locations are 422 naming the field.
    for location in [json!(uuid::Uuid::now_v7()), json!("nowhere")] {
        let (status, body) = app
            .post(
                &path,
                &t.token,
                json!({"quantity": 1, "reason": "x", "locationId": location}),
            )
            .await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&body), vec!["locationId"], "{body}");
    }

    // The variant lists its levels by location id; refusals wrote nothing.
    let variant = app.variant(&t.token, &v).await;
    let mut expected = vec![
        unclaimed(
            json!({"locationId": main, "stock": 4, "onHand": 4, "committed": 0, "incoming": 0}),
        ),
        unclaimed(
            json!({"locationId": back, "stock": 4, "onHand": 4, "committed": 0, "incoming": 0}),
        ),
    ];
    expected.sort_by_key(|l| l["locationId"].as_str().unwrap().to_owned());
    assert_eq!(variant["levels"], json!(expected), "{variant}");
    assert_eq!(variant["stock"], 8);
    assert_eq!(app.movements_of(&t.token, &v).await.len(), 4);
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn a_purchase_order_is_received_at_its_destination_and_incoming_there() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("ls-po")).await;
    let main = app.default_location(&t.token).await;
    let dock = app.location(&t.token, "DOCK", 10).await;
    let other = app.location(&t.token, "OTHER", 10).await;
    let v = app.variant_with_stock(&t.token, "LSP-1", 0).await;
    let (_, supplier) = app
        .post("/v1/suppliers", &t.token, json!({"name": "Mill"}))
        .await;
    let line = json!([{"variantId": v, "quantity": 10, "unitCost": 300}]);

    let (status, to_dock) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": supplier["id"], "locationId": dock, "lines": line}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{to_dock}");
    assert_eq!(to_dock["locationId"], dock.as_str());
    let (status, to_main) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": supplier["id"],
                   "lines": [{"variantId": v, "quantity": 4, "unitCost": 300}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{to_main}");
    assert_eq!(
        to_main["locationId"],
        main.as_str(),
        "the default when none is named"
    );
    let dock_po = to_dock["id"].as_str().unwrap().to_owned();
    let main_po = to_main["id"].as_str().unwrap().to_owned();

    // A draft's destination can change; a bad one is named.
    let (status, moved) = app
        .patch(
            format!("/v1/purchase-orders/{main_po}"),
            &t.token,
            json!({"locationId": other}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["locationId"], other.as_str());
    let (status, body) = app
        .patch(
            format!("/v1/purchase-orders/{main_po}"),
            &t.token,
            json!({"locationId": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["locationId"]);
    let (status, body) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": supplier["id"], "locationId": "nowhere", "lines": line}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["locationId"]);

    for po in [&dock_po, &main_po] {
        let (status, body) = app
            .post(
                format!("/v1/purchase-orders/{po}/submit"),
                &t.token,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let variant = app.variant(&t.token, &v).await;
    assert_eq!(variant["incoming"], 14, "{variant}");
    let mut expected = vec![
        unclaimed(
            json!({"locationId": dock, "stock": 0, "onHand": 0, "committed": 0, "incoming": 10}),
        ),
        unclaimed(
            json!({"locationId": other, "stock": 0, "onHand": 0, "committed": 0, "incoming": 4}),
        ),
    ];
    expected.sort_by_key(|l| l["locationId"].as_str().unwrap().to_owned());
    assert_eq!(
        variant["levels"],
        json!(expected),
        "a location with incoming units is listed: {variant}"
    );

    // A receipt lands at the destination.
    let (status, received) = app
        .post(
            format!("/v1/purchase-orders/{dock_po}/receipts"),
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 6}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{received}");
    assert_eq!(app.level_of(&t.token, &v, &dock).await, 6);
    assert_eq!(app.level_of(&t.token, &v, &main).await, 0);
    let (_, dock_levels) = app
        .get(format!("/v1/locations/{dock}/levels"), &t.token)
        .await;
    assert_eq!(
        (
            &dock_levels["items"][0]["stock"],
            &dock_levels["items"][0]["incoming"]
        ),
        (&json!(6), &json!(4)),
        "{dock_levels}"
    );
    let purchases = app
        .movements_where(&t.token, &format!("variantId={v}&type=PURCHASE"))
        .await;
    assert_eq!(purchases.len(), 1);
    assert_eq!(
        (
            &purchases[0]["locationId"],
            &purchases[0]["purchaseOrderId"]
        ),
        (&json!(dock), &json!(dock_po))
    );
    let variant = app.variant(&t.token, &v).await;
    assert_eq!(
        (&variant["stock"], &variant["incoming"]),
        (&json!(6), &json!(8))
    );
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn the_ledger_filters_by_location() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("ls-mov")).await;
    let main = app.default_location(&t.token).await;
    let b = app.location(&t.token, "B", 10).await;
    let x = app.variant_with_stock(&t.token, "LSM-X", 5).await;
    let y = app.variant_with_stock(&t.token, "LSM-Y", 0).await;
    app.adjust(&t.token, &x, Some(&b), 2).await;
    app.adjust(&t.token, &y, Some(&b), 7).await;
    app.adjust(&t.token, &y, Some(&b), -1).await;

    let at_b = app
        .movements_where(&t.token, &format!("locationId={b}"))
        .await;
    assert_eq!(at_b.len(), 3, "{at_b:?}");
    assert!(at_b.iter().all(|m| m["locationId"] == b.as_str()));
    assert_eq!(
        at_b[0]["stockAfter"], 6,
        "newest first, the level's stock after"
    );
    let at_main = app
        .movements_where(&t.token, &format!("locationId={main}"))
        .await;
    assert_eq!(at_main.len(), 1);
    assert_eq!(at_main[0]["variantId"], x.as_str());
    let x_at_b = app
        .movements_where(&t.token, &format!("locationId={b}&variantId={x}"))
        .await;
    assert_eq!(x_at_b.len(), 1);
    assert_eq!(x_at_b[0]["quantity"], 2);

    let (status, body) = app.get("/v1/movements?locationId=nowhere", &t.token).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["locationId"]);
}

#[tokio::test]
async fn reports_answer_for_one_location_or_for_all() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("ls-rep")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let main = app.default_location(&t.token).await;
    let kiosk = app.location(&t.token, "KIOSK", 10).await;
    // Reorder level 2: 10 at MAIN by purchase at 300 each, 1 at the kiosk by adjustment.
    let v = app.variant_with_stock(&t.token, "LSR-1", 0).await;
    app.variant_with_stock(&t.token, "LSR-2", 1).await;
    let (_, supplier) = app
        .post("/v1/suppliers", &t.token, json!({"name": "S"}))
        .await;
    let (_, po) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": supplier["id"],
                   "lines": [{"variantId": v, "quantity": 10, "unitCost": 300}]}),
        )
        .await;
    let po = po["id"].as_str().unwrap().to_owned();
    app.post(
        format!("/v1/purchase-orders/{po}/submit"),
        &t.token,
        json!({}),
    )
    .await;
    let (status, body) = app
        .post(
            format!("/v1/purchase-orders/{po}/receipts"),
            &t.token,
            json!({"lines": [{"variantId": v, "quantity": 10}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.adjust(&t.token, &v, Some(&kiosk), 1).await;

    // Low stock: the kiosk's level of LSR-1 is low; its total is not. LSR-2 has no level there.
    let low_skus = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["variant"]["sku"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, low) = app
        .get(format!("/v1/reports/low-stock?locationId={kiosk}"), &staff)
        .await;
    assert_eq!(status, StatusCode::OK, "{low}");
    assert_eq!(low_skus(&low), vec!["LSR-1"], "{low}");
    assert_eq!(low["items"][0]["stock"], 1, "the level's: {low}");
    let (_, low_all) = app.get("/v1/reports/low-stock", &staff).await;
    assert_eq!(low_skus(&low_all), vec!["LSR-2"], "{low_all}");
    let (_, low_main) = app
        .get(format!("/v1/reports/low-stock?locationId={main}"), &staff)
        .await;
    assert_eq!(low_skus(&low_main), vec!["LSR-2"], "{low_main}");

    // Valuation: the stock at the location, at the average cost of every purchase.
    let value_of = |body: &Value, sku: &str| -> (i64, i64) {
        let line = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["sku"] == sku)
            .unwrap_or_else(|| panic!("{sku} in {body}"))
            .clone();
        (
            line["stock"].as_i64().unwrap(),
            line["value"].as_i64().unwrap(),
        )
    };
    let (status, at_kiosk) = app
        .get(
            format!("/v1/reports/valuation?locationId={kiosk}"),
            &t.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{at_kiosk}");
    assert_eq!(value_of(&at_kiosk, "LSR-1"), (1, 300));
    assert_eq!(at_kiosk["total"], 300);
    let (_, everywhere) = app.get("/v1/reports/valuation", &t.token).await;
    assert_eq!(value_of(&everywhere, "LSR-1"), (11, 3300));
    assert_eq!(value_of(&everywhere, "LSR-2"), (1, 0), "never purchased");

    // Stock at a moment: the level's or the total.
    let enc = |s: String| s.replace('+', "%2B");
    let past = enc((chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339());
    for (query, expected) in [
        (format!("locationId={kiosk}"), 1),
        (format!("locationId={main}"), 10),
        (String::new(), 11),
        (format!("locationId={kiosk}&at={past}"), 0),
    ] {
        let (status, at) = app
            .get(format!("/v1/variants/{v}/stock?{query}"), &t.token)
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {at}");
        assert_eq!(at["stock"], expected, "{query}: {at}");
    }

    // The movement series at one location counts only its movements.
    let now = chrono::Utc::now();
    let from = enc((now - chrono::Duration::days(1)).to_rfc3339());
    let to = enc((now + chrono::Duration::days(1)).to_rfc3339());
    let totals = |series: &Value, kind: &str| -> (i64, i64) {
        series["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|b| b["movements"].as_array().unwrap().clone())
            .filter(|m| m["type"] == kind)
            .fold((0, 0), |(c, q), m| {
                (
                    c + m["count"].as_i64().unwrap(),
                    q + m["quantity"].as_i64().unwrap(),
                )
            })
    };
    let (status, series) = app
        .get(
            format!("/v1/reports/movements?from={from}&to={to}&bucket=day&locationId={kiosk}"),
            &t.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{series}");
    assert_eq!(totals(&series, "ADJUSTMENT"), (1, 1));
    assert_eq!(totals(&series, "PURCHASE"), (0, 0));
    let (_, all) = app
        .get(
            format!("/v1/reports/movements?from={from}&to={to}&bucket=day"),
            &t.token,
        )
        .await;
    assert_eq!(totals(&all, "PURCHASE"), (1, 10));
    assert_eq!(totals(&all, "ADJUSTMENT"), (2, 2));

    // A location the tenant does not have is 422 naming `locationId`, on every report.
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/v1/reports/low-stock?locationId={unknown}"),
        format!("/v1/reports/valuation?locationId={unknown}"),
        format!("/v1/variants/{v}/stock?locationId={unknown}"),
        format!("/v1/reports/movements?from={from}&to={to}&locationId={unknown}"),
        "/v1/reports/valuation?locationId=nowhere".to_owned(),
    ] {
        let (status, body) = app.get(&path, &t.token).await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&body), vec!["locationId"], "{path}: {body}");
    }
}
