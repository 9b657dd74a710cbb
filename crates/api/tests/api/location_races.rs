//! Races at locations for real, over HTTP: orders naming one location never take another's
//! stock; orders, a transfer's shipment and adjustments at one location never take it below zero
//! and a refused request writes nothing; orders naming none, over stock spread across locations,
//! never place more than the total and each line's allocations add up to it.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{level_in, slug, spawn_app, summary, Answer, Call, TestApp};

fn order_at(location: Option<&str>, variant: &str, quantity: i64) -> Call {
    let mut body = json!({"lines": [{"variantId": variant, "quantity": quantity}]});
    if let Some(location) = location {
        body["locationId"] = json!(location);
    }
    Call::post("/v1/orders", body)
}

fn count(answers: &[Answer], status: StatusCode) -> usize {
    answers.iter().filter(|a| a.status == status).count()
}

/// Asserts every answer is a success or a 409 refusal for stock or a concurrent change.
fn assert_won_or_refused(answers: &[Answer]) {
    for a in answers {
        assert!(
            a.status.is_success()
                || (a.status == StatusCode::CONFLICT
                    && matches!(
                        a.problem_type(),
                        Some(
                            "/problems/insufficient-stock"
                                | "/problems/negative-stock"
                                | "/problems/conflict"
                                | "/problems/invalid-transition"
                        )
                    )),
            "unexpected {}: {}",
            a.status,
            a.body
        );
    }
}

/// The race of 200 single-unit orders naming location A, holding 50, while B holds 1000.
async fn orders_at_one_location_never_take_anothers_stock(app: &TestApp) {
    let t = app.register(&slug("lr-one")).await;
    let a = app.location(&t.token, "A", 10).await;
    let b = app.default_location(&t.token).await;
    let v = app.variant_with_stock(&t.token, "LR1-1", 1000).await;
    app.adjust(&t.token, &v, Some(&a), 50).await;

    let answers = app
        .race(
            &t.token,
            (0..200).map(|_| order_at(Some(&a), &v, 1)).collect(),
        )
        .await;
    assert_won_or_refused(&answers);
    assert_eq!(
        (
            count(&answers, StatusCode::CREATED),
            count(&answers, StatusCode::CONFLICT)
        ),
        (50, 150),
        "{:?}",
        summary(&answers)
    );
    for lost in answers.iter().filter(|a| a.status == StatusCode::CONFLICT) {
        assert_eq!(
            lost.body["shortages"][0]["locationId"],
            a.as_str(),
            "{}",
            lost.body
        );
    }
    let variant = app.variant(&t.token, &v).await;
    assert_eq!(level_in(&variant, &a), 0, "{variant}");
    assert_eq!(level_in(&variant, &b), 1000, "B untouched: {variant}");
    assert_eq!(variant["stock"], 1000);
    assert_eq!(variant["committed"], 50, "{variant}");
    app.fulfil_all(&t.token, &placed_orders(answers.iter()))
        .await;
    let sales = app
        .movements_where(&t.token, &format!("variantId={v}&type=SALE"))
        .await;
    assert_eq!(sales.len(), 50);
    assert!(sales.iter().all(|m| m["locationId"] == a.as_str()));
    app.assert_audit_clean(&t.token).await;
}

/// What one request of the mixed race at location A was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AtA {
    Order,
    /// Shipping transfer `n` (each of `SHIPMENT` units).
    Ship(usize),
    Adjust(i64),
}

const SHIPMENT: i64 = 6;

/// Orders at A racing transfers shipping out of A and adjustments at A.
async fn orders_shipments_and_adjustments_at_one_location_keep_it_exact(app: &TestApp) {
    let t = app.register(&slug("lr-mix")).await;
    let a = app.location(&t.token, "A", 10).await;
    let b = app.default_location(&t.token).await;
    let v = app.variant_with_stock(&t.token, "LR2-1", 100).await;
    app.adjust(&t.token, &v, Some(&a), 30).await;
    let mut transfers = Vec::new();
    for _ in 0..4 {
        transfers.push(app.transfer(&t.token, &a, &b, &[(&v, SHIPMENT)]).await);
    }

    let kinds: Vec<AtA> = (0..100)
        .map(|i| match i {
            i if i % 25 == 7 => AtA::Ship(i / 25),
            i if i % 5 == 1 => AtA::Adjust(if i % 10 == 1 { -1 } else { 1 }),
            _ => AtA::Order,
        })
        .collect();
    let calls = kinds
        .iter()
        .map(|k| match k {
            AtA::Order => order_at(Some(&a), &v, 1),
            AtA::Ship(n) => Call::post(format!("/v1/transfers/{}/ship", transfers[*n]), json!({})),
            AtA::Adjust(d) => Call::post(
                format!("/v1/variants/{v}/adjustments"),
                json!({"quantity": d, "reason": "recount", "locationId": a}),
            ),
        })
        .collect();
    let answers = app.race(&t.token, calls).await;
    assert_won_or_refused(&answers);

    let won = |wanted: fn(&AtA) -> bool| {
        kinds
            .iter()
            .zip(&answers)
            .filter(|(k, r)| wanted(k) && r.status.is_success())
            .count() as i64
    };
    let orders = won(|k| *k == AtA::Order);
    let shipped = won(|k| matches!(k, AtA::Ship(_)));
    let adjusted: Vec<i64> = kinds
        .iter()
        .zip(&answers)
        .filter_map(|(k, r)| match k {
            AtA::Adjust(d) if r.status.is_success() => Some(*d),
            _ => None,
        })
        .collect();
    assert!(
        orders > 0 && !adjusted.is_empty(),
        "orders and adjustments won: {:?}",
        summary(&answers)
    );
    let net: i64 = adjusted.iter().sum();

    let variant = app.variant(&t.token, &v).await;
    let at_a = level_in(&variant, &a);
    assert_eq!(
        at_a,
        30 + net - orders - SHIPMENT * shipped,
        "A = initial + adjusted - ordered - shipped"
    );
    assert!(at_a >= 0);
    assert_eq!(
        level_in(&variant, &b),
        100,
        "shipped units are not at B yet"
    );
    assert_eq!(variant["inTransit"], SHIPMENT * shipped, "{variant}");
    assert_eq!(variant["stock"], 100 + at_a);

    // Each transfer is shipped exactly when its ship answered 200.
    for (n, id) in transfers.iter().enumerate() {
        let (_, now) = app.get(format!("/v1/transfers/{id}"), &t.token).await;
        let answered = kinds
            .iter()
            .zip(&answers)
            .find(|(k, _)| **k == AtA::Ship(n))
            .map(|(_, r)| r.status);
        match answered {
            Some(StatusCode::OK) => assert_eq!(now["status"], "SHIPPED", "{now}"),
            _ => assert_eq!(now["status"], "DRAFT", "{now}"),
        }
    }

    // One movement per answered write at A once the placed orders are fulfilled, none for the
    // refused, and A never went below zero.
    let placed: Vec<&Answer> = kinds
        .iter()
        .zip(&answers)
        .filter(|(k, _)| **k == AtA::Order)
        .map(|(_, r)| r)
        .collect();
    app.fulfil_all(&t.token, &placed_orders(placed.into_iter()))
        .await;
    let movements = app
        .movements_where(&t.token, &format!("variantId={v}&locationId={a}"))
        .await;
    let of = |kind: &str| movements.iter().filter(|m| m["type"] == kind).count() as i64;
    assert_eq!(of("SALE"), orders);
    assert_eq!(of("TRANSFER_OUT"), shipped);
    assert_eq!(of("ADJUSTMENT"), 1 + adjusted.len() as i64);
    assert_eq!(
        movements.len() as i64,
        orders + shipped + 1 + adjusted.len() as i64
    );
    assert!(
        movements
            .iter()
            .all(|m| m["stockAfter"].as_i64().unwrap() >= 0),
        "A never went below zero"
    );
    let (_, listed) = app.get("/v1/orders?limit=200", &t.token).await;
    assert_eq!(listed["items"].as_array().unwrap().len() as i64, orders);
    app.assert_audit_clean(&t.token).await;
}

/// Orders naming no location racing over stock spread across three locations.
async fn orders_over_spread_stock_never_place_more_than_the_total(app: &TestApp) {
    let t = app.register(&slug("lr-any")).await;
    let main = app.default_location(&t.token).await;
    let second = app.location(&t.token, "SECOND", 1).await;
    let third = app.location(&t.token, "THIRD", 2).await;
    let v = app.variant_with_stock(&t.token, "LR3-1", 20).await;
    app.adjust(&t.token, &v, Some(&second), 15).await;
    app.adjust(&t.token, &v, Some(&third), 10).await;
    let initial = HashMap::from([
        (main.clone(), 20),
        (second.clone(), 15),
        (third.clone(), 10),
    ]);
    let total: i64 = initial.values().sum();

    let quantities: Vec<i64> = (0..120).map(|i| 1 + i % 3).collect();
    let answers = app
        .race(
            &t.token,
            quantities.iter().map(|q| order_at(None, &v, *q)).collect(),
        )
        .await;
    assert_won_or_refused(&answers);

    let mut placed = 0;
    let mut taken: HashMap<String, i64> = HashMap::new();
    for (q, answer) in quantities.iter().zip(&answers) {
        if answer.status != StatusCode::CREATED {
            continue;
        }
        let line = &answer.body["lines"][0];
        assert_eq!(line["quantity"], *q, "{}", answer.body);
        assert!(answer.body["locationId"].is_null());
        let allocations: &Vec<Value> = line["allocations"].as_array().unwrap();
        let sum: i64 = allocations
            .iter()
            .map(|a| a["quantity"].as_i64().unwrap())
            .sum();
        assert_eq!(
            sum, *q,
            "the allocations add up to the line: {}",
            answer.body
        );
        for a in allocations {
            assert!(a["quantity"].as_i64().unwrap() > 0, "{}", answer.body);
            *taken
                .entry(a["locationId"].as_str().unwrap().to_owned())
                .or_default() += a["quantity"].as_i64().unwrap();
        }
        placed += q;
    }
    assert!(placed > 0, "{:?}", summary(&answers));
    assert!(placed <= total, "placed {placed} of {total}");

    let variant = app.variant(&t.token, &v).await;
    for (location, held) in &initial {
        let took = taken.get(location).copied().unwrap_or(0);
        assert!(took <= *held, "{location}: took {took} of {held}");
        assert_eq!(level_in(&variant, location), held - took, "{variant}");
    }
    assert_eq!(variant["stock"], total - placed);
    assert_eq!(variant["committed"], placed, "{variant}");
    app.fulfil_all(&t.token, &placed_orders(answers.iter()))
        .await;
    let sold: i64 = app
        .movements_where(&t.token, &format!("variantId={v}&type=SALE"))
        .await
        .iter()
        .map(|m| -m["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(
        sold, placed,
        "one SALE per allocation, nothing for the refused"
    );
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_orders_at_one_location_take_only_its_fifty() {
    let Some(app) = spawn_app().await else {
        return;
    };
    orders_at_one_location_never_take_anothers_stock(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_racing_a_shipment_and_adjustments_at_one_location_keep_it_exact() {
    let Some(app) = spawn_app().await else {
        return;
    };
    orders_shipments_and_adjustments_at_one_location_keep_it_exact(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_naming_no_location_never_place_more_than_the_total() {
    let Some(app) = spawn_app().await else {
        return;
    };
    orders_over_spread_stock_never_place_more_than_the_total(&app).await;
}

/// The ids of the orders among `answers` that were placed (201).
fn placed_orders<'a>(answers: impl Iterator<Item = &'a Answer>) -> Vec<String> {
    answers
        .filter(|a| a.status == StatusCode::CREATED)
        .map(|a| a.body["id"].as_str().unwrap().to_owned())
        .collect()
}
