//! The README walk-through, end to end.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{slug, spawn_app, unclaimed};

#[tokio::test]
async fn register_product_variant_adjustment_movements() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("walk")).await;

    let (status, me) = app.get("/v1/me", &t.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["role"], "OWNER");
    assert_eq!(me["tenant"]["id"], t.id.as_str());

    let product = app.product(&t.token, "Classic T-Shirt").await;
    let (status, variant) = app
        .post(
            "/v1/variants",
            &t.token,
            json!({"productId": product, "sku": "TS-RED-M", "attributes": {"size": "M", "color": "red"},
                   "price": 1999, "reorderLevel": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{variant}");
    assert_eq!(variant["stock"], 0);
    assert_eq!(variant["attributes"]["color"], "red");
    assert_eq!(variant["levels"], json!([]), "no level anywhere yet");
    assert_eq!(variant["inTransit"], 0);
    let main = app.default_location(&t.token).await;
    let id = variant["id"].as_str().unwrap();

    let (status, adjusted) = app
        .post(
            &format!("/v1/variants/{id}/adjustments"),
            &t.token,
            json!({"quantity": 10, "reason": "initial count", "expectedStock": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{adjusted}");
    assert_eq!(adjusted["stock"], 10);
    assert_eq!(adjusted["movement"]["type"], "ADJUSTMENT");
    assert_eq!(adjusted["movement"]["stockAfter"], 10);
    assert_eq!(adjusted["movement"]["actor"], t.owner_id.as_str());
    assert_eq!(adjusted["levelStock"], 10);
    assert_eq!(
        adjusted["movement"]["locationId"],
        main.as_str(),
        "the default location"
    );
    assert!(adjusted["movement"]["transferId"].is_null());

    let (status, _) = app
        .post(
            &format!("/v1/variants/{id}/adjustments"),
            &t.token,
            json!({"quantity": -3, "reason": "damaged"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, page) = app
        .get(&format!("/v1/movements?variantId={id}"), &t.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["quantity"], -3, "newest first");
    assert_eq!(items[0]["stockAfter"], 7);
    assert_eq!(items[1]["quantity"], 10);
    assert_eq!(app.stock_of(&t.token, id).await, 7);
    let (_, read) = app.get(format!("/v1/variants/{id}"), &t.token).await;
    assert_eq!(
        read["levels"],
        json!([unclaimed(
            json!({"locationId": main, "stock": 7, "onHand": 7, "committed": 0, "incoming": 0})
        )])
    );

    // The ledger filters by type and time.
    let (_, sales) = app.get("/v1/movements?type=SALE", &t.token).await;
    assert_eq!(sales["items"], json!([]));
    let (_, future) = app
        .get("/v1/movements?from=2999-01-01T00:00:00Z", &t.token)
        .await;
    assert_eq!(future["items"], json!([]));

    assert_eq!(app.assert_audit_clean(&t.token).await, 1);

    // Log in again with the same credentials.
    let token = app
        .login(
            &t.slug,
            &format!("owner@{}.example", t.slug),
            "correct horse battery",
        )
        .await;
    let (status, _) = app.get("/v1/products", &token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn variants_filter_by_product_sku_and_low_stock_and_page_without_gaps() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("list")).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        // reorderLevel 2: stock 0..=2 is low.
        ids.push(
            app.variant_with_stock(&t.token, &format!("SKU-{i}"), i)
                .await,
        );
    }
    let (_, low) = app.get("/v1/variants?lowStock=true", &t.token).await;
    let low_skus: Vec<&str> = low["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["sku"].as_str().unwrap())
        .collect();
    assert_eq!(low_skus, vec!["SKU-0", "SKU-1", "SKU-2"]);
    let (_, by_sku) = app.get("/v1/variants?sku=SKU-4", &t.token).await;
    assert_eq!(by_sku["items"][0]["id"], ids[4].as_str());

    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .get(&format!("/v1/variants?limit=3&cursor={cursor}"), &t.token)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_str().unwrap().to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every variant once, in creation order");
}

#[tokio::test]
async fn a_product_with_stocked_variants_cannot_be_deleted_until_emptied() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("del")).await;
    let product = app.product(&t.token, "Mug").await;
    let (_, v) = app
        .post(
            "/v1/variants",
            &t.token,
            json!({"productId": product, "sku": "MUG-1", "price": 800}),
        )
        .await;
    let id = v["id"].as_str().unwrap();
    app.post(
        &format!("/v1/variants/{id}/adjustments"),
        &t.token,
        json!({"quantity": 2, "reason": "count"}),
    )
    .await;

    let (status, body) = app
        .delete(&format!("/v1/products/{product}"), &t.token)
        .await;
    crate::helpers::assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, body) = app.delete(&format!("/v1/variants/{id}"), &t.token).await;
    crate::helpers::assert_problem(status, &body, StatusCode::CONFLICT);

    app.post(
        &format!("/v1/variants/{id}/adjustments"),
        &t.token,
        json!({"quantity": -2, "reason": "write-off"}),
    )
    .await;
    let (status, _) = app
        .delete(&format!("/v1/products/{product}"), &t.token)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&format!("/v1/variants/{id}"), &t.token).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "variants go with their product"
    );
    assert_eq!(
        app.movements_of(&t.token, id).await.len(),
        2,
        "the ledger keeps its movements"
    );
}

/// The README's second half: a shop beside the default location, a transfer shipped and
/// received in two parts, a sale served from the shop — committed when placed, sold when
/// fulfilled — a checkout hold confirmed into an order and fulfilled, and what the variant shows
/// before and after each.
#[tokio::test]
async fn a_second_location_and_a_transfer_as_the_readme_walks_them() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("shop")).await;
    let variant = app.variant_with_stock(&t.token, "TS-RED-M", 20).await;
    let (_, listed) = app.get("/v1/locations", &t.token).await;
    let defaults: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["isDefault"] == true)
        .collect();
    assert_eq!(defaults.len(), 1, "{listed}");
    let main = defaults[0]["id"].as_str().unwrap().to_owned();

    let (status, shop) = app
        .post(
            "/v1/locations",
            &t.token,
            json!({"name": "High Street shop", "code": "SHOP-1", "priority": 10}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{shop}");
    assert_eq!(shop["isDefault"], false);
    let shop = shop["id"].as_str().unwrap().to_owned();

    let (status, transfer) = app
        .post(
            "/v1/transfers",
            &t.token,
            json!({"fromLocationId": main, "toLocationId": shop,
                   "lines": [{"variantId": variant, "quantity": 10}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{transfer}");
    assert_eq!(transfer["status"], "DRAFT");
    let id = transfer["id"].as_str().unwrap().to_owned();
    let (status, shipped) = app
        .post(&format!("/v1/transfers/{id}/ship"), &t.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{shipped}");
    assert_eq!(shipped["status"], "SHIPPED");
    let read = app.variant(&t.token, &variant).await;
    assert_eq!(
        (read["stock"].as_i64(), read["inTransit"].as_i64()),
        (Some(10), Some(10))
    );

    for (quantity, status_after) in [(6, "PARTIALLY_RECEIVED"), (4, "RECEIVED")] {
        let (status, received) = app
            .post(
                &format!("/v1/transfers/{id}/receipts"),
                &t.token,
                json!({"lines": [{"variantId": variant, "quantity": quantity}]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{received}");
        assert_eq!(received["status"], status_after);
    }

    let (status, order) = app
        .post(
            "/v1/orders",
            &t.token,
            json!({"locationId": shop, "lines": [{"variantId": variant, "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(
        order["lines"][0]["allocations"],
        json!([{"locationId": shop, "quantity": 1, "returned": 0}])
    );

    // Placed, not fulfilled: the unit is committed at the shop, still on its shelf.
    let read = app.variant(&t.token, &variant).await;
    let shop_level = |read: &Value| {
        read["levels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["locationId"] == shop.as_str())
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (&read["stock"], &read["onHand"], &read["committed"]),
        (&json!(19), &json!(20), &json!(1)),
        "{read}"
    );
    let at_shop = shop_level(&read);
    assert_eq!(
        (&at_shop["stock"], &at_shop["onHand"], &at_shop["committed"]),
        (&json!(9), &json!(10), &json!(1))
    );
    let id = order["id"].as_str().unwrap().to_owned();
    app.fulfil_all(&t.token, std::slice::from_ref(&id)).await;

    // Fulfilled: the SALE took it off the shelf.
    let read = app.variant(&t.token, &variant).await;
    assert_eq!(
        (&read["stock"], &read["onHand"], &read["committed"]),
        (&json!(19), &json!(19), &json!(0)),
        "{read}"
    );
    let at_shop = shop_level(&read);
    assert_eq!(
        (&at_shop["stock"], &at_shop["onHand"], &at_shop["committed"]),
        (&json!(9), &json!(9), &json!(0))
    );

    // A checkout hold, retry-safe, allocated default first: held, then confirmed into an order,
    // then fulfilled — the variant's states after each step.
    let variant_states = |read: &Value| {
        (
            read["onHand"].as_i64().unwrap(),
            read["committed"].as_i64().unwrap(),
            read["reserved"].as_i64().unwrap(),
            read["stock"].as_i64().unwrap(),
        )
    };
    let hold = crate::helpers::Call::post(
        "/v1/reservations",
        json!({"lines": [{"variantId": variant, "quantity": 2}], "ttlSeconds": 900,
               "reference": "cart-7f3a"}),
    )
    .with_key("checkout-2026-0001");
    let held = app.send(&t.token, &hold).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    assert_eq!(held.body["status"], "ACTIVE");
    assert_eq!(
        held.body["lines"][0]["allocations"],
        json!([{"locationId": main, "quantity": 2}])
    );
    assert!(
        app.send(&t.token, &hold).await.replayed,
        "a retry holds nothing more"
    );
    let read = app.variant(&t.token, &variant).await;
    assert_eq!(variant_states(&read), (19, 0, 2, 17), "held: {read}");
    let hold_id = held.body["id"].as_str().unwrap();
    let (status, checkout) = app
        .post(
            format!("/v1/reservations/{hold_id}/confirm"),
            &t.token,
            json!({"customer": {"name": "Grace"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{checkout}");
    assert_eq!(checkout["status"], "PLACED");
    let read = app.variant(&t.token, &variant).await;
    assert_eq!(variant_states(&read), (19, 2, 0, 17), "confirmed: {read}");
    let checkout = checkout["id"].as_str().unwrap().to_owned();
    app.fulfil_all(&t.token, std::slice::from_ref(&checkout))
        .await;
    let read = app.variant(&t.token, &variant).await;
    assert_eq!(variant_states(&read), (17, 0, 0, 17), "fulfilled: {read}");
    let (_, reservation) = app
        .get(format!("/v1/reservations/{hold_id}"), &t.token)
        .await;
    assert_eq!(
        (&reservation["status"], &reservation["orderId"]),
        (&json!("CONFIRMED"), &json!(checkout))
    );

    assert_eq!(read["stock"], 17, "{read}");
    assert_eq!(read["inTransit"], 0);
    assert_eq!(crate::helpers::level_in(&read, &main), 8);
    assert_eq!(crate::helpers::level_in(&read, &shop), 9);
    let (_, levels) = app
        .get(format!("/v1/locations/{shop}/levels"), &t.token)
        .await;
    assert_eq!(
        levels["items"][0]["variantId"],
        variant.as_str(),
        "{levels}"
    );
    assert_eq!(levels["items"][0]["stock"], 9);
    let at_shop = app
        .movements_where(&t.token, &format!("variantId={variant}&locationId={shop}"))
        .await;
    let kinds: Vec<&str> = at_shop
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["SALE", "TRANSFER_IN", "TRANSFER_IN"],
        "newest first"
    );
    app.assert_audit_clean(&t.token).await;
}
