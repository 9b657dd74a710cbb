//! Checkout holds raced across two `stockroom` processes sharing one MongoDB and one Redis: holds
//! for the last units sent to both, holds racing orders and moves into damaged on both,
//! reservations made on one instance and confirmed on the other around their expiry instant
//! while both sweep, and an order on one instance right after a hold made on the other expired
//! with no sweep run since.
//!
//! Both processes read the same clock (one machine), so a confirmation sent after a hold's
//! expiry must be refused and one answered before it must be confirmed, whichever instance
//! answers.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{
    call, default_location, http_client, loud, mongo_url, redis_url, register, start_binary,
    variant, Instance,
};

const INSUFFICIENT: &str = "/problems/insufficient-stock";

/// Two binaries on one fresh MongoDB database and the test Redis, sweeping expired reservations
/// every `sweep_secs`, or `None` when a server is missing (after a loud line). The lock wait is
/// long so that no request gives up on the lock under load.
fn two_instances(sweep_secs: u64) -> Option<(Instance, Instance)> {
    let redis = redis_url()?;
    let db = mongo_url()?;
    let sweep = sweep_secs.to_string();
    let env = [
        ("STOCKROOM_DATABASE_URL", db.as_str()),
        ("STOCKROOM_REDIS_URL", redis.as_str()),
        ("STOCKROOM_LOCK_WAIT_MS", "60000"),
        ("STOCKROOM_RESERVATION_SWEEP_SECS", sweep.as_str()),
    ];
    Some((start_binary(&env), start_binary(&env)))
}

fn slug(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::now_v7().simple().to_string()[24..]
    )
}

/// A variant's (or a level's) states as read, checked to add up: stock (available) = on hand −
/// committed − reserved − unavailable ≥ 0, unavailable the sum of its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct States {
    stock: i64,
    on_hand: i64,
    committed: i64,
    reserved: i64,
    unavailable: i64,
    damaged: i64,
}

impl States {
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
        };
        assert_eq!(
            s.unavailable,
            s.damaged + n(by, "qualityControl") + n(by, "safetyStock"),
            "{body}"
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

async fn get(client: &reqwest::Client, http: &str, path: &str, token: &str) -> Value {
    let (status, body) = call(client, format!("{http}{path}"), token, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn states(client: &reqwest::Client, http: &str, token: &str, v: &str) -> States {
    States::of(&get(client, http, &format!("/v1/variants/{v}"), token).await)
}

fn hold(variant: &str, quantity: i64, ttl_seconds: i64) -> (String, Value) {
    (
        "/v1/reservations".to_owned(),
        json!({"lines": [{"variantId": variant, "quantity": quantity}], "ttlSeconds": ttl_seconds}),
    )
}

fn order(variant: &str, quantity: i64) -> (String, Value) {
    (
        "/v1/orders".to_owned(),
        json!({"lines": [{"variantId": variant, "quantity": quantity}]}),
    )
}

fn to_damaged(variant: &str) -> (String, Value) {
    (
        format!("/v1/variants/{variant}/moves"),
        json!({"from": "available", "to": "damaged", "quantity": 1, "reason": "dropped"}),
    )
}

/// Sends every call at once, call `i` to instance `i % 2`; answers in the order of `calls`.
async fn race_at(
    client: &reqwest::Client,
    instances: [&Instance; 2],
    token: &str,
    calls: Vec<(String, Value)>,
) -> Vec<(StatusCode, Value)> {
    let sends = calls.into_iter().enumerate().map(|(i, (path, body))| {
        let http = &instances[i % 2].http;
        call(client, format!("{http}{path}"), token, Some(body))
    });
    join_all(sends).await
}

fn statuses(answers: &[(StatusCode, Value)]) -> Vec<u16> {
    answers.iter().map(|(s, _)| s.as_u16()).collect()
}

fn count(answers: &[(StatusCode, Value)], status: StatusCode) -> usize {
    answers.iter().filter(|(s, _)| *s == status).count()
}

/// Every answer is a 201 or a 409 refusal for stock naming `variant`.
fn assert_created_or_short(answers: &[(StatusCode, Value)], variant: &str) {
    for (status, body) in answers {
        match *status {
            StatusCode::CREATED => {}
            StatusCode::CONFLICT => {
                assert_eq!(body["type"], INSUFFICIENT, "{body}");
                assert_eq!(body["shortages"][0]["variantId"], variant, "{body}");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
}

fn created_ids<'a>(answers: impl IntoIterator<Item = &'a (StatusCode, Value)>) -> BTreeSet<String> {
    answers
        .into_iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .map(|(_, b)| b["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of every reservation listed with `status` on `http` (all pages).
async fn listed(
    client: &reqwest::Client,
    http: &str,
    token: &str,
    status: &str,
) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let page = get(
            client,
            http,
            &format!("/v1/reservations?status={status}&limit=200&cursor={cursor}"),
            token,
        )
        .await;
        for r in page["items"].as_array().unwrap() {
            assert_eq!(r["status"], status, "{r}");
            assert!(ids.insert(r["id"].as_str().unwrap().to_owned()), "{r}");
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return ids,
        }
    }
}

/// The ids of every order of the tenant on `http` (all pages).
async fn orders(client: &reqwest::Client, http: &str, token: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let page = get(
            client,
            http,
            &format!("/v1/orders?limit=200&cursor={cursor}"),
            token,
        )
        .await;
        for o in page["items"].as_array().unwrap() {
            ids.insert(o["id"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return ids,
        }
    }
}

async fn assert_audit_clean(client: &reqwest::Client, http: &str, token: &str) {
    let audit = get(client, http, "/v1/stock/audit", token).await;
    assert_eq!(audit["drift"], json!([]), "{audit}");
}

fn instant(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("an RFC 3339 instant: {value}"))
        .with_timezone(&Utc)
}

async fn sleep_until(at: DateTime<Utc>) {
    if let Ok(wait) = (at - Utc::now()).to_std() {
        tokio::time::sleep(wait).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_holds_across_two_instances_hold_exactly_fifty() {
    let Some((one, two)) = two_instances(5) else {
        return;
    };
    let client = http_client();
    let (token, _) = register(&client, &one.http, &slug("dhold")).await;
    let v = variant(&client, &two.http, &token, "DHOLD-1", 50, 0).await;
    let main = default_location(&client, &one.http, &token).await;

    let calls = (0..200).map(|_| hold(&v, 1, 600)).collect();
    let answers = race_at(&client, [&one, &two], &token, calls).await;
    assert_created_or_short(&answers, &v);
    assert_eq!(
        (
            count(&answers, StatusCode::CREATED),
            count(&answers, StatusCode::CONFLICT)
        ),
        (50, 150),
        "{:?}",
        statuses(&answers)
    );
    for (_, r) in answers.iter().filter(|(s, _)| *s == StatusCode::CREATED) {
        assert_eq!(r["status"], "ACTIVE", "{r}");
        assert_eq!(
            r["lines"][0]["allocations"],
            json!([{"locationId": main, "quantity": 1}]),
            "{r}"
        );
    }
    let held = created_ids(&answers);
    assert_eq!(held.len(), 50);
    for instance in [&one, &two] {
        assert_eq!(
            listed(&client, &instance.http, &token, "ACTIVE").await,
            held
        );
        assert_eq!(
            states(&client, &instance.http, &token, &v).await,
            States {
                on_hand: 50,
                reserved: 50,
                ..States::default()
            }
        );
    }
    assert_audit_clean(&client, &two.http, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_holds_and_moves_across_two_instances_share_the_same_units() {
    let Some((one, two)) = two_instances(5) else {
        return;
    };
    // Any two kinds together ask for less than there is, all three for more: each kind wins at
    // least INITIAL − 2 × EACH units whichever reaches the store first, and some are refused.
    const INITIAL: i64 = 120;
    const EACH: i64 = 50;
    let client = http_client();
    let (token, _) = register(&client, &one.http, &slug("dmix")).await;
    let v = variant(&client, &one.http, &token, "DMIX-1", INITIAL, 0).await;

    // Index → kind: 'o' order, 'h' hold, 'd' move into damaged; request i on instance i % 2.
    let kinds: Vec<char> = (0..3 * EACH)
        .map(|i| match i % 3 {
            0 => 'o',
            1 => 'h',
            _ => 'd',
        })
        .collect();
    let calls = kinds
        .iter()
        .map(|k| match k {
            'o' => order(&v, 1),
            'h' => hold(&v, 1, 600),
            _ => to_damaged(&v),
        })
        .collect();
    let answers = race_at(&client, [&one, &two], &token, calls).await;
    assert_created_or_short(&answers, &v);
    let won = |kind: char| -> Vec<&(StatusCode, Value)> {
        kinds
            .iter()
            .zip(&answers)
            .filter(|(k, (s, _))| **k == kind && *s == StatusCode::CREATED)
            .map(|(_, a)| a)
            .collect()
    };
    let (placed, holds, damaged) = (won('o'), won('h'), won('d'));
    let (o, h, d) = (
        placed.len() as i64,
        holds.len() as i64,
        damaged.len() as i64,
    );
    let least = INITIAL - 2 * EACH;
    assert!(
        o >= least && h >= least && d >= least,
        "each kind won at least {least}: {o} orders, {h} holds, {d} moves: {:?}",
        statuses(&answers)
    );
    assert_eq!(o + h + d, INITIAL, "every unit went to exactly one winner");
    for (_, m) in &damaged {
        States::of(&m["level"]);
        States::of(&m["total"]);
        assert_eq!(m["movement"]["type"], "MOVE", "{m}");
    }
    for instance in [&one, &two] {
        assert_eq!(
            states(&client, &instance.http, &token, &v).await,
            States {
                stock: 0,
                on_hand: INITIAL,
                committed: o,
                reserved: h,
                unavailable: d,
                damaged: d,
            }
        );
    }
    assert_eq!(
        listed(&client, &two.http, &token, "ACTIVE").await,
        created_ids(holds.iter().copied())
    );
    assert_eq!(
        orders(&client, &one.http, &token).await,
        created_ids(placed.iter().copied())
    );
    assert_audit_clean(&client, &one.http, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn holds_made_on_one_instance_and_confirmed_on_the_other_at_expiry_confirm_or_expire() {
    // Both instances sweep every second, so sweeps race the late confirmations too.
    let Some((one, two)) = two_instances(1) else {
        return;
    };
    const INITIAL: i64 = 150;
    const HOLDS: usize = 100;
    let client = http_client();
    let (token, _) = register(&client, &one.http, &slug("dxor")).await;
    let v = variant(&client, &one.http, &token, "DXOR-1", INITIAL, 0).await;

    // Made on instance one, one after another (a hold's second counts from when its request
    // started, so holds placed all at once on a store slow under contention could be answered
    // with their second already over); each confirmed on instance two, from its own task, at
    // its expiry plus an offset from 300 ms before (the first) to 150 ms after (the last).
    let n = HOLDS as i64 - 1;
    let mut held = Vec::with_capacity(HOLDS);
    let mut tasks = Vec::with_capacity(HOLDS);
    for i in 0..HOLDS {
        let (path, body) = hold(&v, 1, 1);
        let (status, placed) =
            call(&client, format!("{}{path}", one.http), &token, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{placed}");
        let id = placed["id"].as_str().unwrap().to_owned();
        let expires_at = instant(&placed["expiresAt"]);
        held.push((id.clone(), expires_at));
        let at = expires_at + chrono::Duration::milliseconds(-300 + 450 * i as i64 / n);
        let (client, url, token) = (
            client.clone(),
            format!("{}/v1/reservations/{id}/confirm", two.http),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            sleep_until(at).await;
            let sent_at = Utc::now();
            let answer = call(&client, url, &token, Some(json!({"note": "paid"}))).await;
            (sent_at, Utc::now(), answer)
        }));
    }
    let mut attempts = Vec::with_capacity(HOLDS);
    for task in tasks {
        attempts.push(task.await.expect("the confirming task ran"));
    }

    let latest = held.iter().map(|(_, e)| *e).max().unwrap();
    sleep_until(latest + chrono::Duration::milliseconds(20)).await;
    let mut confirmed = BTreeSet::new();
    let mut expired = BTreeSet::new();
    for (i, ((id, _), (sent_at, answered_at, (status, body)))) in
        held.iter().zip(&attempts).enumerate()
    {
        let http = if i % 2 == 0 { &one.http } else { &two.http };
        let now = get(&client, http, &format!("/v1/reservations/{id}"), &token).await;
        let expires_at = instant(&now["expiresAt"]);
        let lead = |t: &DateTime<Utc>| (expires_at - *t).num_milliseconds();
        let context = format!(
            "reservation {id} sent {} ms and answered {} ms before its expiry: {status} {body} \
             / now {now}",
            lead(sent_at),
            lead(answered_at)
        );
        match (*status, now["status"].as_str()) {
            (StatusCode::CREATED, Some("CONFIRMED")) => {
                assert_eq!(now["orderId"], body["id"], "{context}");
                assert_eq!(body["status"], "PLACED", "{context}");
                assert!(*sent_at < expires_at, "confirmed after expiry: {context}");
                confirmed.insert(id.clone());
            }
            (StatusCode::CONFLICT, Some("EXPIRED")) => {
                assert!(now["orderId"].is_null(), "{context}");
                assert!(
                    *answered_at >= expires_at,
                    "refused before expiry: {context}"
                );
                expired.insert(id.clone());
            }
            _ => panic!("neither confirmed nor expired, or both: {context}"),
        }
    }
    loud(&format!(
        "confirmations on the other instance around expiry: {} confirmed, {} expired",
        confirmed.len(),
        expired.len()
    ));
    assert!(
        !confirmed.is_empty() && !expired.is_empty(),
        "the confirmations straddle the expiry: {} confirmed, {} expired",
        confirmed.len(),
        expired.len()
    );

    let c = confirmed.len() as i64;
    for instance in [&one, &two] {
        assert_eq!(
            states(&client, &instance.http, &token, &v).await,
            States {
                stock: INITIAL - c,
                on_hand: INITIAL,
                committed: c,
                ..States::default()
            },
            "each unit counted once"
        );
        assert_eq!(
            listed(&client, &instance.http, &token, "CONFIRMED").await,
            confirmed
        );
        assert_eq!(
            listed(&client, &instance.http, &token, "EXPIRED").await,
            expired
        );
        assert!(listed(&client, &instance.http, &token, "ACTIVE")
            .await
            .is_empty());
    }
    let ordered: BTreeSet<String> = attempts
        .iter()
        .filter(|(_, _, (s, _))| *s == StatusCode::CREATED)
        .map(|(_, _, (_, b))| b["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(orders(&client, &one.http, &token).await, ordered);
    // Let both sweepers store the expiries (each at most once), then audit.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        listed(&client, &two.http, &token, "EXPIRED").await,
        expired,
        "a sweep changes nothing anyone reads"
    );
    assert_audit_clean(&client, &two.http, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_on_the_other_instance_right_after_expiry_gets_the_units_without_a_sweep() {
    let Some((one, two)) = two_instances(3600) else {
        return;
    };
    let client = http_client();
    let (token, _) = register(&client, &one.http, &slug("dexp")).await;
    let v = variant(&client, &one.http, &token, "DEXP-1", 5, 0).await;

    let (path, body) = hold(&v, 5, 1);
    let (status, held) = call(&client, format!("{}{path}", one.http), &token, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let id = held["id"].as_str().unwrap().to_owned();
    let (path, body) = order(&v, 1);
    let (status, refused) = call(&client, format!("{}{path}", two.http), &token, Some(body)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["type"], INSUFFICIENT, "{refused}");

    sleep_until(instant(&held["expiresAt"]) + chrono::Duration::milliseconds(5)).await;
    let calls = (0..10).map(|_| order(&v, 1)).collect();
    let answers = race_at(&client, [&two, &two], &token, calls).await;
    assert_created_or_short(&answers, &v);
    assert_eq!(
        (
            count(&answers, StatusCode::CREATED),
            count(&answers, StatusCode::CONFLICT)
        ),
        (5, 5),
        "{:?}",
        statuses(&answers)
    );
    for instance in [&one, &two] {
        assert_eq!(
            states(&client, &instance.http, &token, &v).await,
            States {
                on_hand: 5,
                committed: 5,
                ..States::default()
            }
        );
        let now = get(
            &client,
            &instance.http,
            &format!("/v1/reservations/{id}"),
            &token,
        )
        .await;
        assert_eq!(now["status"], "EXPIRED", "{now}");
    }
    let (status, late) = call(
        &client,
        format!("{}/v1/reservations/{id}/confirm", one.http),
        &token,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{late}");
    assert_audit_clean(&client, &one.http, &token).await;
}
