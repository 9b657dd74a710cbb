//! Checkout holds raced for real, over HTTP: holds for the last units, holds racing orders and
//! moves into damaged for the same units, confirmations sent around the expiry instant, and an
//! order placed right after a hold expired with no sweep run since.
//!
//! Every test ends with the variant's states read back (on hand − committed − reserved −
//! unavailable == stock, never below zero) and an audit without drift.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use api::config::Config;
use api::startup::{Application, Overrides};
use chrono::{DateTime, Utc};
use domain::lock::NoopLock;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    fresh_database, slug, spawn_app, spawn_app_with_lock, summary, Answer, Call, TestApp,
};

const INSUFFICIENT: &str = "/problems/insufficient-stock";

/// A variant's (or a level's) states as the API shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct States {
    stock: i64,
    on_hand: i64,
    committed: i64,
    reserved: i64,
    unavailable: i64,
    damaged: i64,
    quality_control: i64,
    safety_stock: i64,
}

impl States {
    /// Reads the states of `body` (a variant, a level, or a move's `level`/`total`), asserting
    /// that they add up: stock (available) = on hand − committed − reserved − unavailable ≥ 0,
    /// and unavailable is the sum of its parts.
    fn of(body: &Value) -> Self {
        let n = |v: &Value, field: &str| {
            v[field]
                .as_i64()
                .unwrap_or_else(|| panic!("{field} missing: {body}"))
        };
        let by = &body["unavailableBy"];
        let s = States {
            stock: n(body, "stock"),
            on_hand: n(body, "onHand"),
            committed: n(body, "committed"),
            reserved: n(body, "reserved"),
            unavailable: n(body, "unavailable"),
            damaged: n(by, "damaged"),
            quality_control: n(by, "qualityControl"),
            safety_stock: n(by, "safetyStock"),
        };
        assert_eq!(
            s.unavailable,
            s.damaged + s.quality_control + s.safety_stock,
            "unavailable is the sum of its states: {body}"
        );
        assert_eq!(
            s.stock,
            s.on_hand - s.committed - s.reserved - s.unavailable,
            "available = on hand − committed − reserved − unavailable: {body}"
        );
        assert!(s.stock >= 0, "available below zero: {body}");
        s
    }
}

async fn states(app: &TestApp, token: &str, variant: &str) -> States {
    States::of(&app.variant(token, variant).await)
}

fn hold(variant: &str, quantity: i64, ttl_seconds: i64) -> Call {
    Call::post(
        "/v1/reservations",
        json!({"lines": [{"variantId": variant, "quantity": quantity}], "ttlSeconds": ttl_seconds}),
    )
}

fn order(variant: &str, quantity: i64) -> Call {
    Call::post(
        "/v1/orders",
        json!({"lines": [{"variantId": variant, "quantity": quantity}]}),
    )
}

fn to_damaged(variant: &str, quantity: i64) -> Call {
    Call::post(
        format!("/v1/variants/{variant}/moves"),
        json!({"from": "available", "to": "damaged", "quantity": quantity, "reason": "dropped"}),
    )
}

fn count(answers: &[Answer], status: StatusCode) -> usize {
    answers.iter().filter(|a| a.status == status).count()
}

/// Asserts every answer is a 201 or a 409 refusal for stock naming `variant`.
fn assert_created_or_short(answers: &[Answer], variant: &str) {
    for a in answers {
        match a.status {
            StatusCode::CREATED => {}
            StatusCode::CONFLICT => {
                assert_eq!(a.problem_type(), Some(INSUFFICIENT), "{}", a.body);
                assert_eq!(
                    a.body["shortages"][0]["variantId"], variant,
                    "the shortage names the variant: {}",
                    a.body
                );
            }
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
}

fn ids_of<'a>(answers: impl IntoIterator<Item = &'a Answer>) -> BTreeSet<String> {
    answers
        .into_iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .map(|a| a.body["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of every reservation listed with `status` (all pages).
async fn listed(app: &TestApp, token: &str, status: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let (code, page) = app
            .get(
                format!("/v1/reservations?status={status}&limit=200&cursor={cursor}"),
                token,
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{page}");
        for r in page["items"].as_array().unwrap() {
            assert_eq!(r["status"], status, "listed as it reads now: {r}");
            assert!(
                ids.insert(r["id"].as_str().unwrap().to_owned()),
                "listed once: {r}"
            );
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return ids,
        }
    }
}

/// How many orders the tenant has (all pages).
async fn orders_placed(app: &TestApp, token: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let (code, page) = app
            .get(format!("/v1/orders?limit=200&cursor={cursor}"), token)
            .await;
        assert_eq!(code, StatusCode::OK, "{page}");
        for o in page["items"].as_array().unwrap() {
            ids.insert(o["id"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return ids,
        }
    }
}

fn instant(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("an RFC 3339 instant: {value}"))
        .with_timezone(&Utc)
}

/// Sleeps until `at` by the system clock (the server's clock too: same machine).
async fn sleep_until(at: DateTime<Utc>) {
    if let Ok(wait) = (at - Utc::now()).to_std() {
        tokio::time::sleep(wait).await;
    }
}

/// The app on a fresh database sweeping expired reservations every `interval`.
async fn spawn_app_sweeping_every(interval: Duration) -> Option<TestApp> {
    let (database, dir) = fresh_database()?;
    let mut config = Config::for_tests(database);
    config.reservation_sweep = interval;
    let app = Application::build_with(config, Overrides::default())
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.http_port());
    tokio::spawn(app.run_until_stopped());
    Some(TestApp::serving(address, dir))
}

/// 200 one-unit holds at once for a variant with 50 available: exactly 50 held, 150 refused
/// for stock, nothing else moves.
async fn last_units_held_exactly_once(app: &TestApp) {
    let t = app.register(&slug("hold-race")).await;
    let v = app.variant_with_stock(&t.token, "HOLD-1", 50).await;
    let main = app.default_location(&t.token).await;

    let answers = app
        .race(&t.token, (0..200).map(|_| hold(&v, 1, 600)).collect())
        .await;
    assert_created_or_short(&answers, &v);
    assert_eq!(
        (
            count(&answers, StatusCode::CREATED),
            count(&answers, StatusCode::CONFLICT)
        ),
        (50, 150),
        "{:?}",
        summary(&answers)
    );
    for a in answers.iter().filter(|a| a.status == StatusCode::CREATED) {
        let r = &a.body;
        assert_eq!(r["status"], "ACTIVE", "{r}");
        assert_eq!(r["lines"][0]["variantId"], v.as_str(), "{r}");
        assert_eq!(r["lines"][0]["quantity"], 1, "{r}");
        assert_eq!(
            r["lines"][0]["allocations"],
            json!([{"locationId": main, "quantity": 1}]),
            "{r}"
        );
        assert!(r["orderId"].is_null(), "{r}");
    }
    for a in answers.iter().filter(|a| a.status == StatusCode::CONFLICT) {
        let short = &a.body["shortages"][0];
        assert_eq!(
            (&short["requested"], &short["available"]),
            (&json!(1), &json!(0)),
            "{}",
            a.body
        );
    }

    let held = ids_of(&answers);
    assert_eq!(held.len(), 50, "distinct reservation ids");
    assert_eq!(listed(app, &t.token, "ACTIVE").await, held);
    let variant = app.variant(&t.token, &v).await;
    let expected = States {
        on_hand: 50,
        reserved: 50,
        ..States::default()
    };
    assert_eq!(States::of(&variant), expected, "{variant}");
    assert_eq!(States::of(&variant["levels"][0]), expected, "{variant}");
    assert_eq!(
        app.movements_of(&t.token, &v).await.len(),
        1,
        "a hold writes no movement: only the initial count is there"
    );
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_holds_for_fifty_units_hold_exactly_fifty() {
    let Some(app) = spawn_app().await else {
        return;
    };
    last_units_held_exactly_once(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_any_lock_the_store_alone_refuses_to_overhold() {
    let Some(app) = spawn_app_with_lock(Arc::new(NoopLock)).await else {
        return;
    };
    last_units_held_exactly_once(&app).await;
}

/// What one request of the mixed race was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mixed {
    Order,
    Hold,
    Damage,
}

/// Units of the mixed race, and requests of each kind: any two kinds together ask for less
/// than there is, all three for more, so each kind wins at least `INITIAL − 2 × EACH` units
/// whichever reaches the store first, and some requests are refused.
const MIXED_INITIAL: i64 = 120;
const MIXED_EACH: i64 = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_holds_and_moves_into_damaged_race_for_the_same_units() {
    let Some(app) = spawn_app().await else {
        return;
    };
    const INITIAL: i64 = MIXED_INITIAL;
    let t = app.register(&slug("hold-mix")).await;
    let v = app.variant_with_stock(&t.token, "HOLD-MIX", INITIAL).await;

    // While the race runs, a reader checks the states add up and available stays ≥ 0.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (client, address, token, v) = (
            app.client.clone(),
            app.address.clone(),
            t.token.clone(),
            v.clone(),
        );
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut reads = 0;
            while !stop.load(Ordering::SeqCst) {
                let res = client
                    .get(format!("{address}/v1/variants/{v}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("read sent");
                assert_eq!(res.status(), StatusCode::OK);
                let body: Value = res.json().await.expect("a variant");
                let s = States::of(&body);
                assert_eq!(s.on_hand, INITIAL, "nothing leaves on hand: {body}");
                reads += 1;
            }
            reads
        })
    };

    let kinds: Vec<Mixed> = (0..3 * MIXED_EACH)
        .map(|i| match i % 3 {
            0 => Mixed::Order,
            1 => Mixed::Hold,
            _ => Mixed::Damage,
        })
        .collect();
    let calls = kinds
        .iter()
        .map(|k| match k {
            Mixed::Order => order(&v, 1),
            Mixed::Hold => hold(&v, 1, 600),
            Mixed::Damage => to_damaged(&v, 1),
        })
        .collect();
    let answers = app.race(&t.token, calls).await;
    stop.store(true, Ordering::SeqCst);
    let reads = reader.await.expect("the reader saw consistent states");
    assert_created_or_short(&answers, &v);

    let won = |kind: Mixed| -> Vec<&Answer> {
        kinds
            .iter()
            .zip(&answers)
            .filter(|(k, a)| **k == kind && a.status == StatusCode::CREATED)
            .map(|(_, a)| a)
            .collect()
    };
    let (orders, holds, damaged) = (won(Mixed::Order), won(Mixed::Hold), won(Mixed::Damage));
    let (o, h, d) = (
        orders.len() as i64,
        holds.len() as i64,
        damaged.len() as i64,
    );
    let least = INITIAL - 2 * MIXED_EACH;
    assert!(
        o >= least && h >= least && d >= least,
        "each kind won at least {least} units: {o} orders, {h} holds, {d} moves: {:?}",
        summary(&answers)
    );
    assert_eq!(
        o + h + d,
        INITIAL,
        "{} one-unit requests for {INITIAL} units: every unit went to exactly one winner",
        3 * MIXED_EACH
    );
    for m in &damaged {
        let s = States::of(&m.body["level"]);
        assert_eq!(s.on_hand, INITIAL, "{}", m.body);
        States::of(&m.body["total"]);
        assert_eq!(m.body["movement"]["type"], "MOVE", "{}", m.body);
        assert_eq!(m.body["movement"]["quantity"], 0, "{}", m.body);
        assert_eq!(
            m.body["movement"]["unavailable"],
            json!({"damaged": 1, "qualityControl": 0, "safetyStock": 0}),
            "{}",
            m.body
        );
    }

    let after = states(&app, &t.token, &v).await;
    assert_eq!(
        after,
        States {
            stock: 0,
            on_hand: INITIAL,
            committed: o,
            reserved: h,
            unavailable: d,
            damaged: d,
            ..States::default()
        },
        "{reads} reads during the race"
    );
    assert_eq!(
        listed(&app, &t.token, "ACTIVE").await,
        ids_of(holds.clone())
    );
    assert_eq!(orders_placed(&app, &t.token).await, ids_of(orders.clone()));
    let moves = app
        .movements_where(&t.token, &format!("variantId={v}&type=MOVE"))
        .await;
    assert_eq!(moves.len() as i64, d, "one MOVE per move that won");
    app.assert_audit_clean(&t.token).await;

    // Every hold that won is confirmed, at once: its unit turns from reserved into committed.
    let confirms = holds
        .iter()
        .map(|a| {
            Call::post(
                format!(
                    "/v1/reservations/{}/confirm",
                    a.body["id"].as_str().unwrap()
                ),
                json!({}),
            )
        })
        .collect();
    let confirmed = app.race(&t.token, confirms).await;
    assert!(
        confirmed.iter().all(|a| a.status == StatusCode::CREATED),
        "{:?}",
        summary(&confirmed)
    );
    assert_eq!(
        states(&app, &t.token, &v).await,
        States {
            stock: 0,
            on_hand: INITIAL,
            committed: o + h,
            unavailable: d,
            damaged: d,
            ..States::default()
        }
    );
    assert!(listed(&app, &t.token, "ACTIVE").await.is_empty());
    assert_eq!(
        listed(&app, &t.token, "CONFIRMED").await,
        ids_of(holds.clone())
    );
    app.assert_audit_clean(&t.token).await;
}

/// One confirmation sent near its reservation's expiry: what it was answered and when.
struct Attempt {
    reservation: String,
    expires_at: DateTime<Utc>,
    sent_at: DateTime<Utc>,
    answered_at: DateTime<Utc>,
    answer: Answer,
}

/// Places `holds` one-unit, one-second holds of `variant` one after another, and as soon as
/// each is answered schedules its confirmation, from its own task, at its expiry plus an offset
/// spread evenly from `from_ms` (the first hold) to `to_ms` (the last). Later holds are placed
/// while earlier ones are being confirmed. Returns each hold's confirmation attempt.
///
/// The holds are placed one at a time because a hold's expiry counts from when its request
/// started: placed all at once, a store that is slow under contention answers some of them
/// when their second is nearly over, or already over, and no confirmation could be sent
/// before their expiry.
async fn hold_then_confirm_around_expiry(
    app: &TestApp,
    token: &str,
    variant: &str,
    holds: usize,
    from_ms: i64,
    to_ms: i64,
) -> Vec<Attempt> {
    let n = holds.max(2) as i64 - 1;
    let mut tasks = Vec::with_capacity(holds);
    for i in 0..holds {
        let placed = app.send(token, &hold(variant, 1, 1)).await;
        assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
        let id = placed.body["id"].as_str().unwrap().to_owned();
        let expires_at = instant(&placed.body["expiresAt"]);
        let offset = from_ms + (to_ms - from_ms) * i as i64 / n;
        let at = expires_at + chrono::Duration::milliseconds(offset);
        let call = Call::post(
            format!("/v1/reservations/{id}/confirm"),
            json!({"note": "paid"}),
        );
        let app = app.handle();
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            sleep_until(at).await;
            let sent_at = Utc::now();
            let answer = app.send(&token, &call).await;
            Attempt {
                reservation: id,
                expires_at,
                sent_at,
                answered_at: Utc::now(),
                answer,
            }
        }));
    }
    let mut attempts = Vec::with_capacity(holds);
    for task in tasks {
        attempts.push(task.await.expect("the confirming task ran"));
    }
    attempts
}

/// Asserts each reservation of `attempts` ended confirmed XOR expired, as its confirmation was
/// answered: 201 with the order exactly for those reading CONFIRMED (with that order), 409 for
/// those reading EXPIRED (with none), never anything else. Returns the ids confirmed.
fn assert_confirmed_xor_expired(
    attempts: &[Attempt],
    finals: &[(StatusCode, Value)],
) -> BTreeSet<String> {
    let mut confirmed = BTreeSet::new();
    let (mut expired, mut early, mut late) = (0, 0, 0);
    for (attempt, (code, now)) in attempts.iter().zip(finals) {
        assert_eq!(*code, StatusCode::OK, "{now}");
        let a = &attempt.answer;
        // The stored expiry decides; it is what the reservation reads now.
        let expires_at = instant(&now["expiresAt"]);
        assert!(
            (attempt.expires_at - expires_at).num_milliseconds().abs() <= 1,
            "the expiry read is the one answered at creation: {} vs {now}",
            attempt.expires_at
        );
        let lead = |t: DateTime<Utc>| (expires_at - t).num_milliseconds();
        let context = format!(
            "reservation {} sent {} ms and answered {} ms before its expiry: {} {} / now {now}",
            attempt.reservation,
            lead(attempt.sent_at),
            lead(attempt.answered_at),
            a.status,
            a.body
        );
        match (a.status, now["status"].as_str()) {
            (StatusCode::CREATED, Some("CONFIRMED")) => {
                assert_eq!(now["orderId"], a.body["id"], "{context}");
                assert_eq!(a.body["status"], "PLACED", "{context}");
                assert_eq!(a.body["lines"][0]["quantity"], 1, "{context}");
                assert!(
                    attempt.sent_at < expires_at,
                    "confirmed although sent after its expiry: {context}"
                );
                confirmed.insert(attempt.reservation.clone());
            }
            (StatusCode::CONFLICT, Some("EXPIRED")) => {
                assert!(now["orderId"].is_null(), "{context}");
                assert!(
                    attempt.answered_at >= expires_at,
                    "refused although answered before its expiry: {context}"
                );
                expired += 1;
            }
            _ => panic!("neither confirmed nor expired, or both: {context}"),
        }
        if attempt.answered_at < expires_at {
            early += 1;
        }
        if attempt.sent_at >= expires_at {
            late += 1;
        }
    }
    {
        use std::io::Write;
        // Past the harness's capture: how the confirmations fell around the expiry.
        let _ = writeln!(
            std::io::stderr(),
            "confirmations around expiry: {} confirmed, {expired} expired; {early} answered \
             before expiry, {late} sent after",
            confirmed.len()
        );
    }
    assert!(
        !confirmed.is_empty() && expired > 0,
        "the confirmations straddle the expiry: {} confirmed, {expired} expired ({early} \
         answered before expiry, {late} sent after)",
        confirmed.len()
    );
    confirmed
}

/// 100 one-second holds, each confirmed from 300 ms before to 150 ms after its own expiry
/// (the first earliest, the last latest).
async fn confirmations_at_the_expiry_instant_confirm_xor_expire(app: &TestApp) {
    const INITIAL: i64 = 150;
    const HOLDS: usize = 100;
    let t = app.register(&slug("hold-xor")).await;
    let v = app.variant_with_stock(&t.token, "HOLD-XOR", INITIAL).await;

    let attempts = hold_then_confirm_around_expiry(app, &t.token, &v, HOLDS, -300, 150).await;
    let held: Vec<(String, DateTime<Utc>)> = attempts
        .iter()
        .map(|a| (a.reservation.clone(), a.expires_at))
        .collect();

    // Past every expiry: each reads CONFIRMED or EXPIRED, as its confirmation was answered.
    sleep_until(held.iter().map(|(_, e)| *e).max().unwrap() + chrono::Duration::milliseconds(20))
        .await;
    let mut finals = Vec::with_capacity(HOLDS);
    for (id, _) in &held {
        finals.push(app.get(format!("/v1/reservations/{id}"), &t.token).await);
    }
    let confirmed = assert_confirmed_xor_expired(&attempts, &finals);
    let c = confirmed.len() as i64;

    assert_eq!(
        states(app, &t.token, &v).await,
        States {
            stock: INITIAL - c,
            on_hand: INITIAL,
            committed: c,
            ..States::default()
        },
        "each unit counted once: committed by its order or back to available"
    );
    assert_eq!(listed(app, &t.token, "CONFIRMED").await, confirmed);
    let all: BTreeSet<String> = held.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        listed(app, &t.token, "EXPIRED").await,
        all.difference(&confirmed).cloned().collect()
    );
    assert!(listed(app, &t.token, "ACTIVE").await.is_empty());
    let orders = orders_placed(app, &t.token).await;
    let ordered: BTreeSet<String> = attempts
        .iter()
        .filter(|a| a.answer.status == StatusCode::CREATED)
        .map(|a| a.answer.body["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(orders, ordered, "one order per confirmation, no other");
    app.assert_audit_clean(&t.token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirmations_racing_the_expiry_instant_confirm_or_expire_never_both() {
    let Some(app) = spawn_app().await else {
        return;
    };
    confirmations_at_the_expiry_instant_confirm_xor_expire(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_right_after_a_holds_expiry_gets_its_units_without_a_sweep() {
    // The sweep would run only an hour from now: expiry alone must free the units.
    let Some(app) = spawn_app_sweeping_every(Duration::from_secs(3600)).await else {
        return;
    };
    let t = app.register(&slug("hold-exp")).await;
    let v = app.variant_with_stock(&t.token, "HOLD-EXP", 5).await;

    let held = app.send(&t.token, &hold(&v, 5, 1)).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    let id = held.body["id"].as_str().unwrap().to_owned();
    let expires_at = instant(&held.body["expiresAt"]);
    let refused = app.send(&t.token, &order(&v, 1)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.problem_type(), Some(INSUFFICIENT));
    assert_eq!(
        states(&app, &t.token, &v).await,
        States {
            on_hand: 5,
            reserved: 5,
            ..States::default()
        }
    );

    // Right after the expiry instant, ten one-unit orders at once: the five held units go to
    // exactly five of them.
    sleep_until(expires_at + chrono::Duration::milliseconds(5)).await;
    let answers = app
        .race(&t.token, (0..10).map(|_| order(&v, 1)).collect())
        .await;
    assert_created_or_short(&answers, &v);
    assert_eq!(
        (
            count(&answers, StatusCode::CREATED),
            count(&answers, StatusCode::CONFLICT)
        ),
        (5, 5),
        "{:?}",
        summary(&answers)
    );
    assert_eq!(
        states(&app, &t.token, &v).await,
        States {
            on_hand: 5,
            committed: 5,
            ..States::default()
        }
    );

    let (code, now) = app.get(format!("/v1/reservations/{id}"), &t.token).await;
    assert_eq!(code, StatusCode::OK, "{now}");
    assert_eq!(now["status"], "EXPIRED", "{now}");
    assert!(listed(&app, &t.token, "ACTIVE").await.is_empty());
    assert_eq!(
        listed(&app, &t.token, "EXPIRED").await,
        BTreeSet::from([id.clone()])
    );
    let late = app
        .send(
            &t.token,
            &Call::post(format!("/v1/reservations/{id}/confirm"), json!({})),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert_eq!(
        states(&app, &t.token, &v).await.committed,
        5,
        "a refused confirmation commits nothing"
    );
    app.assert_audit_clean(&t.token).await;
}
