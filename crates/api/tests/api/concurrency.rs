//! Races for real: many concurrent HTTP requests against the running app and its store.

use std::collections::BTreeSet;
use std::sync::Arc;

use domain::lock::NoopLock;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{slug, spawn_app, spawn_app_with_lock, summary, Answer, Call, TestApp};

/// Fires `n` concurrent single-unit orders for `variant`; returns the statuses and the ids of
/// the orders placed.
async fn order_race(
    app: &TestApp,
    token: &str,
    variant: &str,
    n: usize,
) -> (Vec<StatusCode>, Vec<String>) {
    let calls = (0..n).map(|_| {
        app.post(
            "/v1/orders",
            token,
            json!({"lines": [{"variantId": variant, "quantity": 1}]}),
        )
    });
    let results = join_all(calls).await;
    let placed = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .map(|(_, body)| body["id"].as_str().unwrap().to_owned())
        .collect();
    (results.into_iter().map(|(s, _)| s).collect(), placed)
}

/// The SALE movements of `movements`.
fn sales(movements: &[Value]) -> Vec<&Value> {
    movements.iter().filter(|m| m["type"] == "SALE").collect()
}

fn count(statuses: &[StatusCode], wanted: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == wanted).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_decrements_on_twenty_units() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("adj-race")).await;
    let v = app.variant_with_stock(&t.token, "RACE-1", 20).await;
    let calls = (0..50).map(|_| {
        app.post(
            format!("/v1/variants/{v}/adjustments"),
            &t.token,
            json!({"quantity": -1, "reason": "race"}),
        )
    });
    let statuses: Vec<StatusCode> = join_all(calls).await.into_iter().map(|(s, _)| s).collect();
    assert_eq!(count(&statuses, StatusCode::CREATED), 20, "{statuses:?}");
    assert_eq!(count(&statuses, StatusCode::CONFLICT), 30, "{statuses:?}");
    assert_eq!(app.stock_of(&t.token, &v).await, 0);
    app.assert_audit_clean(&t.token).await;
}

async fn last_items_race(app: &TestApp, rounds: usize) {
    let t = app.register(&slug("flash")).await;
    for round in 0..rounds {
        let v = app
            .variant_with_stock(&t.token, &format!("FLASH-{round}"), 50)
            .await;
        let (statuses, placed) = order_race(app, &t.token, &v, 200).await;
        assert_eq!(
            count(&statuses, StatusCode::CREATED),
            50,
            "round {round}: {statuses:?}"
        );
        assert_eq!(
            count(&statuses, StatusCode::CONFLICT),
            150,
            "round {round}: {statuses:?}"
        );
        // Placed: every unit is committed, none available, all still on hand, nothing sold yet.
        assert_eq!(
            app.states_of(&t.token, &v).await,
            (0, 50, 50),
            "round {round}: (stock, onHand, committed)"
        );
        assert_eq!(
            app.movements_of(&t.token, &v).await.len(),
            1,
            "round {round}: placing writes no movement, only the initial count is there"
        );
        app.assert_audit_clean(&t.token).await;

        // Fulfilled, all at once: each order sells its unit exactly once.
        app.fulfil_all(&t.token, &placed).await;
        assert_eq!(
            app.states_of(&t.token, &v).await,
            (0, 0, 0),
            "round {round}"
        );
        let movements = app.movements_of(&t.token, &v).await;
        let sold = sales(&movements);
        assert_eq!(sold.len(), 50, "round {round}");
        for order in &placed {
            assert_eq!(
                sold.iter()
                    .filter(|m| m["orderId"] == order.as_str())
                    .count(),
                1,
                "round {round}: order {order} sold once"
            );
        }
        let after: BTreeSet<i64> = sold
            .iter()
            .map(|m| m["stockAfter"].as_i64().unwrap())
            .collect();
        assert_eq!(
            after,
            (0..50).collect(),
            "round {round}: every sale saw its own on hand"
        );
        app.assert_audit_clean(&t.token).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_orders_for_fifty_units_five_times() {
    let Some(app) = spawn_app().await else {
        return;
    };
    last_items_race(&app, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_any_lock_the_store_alone_refuses_to_oversell() {
    let Some(app) = spawn_app_with_lock(Arc::new(NoopLock)).await else {
        return;
    };
    last_items_race(&app, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_line_orders_in_opposite_orders_never_deadlock_or_half_apply() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("pair")).await;
    let a = app.variant_with_stock(&t.token, "PAIR-A", 60).await;
    let b = app.variant_with_stock(&t.token, "PAIR-B", 60).await;
    let calls = (0..100).map(|i| {
        let lines = if i % 2 == 0 {
            json!([{"variantId": a, "quantity": 1}, {"variantId": b, "quantity": 1}])
        } else {
            json!([{"variantId": b, "quantity": 1}, {"variantId": a, "quantity": 1}])
        };
        app.post("/v1/orders", &t.token, json!({"lines": lines}))
    });
    let results = tokio::time::timeout(std::time::Duration::from_secs(60), join_all(calls))
        .await
        .expect("no deadlock");
    let placed: Vec<String> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .map(|(_, body)| body["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(placed.len(), 60);
    assert!(results
        .iter()
        .all(|(s, _)| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT));
    // Placed: both lines of every order are committed, nothing is sold yet.
    for v in [&a, &b] {
        assert_eq!(
            app.states_of(&t.token, v).await,
            (0, 60, 60),
            "(stock, onHand, committed)"
        );
        assert_eq!(
            app.movements_of(&t.token, v).await.len(),
            1,
            "placing writes no movement"
        );
    }
    app.assert_audit_clean(&t.token).await;

    // Fulfilled, all at once: every order sells both of its lines, one SALE each.
    app.fulfil_all(&t.token, &placed).await;
    assert_eq!(app.states_of(&t.token, &a).await, (0, 0, 0));
    assert_eq!(app.states_of(&t.token, &b).await, (0, 0, 0));
    let mut movements = app.movements_of(&t.token, &a).await;
    movements.extend(app.movements_of(&t.token, &b).await);
    for order in &placed {
        let mut of_order: Vec<(&str, &str, i64)> = movements
            .iter()
            .filter(|m| m["orderId"] == order.as_str())
            .map(|m| {
                (
                    m["variantId"].as_str().unwrap(),
                    m["type"].as_str().unwrap(),
                    m["quantity"].as_i64().unwrap(),
                )
            })
            .collect();
        of_order.sort();
        let mut expected = vec![(a.as_str(), "SALE", -1), (b.as_str(), "SALE", -1)];
        expected.sort();
        assert_eq!(
            of_order, expected,
            "order {order} must have both sales and nothing else"
        );
    }
    app.assert_audit_clean(&t.token).await;
}

/// What one request of the mixed race was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mixed {
    /// An order of 1 × A and 2 × B.
    OrderAB,
    /// An order of 1 × B.
    OrderB,
    /// A receipt of 1 × A and 1 × B on the purchase order.
    Receipt,
    /// An adjustment of A by this delta.
    Adjust(i64),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_racing_receipts_and_adjustments_keep_the_ledger_exact() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("mixed")).await;
    let a = app.variant_with_stock(&t.token, "MIX-A", 10).await;
    let b = app.variant_with_stock(&t.token, "MIX-B", 10).await;
    let (_, supplier) = app
        .post("/v1/suppliers", &t.token, json!({"name": "Supplier"}))
        .await;
    let (status, po) = app
        .post(
            "/v1/purchase-orders",
            &t.token,
            json!({"supplierId": supplier["id"], "lines": [
                {"variantId": a, "quantity": 40, "unitCost": 100},
                {"variantId": b, "quantity": 40, "unitCost": 100}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{po}");
    let po = po["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .post(
            &format!("/v1/purchase-orders/{po}/submit"),
            &t.token,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let kinds: Vec<Mixed> = (0..120)
        .map(|i| match i % 4 {
            0 => Mixed::OrderAB,
            1 => Mixed::OrderB,
            2 => Mixed::Receipt,
            _ => Mixed::Adjust(if i % 8 == 3 { -1 } else { 1 }),
        })
        .collect();
    let calls = kinds
        .iter()
        .map(|kind| match kind {
            Mixed::OrderAB => Call::post(
                "/v1/orders",
                json!({"lines": [{"variantId": a, "quantity": 1}, {"variantId": b, "quantity": 2}]}),
            ),
            Mixed::OrderB => Call::post(
                "/v1/orders",
                json!({"lines": [{"variantId": b, "quantity": 1}]}),
            ),
            Mixed::Receipt => Call::post(
                format!("/v1/purchase-orders/{po}/receipts"),
                json!({"lines": [{"variantId": a, "quantity": 1}, {"variantId": b, "quantity": 1}]}),
            ),
            Mixed::Adjust(delta) => Call::post(
                format!("/v1/variants/{a}/adjustments"),
                json!({"quantity": delta, "reason": "recount"}),
            ),
        })
        .collect();
    let answers = app.race(&t.token, calls).await;
    for answer in &answers {
        assert!(
            [StatusCode::CREATED, StatusCode::CONFLICT].contains(&answer.status),
            "unexpected {}: {}",
            answer.status,
            answer.body
        );
    }

    // What the 201s promise, summed per kind.
    let won = |wanted: fn(&Mixed) -> bool| {
        kinds
            .iter()
            .zip(&answers)
            .filter(|(k, r)| wanted(k) && r.status == StatusCode::CREATED)
            .count() as i64
    };
    let orders_ab = won(|k| *k == Mixed::OrderAB);
    let orders_b = won(|k| *k == Mixed::OrderB);
    let receipts = won(|k| *k == Mixed::Receipt);
    let adjustments: Vec<i64> = kinds
        .iter()
        .zip(&answers)
        .filter_map(|(k, r)| match k {
            Mixed::Adjust(d) if r.status == StatusCode::CREATED => Some(*d),
            _ => None,
        })
        .collect();
    assert!(
        orders_ab + orders_b > 0 && receipts > 0 && !adjustments.is_empty(),
        "every kind of write must have succeeded at least once: {orders_ab} + {orders_b} orders, {receipts} receipts, {} adjustments",
        adjustments.len()
    );
    let adjusted: i64 = adjustments.iter().sum();

    // Orders commit their units: available goes down, on hand only moves with receipts and
    // adjustments.
    assert_eq!(
        app.states_of(&t.token, &a).await,
        (
            10 + receipts + adjusted - orders_ab,
            10 + receipts + adjusted,
            orders_ab
        ),
        "A: (initial + received + adjusted - ordered, initial + received + adjusted, ordered)"
    );
    assert_eq!(
        app.states_of(&t.token, &b).await,
        (
            10 + receipts - 2 * orders_ab - orders_b,
            10 + receipts,
            2 * orders_ab + orders_b
        ),
        "B: (initial + received - ordered, initial + received, ordered)"
    );

    // The purchase order counts exactly the receipts that answered 201.
    let (_, po) = app
        .get(&format!("/v1/purchase-orders/{po}"), &t.token)
        .await;
    for line in po["lines"].as_array().unwrap() {
        assert_eq!(line["received"].as_i64(), Some(receipts), "{po}");
    }
    assert_eq!(po["status"], "PARTIALLY_RECEIVED", "{po}");

    // One movement per answered receipt and adjustment, nothing for the refused ones, and none
    // for orders until they are fulfilled.
    let count_of = |movements: &[Value], kind: &str| {
        movements.iter().filter(|m| m["type"] == kind).count() as i64
    };
    let of_a = app.movements_of(&t.token, &a).await;
    let of_b = app.movements_of(&t.token, &b).await;
    assert_eq!(count_of(&of_a, "SALE"), 0);
    assert_eq!(count_of(&of_b, "SALE"), 0);
    assert_eq!(count_of(&of_a, "PURCHASE"), receipts);
    assert_eq!(count_of(&of_b, "PURCHASE"), receipts);
    assert_eq!(
        count_of(&of_a, "ADJUSTMENT"),
        1 + adjustments.len() as i64,
        "the initial count and every adjustment that answered 201"
    );
    assert_eq!(count_of(&of_b, "ADJUSTMENT"), 1);
    assert_eq!(of_a.len() as i64, receipts + 1 + adjustments.len() as i64);
    assert_eq!(of_b.len() as i64, receipts + 1);
    let (_, orders) = app.get("/v1/orders?limit=200", &t.token).await;
    assert_eq!(
        orders["items"].as_array().unwrap().len() as i64,
        orders_ab + orders_b
    );
    app.assert_audit_clean(&t.token).await;

    // Fulfilling every placed order sells exactly its lines.
    let placed: Vec<(Mixed, String)> = kinds
        .iter()
        .zip(&answers)
        .filter(|(k, r)| {
            matches!(k, Mixed::OrderAB | Mixed::OrderB) && r.status == StatusCode::CREATED
        })
        .map(|(k, r)| (*k, r.body["id"].as_str().unwrap().to_owned()))
        .collect();
    let ids: Vec<String> = placed.iter().map(|(_, id)| id.clone()).collect();
    app.fulfil_all(&t.token, &ids).await;
    assert_eq!(
        app.states_of(&t.token, &a).await,
        (
            10 + receipts + adjusted - orders_ab,
            10 + receipts + adjusted - orders_ab,
            0
        )
    );
    assert_eq!(
        app.states_of(&t.token, &b).await,
        (
            10 + receipts - 2 * orders_ab - orders_b,
            10 + receipts - 2 * orders_ab - orders_b,
            0
        )
    );
    let of_a = app.movements_of(&t.token, &a).await;
    let of_b = app.movements_of(&t.token, &b).await;
    assert_eq!(count_of(&of_a, "SALE"), orders_ab);
    assert_eq!(count_of(&of_b, "SALE"), orders_ab + orders_b);
    let sold = |movements: &[Value], order: &str| -> Vec<i64> {
        movements
            .iter()
            .filter(|m| m["orderId"] == order)
            .map(|m| {
                assert_eq!(m["type"], "SALE", "{m}");
                m["quantity"].as_i64().unwrap()
            })
            .collect()
    };
    for (kind, order) in &placed {
        let expected: (Vec<i64>, Vec<i64>) = match kind {
            Mixed::OrderAB => (vec![-1], vec![-2]),
            _ => (vec![], vec![-1]),
        };
        assert_eq!(
            (sold(&of_a, order), sold(&of_b, order)),
            expected,
            "order {order} ({kind:?}): one SALE per line"
        );
    }
    app.assert_audit_clean(&t.token).await;
}

/// A placed order of `quantity` units of `variant`; returns its id.
async fn place(app: &TestApp, token: &str, variant: &str, quantity: i64) -> String {
    let (status, order) = app
        .post(
            "/v1/orders",
            token,
            json!({"lines": [{"variantId": variant, "quantity": quantity}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order["id"].as_str().unwrap().to_owned()
}

/// Asserts a losing transition answered 409 as a refused status change or a concurrent change.
fn assert_lost(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert!(
        matches!(
            answer.problem_type(),
            Some("/problems/invalid-transition" | "/problems/conflict")
        ),
        "{}",
        answer.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_cancels_of_one_order_release_it_once() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("cancels")).await;
    let v = app.variant_with_stock(&t.token, "CANCEL-1", 10).await;
    for round in 0..3 {
        let order = place(&app, &t.token, &v, 3).await;
        assert_eq!(app.states_of(&t.token, &v).await, (7, 10, 3));
        let cancel = Call::post(format!("/v1/orders/{order}/cancel"), json!({}));
        let answers = app.race(&t.token, vec![cancel; 16]).await;
        let won: Vec<&Answer> = answers
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .collect();
        assert_eq!(
            won.len(),
            1,
            "round {round}: exactly one cancel wins: {:?}",
            summary(&answers)
        );
        assert_eq!(won[0].body["status"], "CANCELLED");
        answers
            .iter()
            .filter(|r| r.status != StatusCode::OK)
            .for_each(assert_lost);

        assert_eq!(
            app.states_of(&t.token, &v).await,
            (10, 10, 0),
            "round {round}: the commitment is released once, nothing left on hand"
        );
        let of_order = app.movements_of_order(&t.token, &v, &order).await;
        assert!(
            of_order.is_empty(),
            "round {round}: a cancelled order moved nothing: {of_order:?}"
        );
        app.assert_audit_clean(&t.token).await;
    }
    assert_eq!(
        app.movements_of(&t.token, &v).await.len(),
        1,
        "only the initial count"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancel_racing_a_fulfil_leaves_exactly_the_winners_state() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("cancel-fulfil")).await;
    let v = app.variant_with_stock(&t.token, "CF-1", 100).await;
    let mut orders = Vec::new();
    for _ in 0..10 {
        orders.push(place(&app, &t.token, &v, 2).await);
    }
    assert_eq!(app.states_of(&t.token, &v).await, (80, 100, 20));
    // Every order gets one cancel and one fulfil, all twenty sent at once.
    let calls = orders
        .iter()
        .flat_map(|o| {
            [
                Call::post(format!("/v1/orders/{o}/cancel"), json!({})),
                Call::post(format!("/v1/orders/{o}/fulfil"), json!({})),
            ]
        })
        .collect();
    let answers = app.race(&t.token, calls).await;

    let main = app.default_location(&t.token).await;
    let mut fulfilled = 0;
    for (order, pair) in orders.iter().zip(answers.chunks(2)) {
        let (cancel, fulfil) = (&pair[0], &pair[1]);
        let winners = pair.iter().filter(|r| r.status == StatusCode::OK).count();
        assert_eq!(
            winners,
            1,
            "order {order}: exactly one wins: {:?}",
            summary(pair)
        );
        let (_, now) = app.get(&format!("/v1/orders/{order}"), &t.token).await;
        let of_order = app.movements_of_order(&t.token, &v, order).await;
        if cancel.status == StatusCode::OK {
            assert_lost(fulfil);
            assert_eq!(now["status"], "CANCELLED", "{now}");
            assert_eq!(cancel.body["status"], "CANCELLED");
            assert!(
                of_order.is_empty(),
                "order {order}: a cancelled order sold nothing and returned nothing: {of_order:?}"
            );
        } else {
            assert_lost(cancel);
            fulfilled += 1;
            assert_eq!(now["status"], "FULFILLED", "{now}");
            assert_eq!(fulfil.body["status"], "FULFILLED");
            assert_eq!(of_order.len(), 1, "order {order}: one SALE: {of_order:?}");
            assert_eq!(of_order[0]["type"], "SALE");
            assert_eq!(of_order[0]["quantity"], -2);
            assert_eq!(of_order[0]["locationId"], main.as_str());
        }
    }
    assert_eq!(
        app.states_of(&t.token, &v).await,
        (100 - 2 * fulfilled, 100 - 2 * fulfilled, 0),
        "only the fulfilled orders took their units; the cancelled ones released theirs"
    );
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_returns_racing_for_more_than_was_sold_take_back_only_one() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("returns")).await;
    let v = app.variant_with_stock(&t.token, "RET-1", 100).await;
    let mut orders = Vec::new();
    for _ in 0..8 {
        let order = place(&app, &t.token, &v, 3).await;
        let (status, body) = app
            .post(&format!("/v1/orders/{order}/fulfil"), &t.token, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        orders.push(order);
    }
    assert_eq!(
        app.states_of(&t.token, &v).await,
        (100 - 8 * 3, 100 - 8 * 3, 0)
    );
    // Sold 3; two returns of 2 each per order, all sixteen sent at once.
    let calls = orders
        .iter()
        .flat_map(|o| {
            let ret = Call::post(
                format!("/v1/orders/{o}/returns"),
                json!({"lines": [{"variantId": v, "quantity": 2}], "reason": "too small"}),
            );
            [ret.clone(), ret]
        })
        .collect();
    let answers = app.race(&t.token, calls).await;

    for (order, pair) in orders.iter().zip(answers.chunks(2)) {
        let won: Vec<&Answer> = pair
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .collect();
        assert_eq!(
            won.len(),
            1,
            "order {order}: exactly one return: {:?}",
            summary(pair)
        );
        pair.iter()
            .filter(|r| r.status != StatusCode::CREATED)
            .for_each(|r| {
                assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
                assert_eq!(r.problem_type(), Some("/problems/conflict"), "{}", r.body);
            });
        let (_, now) = app.get(&format!("/v1/orders/{order}"), &t.token).await;
        assert_eq!(now["status"], "PARTIALLY_RETURNED", "{now}");
        assert_eq!(now["lines"][0]["returned"], 2, "{now}");
        let returns: Vec<_> = app
            .movements_of_order(&t.token, &v, order)
            .await
            .into_iter()
            .filter(|m| m["type"] == "RETURN")
            .collect();
        assert_eq!(returns.len(), 1, "order {order}: {returns:?}");
        assert_eq!(returns[0]["quantity"], 2);
    }
    assert_eq!(
        app.states_of(&t.token, &v).await,
        (100 - 8 * 3 + 8 * 2, 100 - 8 * 3 + 8 * 2, 0),
        "one return of 2 per order"
    );
    app.assert_audit_clean(&t.token).await;
}

/// A lock service that is always busy.
struct AlwaysBusy;

#[async_trait::async_trait]
impl domain::lock::LockManager for AlwaysBusy {
    async fn acquire(
        &self,
        _keys: &[domain::lock::LockKey],
        _wait: std::time::Duration,
    ) -> Result<domain::lock::LockGuard, domain::lock::LockError> {
        Err(domain::lock::LockError::Timeout)
    }
}

#[tokio::test]
async fn a_lock_wait_that_runs_out_is_a_retryable_503_and_writes_nothing() {
    let Some(app) = spawn_app_with_lock(Arc::new(AlwaysBusy)).await else {
        return;
    };
    let t = app.register(&slug("busy")).await;
    let product = app.product(&t.token, "Busy").await;
    let (_, v) = app
        .post(
            "/v1/variants",
            &t.token,
            json!({"productId": product, "sku": "BUSY-1", "price": 1}),
        )
        .await;
    let res = app
        .client
        .post(format!(
            "{}/v1/variants/{}/adjustments",
            app.address,
            v["id"].as_str().unwrap()
        ))
        .bearer_auth(&t.token)
        .json(&json!({"quantity": 5, "reason": "count"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(app.stock_of(&t.token, v["id"].as_str().unwrap()).await, 0);
}
