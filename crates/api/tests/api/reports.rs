//! Reports over HTTP: shapes, values, roles and limits.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, slug, spawn_app};

#[tokio::test]
async fn reports_answer_from_the_ledger() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("rep")).await;
    let staff = app.user_token(&t, "STAFF").await;
    // reorderLevel 2 (helper default); 10 in, then 9 sold: stock 1 is low.
    let v = app.variant_with_stock(&t.token, "REP-1", 10).await;
    let mut orders = Vec::new();
    for _ in 0..3 {
        let (status, body) = app
            .post(
                "/v1/orders",
                &t.token,
                json!({"lines": [{"variantId": v, "quantity": 3}]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        orders.push(body["id"].as_str().unwrap().to_owned());
    }
    // Reports count SALEs when they happen: at fulfilment, not when the orders are placed.
    let sales = |movements: Vec<serde_json::Value>| {
        movements.iter().filter(|m| m["type"] == "SALE").count()
    };
    assert_eq!(sales(app.movements_of(&t.token, &v).await), 0);
    app.fulfil_all(&t.token, &orders).await;
    assert_eq!(sales(app.movements_of(&t.token, &v).await), 3);
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::days(2)).to_rfc3339();
    let to = (now + chrono::Duration::days(1)).to_rfc3339();
    let enc = |s: &str| s.replace('+', "%2B");

    let (status, series) = app
        .get(
            format!(
                "/v1/reports/movements?from={}&to={}&bucket=day&tz=Europe/Berlin",
                enc(&from),
                enc(&to)
            ),
            &t.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{series}");
    let buckets = series["buckets"].as_array().unwrap();
    assert!(buckets.len() >= 3, "{series}");
    let totals = |kind: &str| -> (i64, i64) {
        buckets.iter().fold((0, 0), |(c, q), b| {
            let t = b["movements"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["type"] == kind)
                .unwrap();
            (
                c + t["count"].as_i64().unwrap(),
                q + t["quantity"].as_i64().unwrap(),
            )
        })
    };
    assert_eq!(totals("SALE"), (3, -9));
    assert_eq!(totals("ADJUSTMENT"), (1, 10));
    assert_eq!(totals("TRANSFER_OUT"), (0, 0));
    assert_eq!(totals("TRANSFER_IN"), (0, 0));
    assert!(
        buckets
            .iter()
            .all(|b| b["movements"].as_array().unwrap().len() == 6),
        "every kind, transfers too, zeros included"
    );

    let (status, low) = app.get("/v1/reports/low-stock", &staff).await;
    assert_eq!(status, StatusCode::OK, "{low}");
    assert_eq!(low["items"][0]["variant"]["id"], v.as_str());
    assert_eq!(low["items"][0]["averageDailySales"], 0.3);
    assert_eq!(
        low["items"][0]["stock"], 1,
        "the total, asked about no location"
    );
    assert_eq!(low["items"][0]["suggestedQuantity"], 9 + 2 - 1);

    let (status, movers) = app
        .get(
            format!(
                "/v1/reports/top-movers?from={}&to={}&type=SALE",
                enc(&from),
                enc(&to)
            ),
            &t.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{movers}");
    assert_eq!(movers["items"][0]["quantity"], 9);
    assert_eq!(movers["items"][0]["movements"], 3);

    let (status, valuation) = app.get("/v1/reports/valuation", &t.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        valuation["total"], 0,
        "nothing was purchased: no cost basis"
    );

    let (status, at) = app
        .get(
            format!("/v1/variants/{v}/stock?at={}", enc(&from)),
            &t.token,
        )
        .await;
    assert_eq!((status, at["stock"].as_i64()), (StatusCode::OK, Some(0)));
    let (_, now_stock) = app.get(format!("/v1/variants/{v}/stock"), &t.token).await;
    assert_eq!(now_stock["stock"], 1);

    // A reorder draft from the suggestions.
    let (_, supplier) = app
        .post("/v1/suppliers", &t.token, json!({"name": "S"}))
        .await;
    let (status, po) = app
        .post(
            "/v1/reports/low-stock/purchase-orders",
            &t.token,
            json!({"supplierId": supplier["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{po}");
    assert_eq!(po["status"], "DRAFT");
    assert_eq!(po["lines"][0]["quantity"], 10);

    // Roles and limits.
    let (status, body) = app
        .get(
            format!("/v1/reports/movements?from={}&to={}", enc(&from), enc(&to)),
            &staff,
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = app
        .get(
            "/v1/reports/movements?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=hour",
            &t.token,
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "bucket");
    let (status, body) = app
        .get("/v1/reports/movements?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&tz=Mars/Olympus", &t.token)
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "tz");
}
