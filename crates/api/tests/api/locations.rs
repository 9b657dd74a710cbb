//! Locations over HTTP: every tenant starts with one default location; more are created, renamed,
//! reprioritised, made the default (exactly one at a time) and deactivated only once they hold
//! nothing; and each lists the stock levels it keeps.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, slug, spawn_app, unclaimed, TestApp};

/// The id of every location of the tenant flagged as the default.
async fn defaults(app: &TestApp, token: &str) -> Vec<String> {
    app.locations(token)
        .await
        .iter()
        .filter(|l| l["isDefault"] == true)
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

fn field_of(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn registering_a_tenant_creates_its_default_location() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("loc-reg")).await;
    let locations = app.locations(&t.token).await;
    assert_eq!(locations.len(), 1, "{locations:?}");
    let main = &locations[0];
    assert_eq!(main["name"], "Main", "{main}");
    assert_eq!(main["code"], "MAIN", "{main}");
    assert_eq!(main["isDefault"], true, "{main}");
    assert_eq!(main["active"], true, "{main}");
    assert_eq!(main["priority"], 0, "{main}");
    assert!(main["createdAt"].is_string() && main["updatedAt"].is_string());

    // Stock adjusted without naming a location lands there.
    let v = app.variant_with_stock(&t.token, "REG-1", 4).await;
    let variant = app.variant(&t.token, &v).await;
    assert_eq!(
        variant["levels"],
        json!([unclaimed(
            json!({"locationId": main["id"], "stock": 4, "onHand": 4, "committed": 0, "incoming": 0})
        )]),
        "{variant}"
    );
    assert_eq!(variant["inTransit"], 0, "{variant}");
}

#[tokio::test]
async fn locations_are_created_listed_read_and_patched() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("loc-crud")).await;
    let staff = app.user_token(&t, "STAFF").await;

    let (status, wh) = app
        .post(
            "/v1/locations",
            &t.token,
            json!({"name": "Warehouse", "code": "WH-1", "priority": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{wh}");
    assert_eq!(
        (&wh["name"], &wh["code"], &wh["priority"]),
        (&json!("Warehouse"), &json!("WH-1"), &json!(5)),
        "{wh}"
    );
    assert_eq!(
        (&wh["isDefault"], &wh["active"]),
        (&json!(false), &json!(true)),
        "{wh}"
    );
    for key in ["id", "createdAt", "updatedAt"] {
        assert!(wh[key].is_string(), "{key}: {wh}");
    }
    let wh_id = wh["id"].as_str().unwrap().to_owned();

    let (status, shop) = app
        .post(
            "/v1/locations",
            &t.token,
            json!({"name": "Shop", "code": "SHOP"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{shop}");
    assert_eq!(shop["priority"], 100, "the default priority: {shop}");

    // A code is unique in the tenant; nothing is written for the duplicate.
    let (status, body) = app
        .post(
            "/v1/locations",
            &t.token,
            json!({"name": "Another warehouse", "code": "WH-1"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, body) = app
        .post(
            "/v1/locations",
            &t.token,
            json!({"name": "Main again", "code": "MAIN"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    // Bad fields are named.
    let (status, body) = app
        .post(
            "/v1/locations",
            &t.token,
            json!({"name": "", "code": "has space", "priority": 5000}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(&body), vec!["name", "code", "priority"], "{body}");

    // Listed oldest first, readable by STAFF, one by one too.
    let listed = app.locations(&staff).await;
    let codes: Vec<&str> = listed.iter().map(|l| l["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["MAIN", "WH-1", "SHOP"]);
    let (status, one) = app.get(format!("/v1/locations/{wh_id}"), &staff).await;
    assert_eq!((status, &one), (StatusCode::OK, &wh));
    let (status, page) = app.get("/v1/locations?limit=2", &t.token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["nextCursor"].as_str().expect("a second page");
    let (_, rest) = app
        .get(format!("/v1/locations?limit=2&cursor={cursor}"), &t.token)
        .await;
    assert_eq!(rest["items"][0]["code"], "SHOP", "{rest}");
    assert!(rest["nextCursor"].is_null(), "{rest}");

    // PATCH renames and reprioritises; the code stays.
    let (status, patched) = app
        .patch(
            format!("/v1/locations/{wh_id}"),
            &t.token,
            json!({"name": "Big warehouse", "priority": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Big warehouse");
    assert_eq!(patched["priority"], 1);
    assert_eq!(patched["code"], "WH-1");
    let (_, again) = app.get(format!("/v1/locations/{wh_id}"), &t.token).await;
    assert_eq!(again, patched);
    let (status, body) = app
        .patch(
            format!("/v1/locations/{wh_id}"),
            &t.token,
            json!({"priority": -1}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(&body), vec!["priority"]);

    // Unknown and malformed ids are 404.
    for path in [
        format!("/v1/locations/{}", uuid::Uuid::now_v7()),
        "/v1/locations/not-an-id".to_owned(),
    ] {
        let (status, body) = app.get(&path, &t.token).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
        let (status, body) = app.patch(&path, &t.token, json!({"name": "x"})).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
    }
    assert_eq!(app.locations(&t.token).await.len(), 3);
}

#[tokio::test]
async fn exactly_one_location_is_the_default_whichever_is_made_it() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("loc-def")).await;
    let main = app.default_location(&t.token).await;
    let b = app.location(&t.token, "B", 10).await;
    let c = app.location(&t.token, "C", 20).await;

    let (status, made) = app
        .patch(
            format!("/v1/locations/{b}"),
            &t.token,
            json!({"isDefault": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert_eq!(made["isDefault"], true, "{made}");
    assert_eq!(defaults(&app, &t.token).await, vec![b.clone()]);
    let (_, old) = app.get(format!("/v1/locations/{main}"), &t.token).await;
    assert_eq!(old["isDefault"], false, "{old}");

    // Asking for it again changes nothing; `isDefault: false` is refused naming the field.
    let (status, _) = app
        .patch(
            format!("/v1/locations/{b}"),
            &t.token,
            json!({"isDefault": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .patch(
            format!("/v1/locations/{b}"),
            &t.token,
            json!({"isDefault": false}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(&body), vec!["isDefault"], "{body}");
    assert_eq!(defaults(&app, &t.token).await, vec![b.clone()]);

    // The default cannot be deactivated; the old default, now empty, can — and an inactive
    // location cannot become the default.
    let (status, body) = app
        .patch(
            format!("/v1/locations/{b}"),
            &t.token,
            json!({"active": false}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, off) = app
        .patch(
            format!("/v1/locations/{main}"),
            &t.token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{off}");
    assert_eq!(off["active"], false, "{off}");
    let (status, body) = app
        .patch(
            format!("/v1/locations/{main}"),
            &t.token,
            json!({"isDefault": true}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(&body), vec!["isDefault"], "{body}");

    // Stock adjusted without a location now lands at the new default.
    let v = app.variant_with_stock(&t.token, "DEF-1", 3).await;
    assert_eq!(app.level_of(&t.token, &v, &b).await, 3);
    assert_eq!(app.level_of(&t.token, &v, &main).await, 0);

    // Making the third the default moves the flag again; there is still exactly one.
    app.patch(
        format!("/v1/locations/{c}"),
        &t.token,
        json!({"isDefault": true}),
    )
    .await;
    assert_eq!(defaults(&app, &t.token).await, vec![c]);
    let active: Vec<bool> = app
        .locations(&t.token)
        .await
        .iter()
        .map(|l| l["active"].as_bool().unwrap())
        .collect();
    assert_eq!(active, vec![false, true, true]);
}

#[tokio::test]
async fn a_location_is_deactivated_only_once_it_holds_nothing() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("loc-deact")).await;
    let main = app.default_location(&t.token).await;
    let stocked = app.location(&t.token, "STOCKED", 10).await;
    let empty = app.location(&t.token, "EMPTY", 10).await;
    let bound = app.location(&t.token, "BOUND", 10).await;
    let v = app.variant_with_stock(&t.token, "DEACT-1", 5).await;
    app.adjust(&t.token, &v, Some(&stocked), 3).await;
    let deactivate = |id: String| {
        let app = &app;
        let token = t.token.clone();
        async move {
            app.patch(
                format!("/v1/locations/{id}"),
                &token,
                json!({"active": false}),
            )
            .await
        }
    };

    // Stock there: refused, and the location stays active.
    let (status, body) = deactivate(stocked.clone()).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (_, still) = app.get(format!("/v1/locations/{stocked}"), &t.token).await;
    assert_eq!(still["active"], true, "{still}");

    // A draft transfer naming it: refused until the transfer is cancelled.
    let draft = app.transfer(&t.token, &main, &bound, &[(&v, 1)]).await;
    let (status, body) = deactivate(bound.clone()).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, body) = app
        .post(format!("/v1/transfers/{draft}/cancel"), &t.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // An open purchase order bound for it: refused until the order is cancelled.
    let (_, supplier) = app
        .post("/v1/suppliers", &t.token, json!({"name": "S"}))
        .await;
    let (status, po) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": supplier["id"], "locationId": bound,
                   "lines": [{"variantId": v, "quantity": 2, "unitCost": 10}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{po}");
    let (status, body) = deactivate(bound.clone()).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    app.post(
        format!("/v1/purchase-orders/{}/cancel", po["id"].as_str().unwrap()),
        &t.token,
        json!({}),
    )
    .await;
    let (status, body) = deactivate(bound.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // An empty location is deactivated at once; the stocked one once emptied.
    let (status, off) = deactivate(empty.clone()).await;
    assert_eq!((status, &off["active"]), (StatusCode::OK, &json!(false)));
    app.adjust(&t.token, &v, Some(&stocked), -3).await;
    let (status, off) = deactivate(stocked.clone()).await;
    assert_eq!(
        (status, &off["active"]),
        (StatusCode::OK, &json!(false)),
        "{off}"
    );

    // Inactive locations refuse new stock, and come back when reactivated.
    let (status, body) = app
        .post(
            format!("/v1/variants/{v}/adjustments"),
            &t.token,
            json!({"quantity": 1, "reason": "x", "locationId": stocked}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(&body), vec!["locationId"]);
    let (status, on) = app
        .patch(
            format!("/v1/locations/{empty}"),
            &t.token,
            json!({"active": true}),
        )
        .await;
    assert_eq!((status, &on["active"]), (StatusCode::OK, &json!(true)));
    app.adjust(&t.token, &v, Some(&empty), 1).await;
    assert_eq!(app.level_of(&t.token, &v, &empty).await, 1);
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test]
async fn a_location_lists_its_levels_with_incoming_and_a_low_stock_filter() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("loc-lvl")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let site = app.location(&t.token, "SITE", 10).await;
    // Reorder level 2 for each (the helper's).
    let plenty = app.variant_with_stock(&t.token, "LVL-A", 0).await;
    let few = app.variant_with_stock(&t.token, "LVL-B", 0).await;
    let emptied = app.variant_with_stock(&t.token, "LVL-C", 0).await;
    let elsewhere = app.variant_with_stock(&t.token, "LVL-D", 50).await;
    app.adjust(&t.token, &plenty, Some(&site), 5).await;
    app.adjust(&t.token, &few, Some(&site), 1).await;
    app.adjust(&t.token, &emptied, Some(&site), 2).await;
    app.adjust(&t.token, &emptied, Some(&site), -2).await;
    // Plenty of B at the default does not make B's level here any less low.
    app.adjust(&t.token, &few, None, 40).await;

    let (_, supplier) = app
        .post("/v1/suppliers", &t.token, json!({"name": "S"}))
        .await;
    let (status, po) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": supplier["id"], "locationId": site,
                   "lines": [{"variantId": plenty, "quantity": 7, "unitCost": 10}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{po}");
    let (status, body) = app
        .post(
            format!("/v1/purchase-orders/{}/submit", po["id"].as_str().unwrap()),
            &t.token,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, levels) = app
        .get(format!("/v1/locations/{site}/levels"), &staff)
        .await;
    assert_eq!(status, StatusCode::OK, "{levels}");
    assert_eq!(
        levels["items"],
        json!([
            unclaimed(
                json!({"variantId": plenty, "sku": "LVL-A", "stock": 5, "onHand": 5, "committed": 0, "incoming": 7, "reorderLevel": 2})
            ),
            unclaimed(
                json!({"variantId": few, "sku": "LVL-B", "stock": 1, "onHand": 1, "committed": 0, "incoming": 0, "reorderLevel": 2})
            ),
            unclaimed(
                json!({"variantId": emptied, "sku": "LVL-C", "stock": 0, "onHand": 0, "committed": 0, "incoming": 0, "reorderLevel": 2})
            ),
        ]),
        "by variant id; {elsewhere} has no level here"
    );
    let (status, low) = app
        .get(format!("/v1/locations/{site}/levels?lowStock=true"), &staff)
        .await;
    assert_eq!(status, StatusCode::OK, "{low}");
    let low_skus: Vec<&str> = low["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sku"].as_str().unwrap())
        .collect();
    assert_eq!(low_skus, vec!["LVL-B", "LVL-C"], "{low}");

    // Paged like the other lists.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .get(
                format!("/v1/locations/{site}/levels?limit=2&cursor={cursor}"),
                &t.token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["sku"].as_str().unwrap().to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, vec!["LVL-A", "LVL-B", "LVL-C"]);

    // The default location lists its own levels.
    let main = app.default_location(&t.token).await;
    let (_, at_main) = app
        .get(format!("/v1/locations/{main}/levels"), &t.token)
        .await;
    let main_levels: Vec<(&str, i64)> = at_main["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap(), l["stock"].as_i64().unwrap()))
        .collect();
    assert_eq!(main_levels, vec![("LVL-B", 40), ("LVL-D", 50)]);

    let (status, body) = app
        .get(
            format!("/v1/locations/{}/levels", uuid::Uuid::now_v7()),
            &t.token,
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .get(
            format!("/v1/locations/{site}/levels?lowStock=maybe"),
            &t.token,
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(&body), vec!["lowStock"]);
}
