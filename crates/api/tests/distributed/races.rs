//! One hot variant raced across two `stockroom` processes sharing one MongoDB and one Redis, and
//! the races at locations (orders naming one location, a shipment and adjustments at it, orders
//! allocated over three) spread across the two. A placed order commits its units (available ↓,
//! committed ↑, nothing moves); each race then fulfils every placed order across both instances
//! at once, so the SALE movements race too.
//!
//! Inside one process, writes that need the same lock keys queue behind one combiner worker
//! (`domain::stock::combine`), which hands them to the store one batch at a time: two writes of
//! one variant never reach the store together from one process, whatever the lock does. So a
//! single-process test of "the lock expired" or "no lock at all" passes with any store. Only a
//! second process puts two writers of one variant in the store at once — through the Redis lock
//! while it holds, and straight into the store's conditional write when it does not.
//!
//! The binary has no setting for the lock's TTL (it always uses `RedisLockConfig::default()`, 10 s),
//! so an operation cannot be made to outlast its lock by configuration. The lapse test does what
//! an expiry does from the outside instead: a third client deletes the variant's lock key in Redis
//! every millisecond while the orders are placed and fulfilled, so a holder loses its key in the
//! middle of its write and the other process takes it and writes too.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use domain::ids::{LocationId, TenantId, VariantId};
use domain::lock::LockKey;
use domain::stock::models::Level;
use futures::future::join_all;
use infra_redis::RedisLock;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{
    call, default_location, http_client, loud, mongo_url, order, redis_url, register, start_binary,
    variant, Instance,
};

const STOCK: usize = 30;
const ORDERS: usize = 200;

/// Two binaries on one fresh MongoDB database and the test Redis, or `None` when a server is
/// missing (after a loud line). The lock wait is long so that no order gives up on the lock
/// under load: every order must end as placed or as refused for stock.
fn two_instances() -> Option<(Instance, Instance, String)> {
    let redis = redis_url()?;
    let db = mongo_url()?;
    let env = [
        ("STOCKROOM_DATABASE_URL", db.as_str()),
        ("STOCKROOM_REDIS_URL", redis.as_str()),
        ("STOCKROOM_LOCK_WAIT_MS", "60000"),
    ];
    let one = start_binary(&env);
    let two = start_binary(&env);
    Some((one, two, redis))
}

/// `ORDERS` one-unit orders for `v`, alternating between the instances, all at once; asserts
/// that exactly `STOCK` were placed and every other one was refused for stock, and returns the
/// ids of the placed ones.
async fn race(
    client: &reqwest::Client,
    one: &Instance,
    two: &Instance,
    token: &str,
    v: &str,
) -> Vec<String> {
    let calls = (0..ORDERS).map(|i| {
        let http = if i % 2 == 0 { &one.http } else { &two.http };
        async move {
            let res = order(client, http, token, v).await;
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            (status, body)
        }
    });
    let answers = join_all(calls).await;
    let count = |status| answers.iter().filter(|(s, _)| *s == status).count();
    assert_eq!(
        (count(StatusCode::CREATED), count(StatusCode::CONFLICT)),
        (STOCK, ORDERS - STOCK),
        "{:?}",
        statuses(&answers)
    );
    placed_ids(&answers)
}

/// The ids of the orders that answered 201.
fn placed_ids(answers: &[(StatusCode, Value)]) -> Vec<String> {
    answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .map(|(_, body)| body["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Fulfils every order of `orders` at once, request `i` on instance `i % 2`; asserts each
/// answers 200 FULFILLED.
async fn fulfil_all(
    client: &reqwest::Client,
    instances: [&Instance; 2],
    token: &str,
    orders: &[String],
) {
    let calls = orders
        .iter()
        .map(|o| (format!("/v1/orders/{o}/fulfil"), json!({})))
        .collect();
    for (status, body) in race_at(client, instances, token, calls).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "FULFILLED", "{body}");
    }
}

async fn get(client: &reqwest::Client, url: String, token: &str) -> Value {
    let res = client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// `(stock, onHand, committed)` of a variant as read.
fn states(variant: &Value) -> (i64, i64, i64) {
    let n = |field: &str| {
        variant[field]
            .as_i64()
            .unwrap_or_else(|| panic!("{field}: {variant}"))
    };
    (n("stock"), n("onHand"), n("committed"))
}

/// After the race: on both instances every unit committed (stock 0, on hand and committed
/// `STOCK`), no SALE written yet, and an audit without drift (committed units match the placed
/// orders).
async fn assert_committed_exactly(
    client: &reqwest::Client,
    one: &Instance,
    two: &Instance,
    token: &str,
    v: &str,
) {
    let stock = STOCK as i64;
    for instance in [one, two] {
        let read = get(client, format!("{}/v1/variants/{v}", instance.http), token).await;
        assert_eq!(states(&read), (0, stock, stock), "{read}");
    }
    let sales = movements(
        client,
        &one.http,
        token,
        &format!("variantId={v}&type=SALE"),
    )
    .await;
    assert!(sales.is_empty(), "placing sells nothing: {sales:?}");
    assert_audit_clean(client, &two.http, token).await;
}

/// After every placed order was fulfilled: stock, on hand and committed 0 on both instances,
/// exactly one SALE movement per order, each with its own on hand after, and an audit without
/// drift.
async fn assert_sold_out_exactly(
    client: &reqwest::Client,
    one: &Instance,
    two: &Instance,
    token: &str,
    v: &str,
    orders: &[String],
) {
    for instance in [one, two] {
        let read = get(client, format!("{}/v1/variants/{v}", instance.http), token).await;
        assert_eq!(states(&read), (0, 0, 0), "{read}");
    }
    let sales = movements(
        client,
        &two.http,
        token,
        &format!("variantId={v}&type=SALE"),
    )
    .await;
    assert_eq!(sales.len(), STOCK, "one SALE movement per placed order");
    let sold: BTreeSet<&str> = sales
        .iter()
        .map(|m| m["orderId"].as_str().unwrap())
        .collect();
    assert_eq!(
        sold,
        orders.iter().map(String::as_str).collect(),
        "every placed order sold, once"
    );
    let after: BTreeSet<i64> = sales
        .iter()
        .map(|m| m["stockAfter"].as_i64().unwrap())
        .collect();
    assert_eq!(
        after,
        (0..STOCK as i64).collect(),
        "every sale saw its own on hand"
    );
    assert_audit_clean(client, &one.http, token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hot_variant_raced_across_two_instances_on_mongodb_commits_and_sells_exactly_its_stock() {
    let Some((one, two, _)) = two_instances() else {
        return;
    };
    let client = http_client();
    let slug = format!("hot-{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let (token, _) = register(&client, &one.http, &slug).await;
    let v = variant(&client, &two.http, &token, "HOT-1", STOCK as i64, 0).await;

    let placed = race(&client, &one, &two, &token, &v).await;
    assert_committed_exactly(&client, &one, &two, &token, &v).await;
    fulfil_all(&client, [&one, &two], &token, &placed).await;
    assert_sold_out_exactly(&client, &one, &two, &token, &v, &placed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lock_keys_lapsing_mid_operation_across_two_instances_never_oversell() {
    let Some((one, two, redis)) = two_instances() else {
        return;
    };
    let client = http_client();
    let slug = format!("lapse-{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let (token, tenant) = register(&client, &one.http, &slug).await;
    let v = variant(&client, &two.http, &token, "LAPSE-1", STOCK as i64, 0).await;

    let main: LocationId = default_location(&client, &one.http, &token)
        .await
        .parse()
        .unwrap();
    let key = RedisLock::redis_key(&LockKey::level(
        &tenant.parse::<TenantId>().unwrap(),
        &Level::new(v.parse::<VariantId>().unwrap(), main),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let lapser = tokio::spawn(lapse_continually(redis, key, stop.clone()));

    // Both the commitments and the sales race while the holds lapse.
    let placed = race(&client, &one, &two, &token, &v).await;
    assert_committed_exactly(&client, &one, &two, &token, &v).await;
    fulfil_all(&client, [&one, &two], &token, &placed).await;
    stop.store(true, Ordering::SeqCst);
    let lapsed = lapser.await.expect("the lapser ran");
    loud(&format!(
        "lock_keys_lapsing_mid_operation_across_two_instances_never_oversell: {lapsed} lock \
         holds lapsed while their holder was working"
    ));
    assert!(
        lapsed > 0,
        "no holder ever lost its key: the race did not run without the lock"
    );
    assert_sold_out_exactly(&client, &one, &two, &token, &v, &placed).await;
}

/// Lock ordering seen from outside the process: while this test holds the Redis key of the
/// higher variant's level (both variants are at the default location), an order naming the higher variant first must already hold the lower one's
/// key — the instance takes keys in ascending order whatever the order of the lines, which is
/// what keeps two processes with opposite orders from each holding what the other waits for.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_takes_redis_keys_in_ascending_order_whatever_the_lines_say() {
    let Some(redis) = redis_url() else {
        return;
    };
    let Some(db) = mongo_url() else {
        return;
    };
    let env = [
        ("STOCKROOM_DATABASE_URL", db.as_str()),
        ("STOCKROOM_REDIS_URL", redis.as_str()),
        ("STOCKROOM_LOCK_WAIT_MS", "20000"),
    ];
    let one = start_binary(&env);
    let client = http_client();
    let slug = format!("order-{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let (token, tenant) = register(&client, &one.http, &slug).await;
    let tenant: TenantId = tenant.parse().unwrap();
    let x: VariantId = variant(&client, &one.http, &token, "ORD-X", 5, 0)
        .await
        .parse()
        .unwrap();
    let y: VariantId = variant(&client, &one.http, &token, "ORD-Y", 5, 0)
        .await
        .parse()
        .unwrap();
    let (low, high) = if x < y { (x, y) } else { (y, x) };
    let main: LocationId = default_location(&client, &one.http, &token)
        .await
        .parse()
        .unwrap();
    let key = |v: &VariantId| RedisLock::redis_key(&LockKey::level(&tenant, &Level::new(*v, main)));
    let mut redis_conn = resp_connect(&redis).await;

    assert_eq!(
        resp(
            &mut redis_conn,
            &["SET", &key(&high), "held-by-the-test", "PX", "30000"]
        )
        .await,
        "+OK"
    );
    let order = {
        let request = client
            .post(format!("{}/v1/orders", one.http))
            .bearer_auth(&token)
            .json(&serde_json::json!({"lines": [
                {"variantId": high.to_string(), "quantity": 1},
                {"variantId": low.to_string(), "quantity": 1},
            ]}));
        tokio::spawn(async move { request.send().await.unwrap().status() })
    };
    // The order is now waiting for the key the test holds; whatever it took first is held.
    let mut low_held = false;
    for _ in 0..100 {
        if resp(&mut redis_conn, &["EXISTS", &key(&low)]).await == ":1" {
            low_held = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        low_held,
        "waiting for the higher key, the instance must already hold the lower one"
    );
    assert!(
        !order.is_finished(),
        "the order waits for the key the test holds"
    );
    assert_eq!(resp(&mut redis_conn, &["DEL", &key(&high)]).await, ":1");
    assert_eq!(order.await.unwrap(), StatusCode::CREATED);
    assert_eq!(resp(&mut redis_conn, &["EXISTS", &key(&low)]).await, ":0");
}

async fn resp_connect(url: &str) -> tokio::net::TcpStream {
    let address = url.trim_start_matches("redis://").trim_end_matches('/');
    tokio::net::TcpStream::connect(address)
        .await
        .expect("the test connects to Redis")
}

/// Sends one command and returns its one-line reply (`+OK`, `:1`, …) without the CRLF.
async fn resp(conn: &mut tokio::net::TcpStream, args: &[&str]) -> String {
    let mut command = format!("*{}\r\n", args.len());
    for arg in args {
        command.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    conn.write_all(command.as_bytes())
        .await
        .expect("command sent");
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\r\n") {
        let n = conn.read(&mut byte).await.expect("command answered");
        assert!(n > 0, "Redis closed the connection");
        reply.push(byte[0]);
    }
    String::from_utf8_lossy(&reply[..reply.len() - 2]).into_owned()
}

/// Until `stop`, deletes `key` in the Redis at `url` about every millisecond, as if every hold of
/// the lock expired within a millisecond of being taken; returns how many holds it cut short.
/// A holder gives its key back as soon as its write is committed, so a key found here is always
/// held by a writer in the middle of its work.
async fn lapse_continually(url: String, key: String, stop: Arc<AtomicBool>) -> u64 {
    let address = url
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let mut conn = tokio::net::TcpStream::connect(&address)
        .await
        .expect("the lapser connects to Redis");
    let command = format!("*2\r\n$3\r\nDEL\r\n${}\r\n{key}\r\n", key.len());
    let mut lapsed = 0;
    let mut reply = [0u8; 64];
    while !stop.load(Ordering::SeqCst) {
        conn.write_all(command.as_bytes()).await.expect("DEL sent");
        // The reply to DEL is an integer, ":0\r\n" or ":1\r\n".
        let mut read = 0;
        while !reply[..read].ends_with(b"\r\n") {
            let n = conn.read(&mut reply[read..]).await.expect("DEL answered");
            assert!(n > 0, "Redis closed the lapser's connection");
            read += n;
        }
        match &reply[..read] {
            b":1\r\n" => lapsed += 1,
            b":0\r\n" => {}
            other => panic!("unexpected DEL reply {:?}", String::from_utf8_lossy(other)),
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    lapsed
}

/// The same location races as `tests/api/location_races.rs`, spread over two instances: request
/// `i` goes to instance `i % 2`, all at once; answers come back in the order of `calls`.
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

fn order_body(location: Option<&str>, variant: &str, quantity: i64) -> (String, Value) {
    let mut body = json!({"lines": [{"variantId": variant, "quantity": quantity}]});
    if let Some(location) = location {
        body["locationId"] = json!(location);
    }
    ("/v1/orders".to_owned(), body)
}

/// A new location; returns its id.
async fn location(
    client: &reqwest::Client,
    http: &str,
    token: &str,
    code: &str,
    priority: i64,
) -> String {
    let (status, body) = call(
        client,
        format!("{http}/v1/locations"),
        token,
        Some(json!({"name": code, "code": code, "priority": priority})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn adjust_at(
    client: &reqwest::Client,
    http: &str,
    token: &str,
    v: &str,
    at: &str,
    quantity: i64,
) {
    let (status, body) = call(
        client,
        format!("{http}/v1/variants/{v}/adjustments"),
        token,
        Some(json!({"quantity": quantity, "reason": "count", "locationId": at})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// `(stock, onHand, committed)` of the variant's level at `location` (all 0 without one).
fn level_at(variant: &Value, location: &str) -> (i64, i64, i64) {
    variant["levels"]
        .as_array()
        .unwrap_or_else(|| panic!("levels: {variant}"))
        .iter()
        .find(|l| l["locationId"] == location)
        .map_or((0, 0, 0), states)
}

/// Every movement matching `query`, all pages.
async fn movements(client: &reqwest::Client, http: &str, token: &str, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = get(
            client,
            format!("{http}/v1/movements?{query}&limit=200&cursor={cursor}"),
            token,
        )
        .await;
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return all,
        }
    }
}

async fn assert_audit_clean(client: &reqwest::Client, http: &str, token: &str) {
    let audit = get(client, format!("{http}/v1/stock/audit"), token).await;
    assert_eq!(audit["drift"], json!([]), "{audit}");
}

fn statuses(answers: &[(StatusCode, Value)]) -> Vec<u16> {
    answers.iter().map(|(s, _)| s.as_u16()).collect()
}

/// Every answer is a success or a 409 refusal; nothing else (no 5xx, no lock time-out).
fn assert_won_or_refused(answers: &[(StatusCode, Value)]) {
    for (status, body) in answers {
        assert!(
            status.is_success() || *status == StatusCode::CONFLICT,
            "unexpected {status}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_at_one_location_across_two_instances_take_only_its_stock() {
    let Some((one, two, _)) = two_instances() else {
        return;
    };
    let client = http_client();
    let slug = format!("lr1-{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let (token, _) = register(&client, &one.http, &slug).await;
    let b = default_location(&client, &one.http, &token).await;
    let a = location(&client, &two.http, &token, "A", 10).await;
    let v = variant(&client, &one.http, &token, "LR1-1", 1000, 0).await;
    adjust_at(&client, &two.http, &token, &v, &a, 50).await;

    let calls = (0..200).map(|_| order_body(Some(&a), &v, 1)).collect();
    let answers = race_at(&client, [&one, &two], &token, calls).await;
    assert_won_or_refused(&answers);
    let placed = placed_ids(&answers);
    assert_eq!(placed.len(), 50, "{:?}", statuses(&answers));
    // Placed: A's units are all committed, B untouched, nothing sold yet.
    for instance in [&one, &two] {
        let read = get(
            &client,
            format!("{}/v1/variants/{v}", instance.http),
            &token,
        )
        .await;
        assert_eq!(
            (level_at(&read, &a), level_at(&read, &b)),
            ((0, 50, 50), (1000, 1000, 0)),
            "{read}"
        );
    }
    let sales = movements(
        &client,
        &two.http,
        &token,
        &format!("variantId={v}&type=SALE"),
    )
    .await;
    assert!(sales.is_empty(), "placing sells nothing: {sales:?}");
    assert_audit_clean(&client, &one.http, &token).await;

    // Fulfilled across both instances at once: one SALE per order, each at A.
    fulfil_all(&client, [&one, &two], &token, &placed).await;
    let read = get(&client, format!("{}/v1/variants/{v}", one.http), &token).await;
    assert_eq!(
        (level_at(&read, &a), level_at(&read, &b)),
        ((0, 0, 0), (1000, 1000, 0)),
        "{read}"
    );
    let sales = movements(
        &client,
        &one.http,
        &token,
        &format!("variantId={v}&type=SALE"),
    )
    .await;
    assert_eq!(sales.len(), 50);
    let sold: BTreeSet<&str> = sales
        .iter()
        .map(|m| m["orderId"].as_str().unwrap())
        .collect();
    assert_eq!(sold, placed.iter().map(String::as_str).collect());
    let after: BTreeSet<i64> = sales
        .iter()
        .map(|m| m["stockAfter"].as_i64().unwrap())
        .collect();
    assert_eq!(after, (0..50).collect(), "every sale saw its own level");
    assert!(sales.iter().all(|m| m["locationId"] == a.as_str()));
    assert_audit_clean(&client, &two.http, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_shipments_and_adjustments_at_one_location_across_two_instances_stay_exact() {
    let Some((one, two, _)) = two_instances() else {
        return;
    };
    const SHIPMENT: i64 = 6;
    let client = http_client();
    let slug = format!("lr2-{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let (token, _) = register(&client, &one.http, &slug).await;
    let b = default_location(&client, &one.http, &token).await;
    let a = location(&client, &one.http, &token, "A", 10).await;
    let v = variant(&client, &two.http, &token, "LR2-1", 100, 0).await;
    adjust_at(&client, &one.http, &token, &v, &a, 30).await;
    let mut transfers = Vec::new();
    for _ in 0..4 {
        let (status, body) = call(
            &client,
            format!("{}/v1/transfers", one.http),
            &token,
            Some(json!({"fromLocationId": a, "toLocationId": b,
                        "lines": [{"variantId": v, "quantity": SHIPMENT}]})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        transfers.push(body["id"].as_str().unwrap().to_owned());
    }
    // Index → what it is: 'o' order, 's' ship transfer i / 25, '+' / '-' an adjustment.
    let kinds: Vec<char> = (0..100)
        .map(|i| match i {
            i if i % 25 == 7 => 's',
            i if i % 10 == 1 => '-',
            i if i % 5 == 1 => '+',
            _ => 'o',
        })
        .collect();
    let calls = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| match k {
            's' => (format!("/v1/transfers/{}/ship", transfers[i / 25]), json!({})),
            '+' | '-' => (
                format!("/v1/variants/{v}/adjustments"),
                json!({"quantity": if *k == '+' { 1 } else { -1 }, "reason": "recount", "locationId": a}),
            ),
            _ => order_body(Some(&a), &v, 1),
        })
        .collect();
    let answers = race_at(&client, [&one, &two], &token, calls).await;
    assert_won_or_refused(&answers);
    let won = |kind: char| {
        kinds
            .iter()
            .zip(&answers)
            .filter(|(k, (s, _))| **k == kind && s.is_success())
            .count() as i64
    };
    let (orders, shipped, up, down) = (won('o'), won('s'), won('+'), won('-'));
    assert!(orders > 0 && up + down > 0, "{:?}", statuses(&answers));

    // Orders commit units at A; shipments and adjustments move A's on hand. Available never
    // goes below zero: nothing takes units already committed.
    let read = get(&client, format!("{}/v1/variants/{v}", two.http), &token).await;
    let on_hand = 30 + up - down - SHIPMENT * shipped;
    assert_eq!(
        level_at(&read, &a),
        (on_hand - orders, on_hand, orders),
        "{read}"
    );
    assert!(on_hand - orders >= 0);
    assert_eq!(level_at(&read, &b), (100, 100, 0));
    assert_eq!(read["inTransit"], SHIPMENT * shipped, "{read}");
    let at = movements(
        &client,
        &one.http,
        &token,
        &format!("variantId={v}&locationId={a}"),
    )
    .await;
    let of = |at: &[Value], kind: &str| at.iter().filter(|m| m["type"] == kind).count() as i64;
    assert_eq!(
        (
            of(&at, "SALE"),
            of(&at, "TRANSFER_OUT"),
            of(&at, "ADJUSTMENT")
        ),
        (0, shipped, 1 + up + down),
        "one movement per answered shipment and adjustment, none for the refused, none for \
         orders until they are fulfilled"
    );
    assert_eq!(at.len() as i64, shipped + 1 + up + down);
    assert!(at.iter().all(|m| m["stockAfter"].as_i64().unwrap() >= 0));
    assert_audit_clean(&client, &one.http, &token).await;

    // Fulfilled across both instances: one SALE per placed order at A, and A keeps only what
    // was not sold.
    let placed: Vec<String> = kinds
        .iter()
        .zip(&answers)
        .filter(|(k, (s, _))| **k == 'o' && *s == StatusCode::CREATED)
        .map(|(_, (_, body))| body["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(placed.len() as i64, orders);
    fulfil_all(&client, [&one, &two], &token, &placed).await;
    let read = get(&client, format!("{}/v1/variants/{v}", one.http), &token).await;
    assert_eq!(
        level_at(&read, &a),
        (on_hand - orders, on_hand - orders, 0),
        "{read}"
    );
    let at = movements(
        &client,
        &two.http,
        &token,
        &format!("variantId={v}&locationId={a}"),
    )
    .await;
    assert_eq!(of(&at, "SALE"), orders);
    let sold: BTreeSet<&str> = at
        .iter()
        .filter(|m| m["type"] == "SALE")
        .map(|m| m["orderId"].as_str().unwrap())
        .collect();
    assert_eq!(sold, placed.iter().map(String::as_str).collect());
    assert_eq!(at.len() as i64, orders + shipped + 1 + up + down);
    assert!(at.iter().all(|m| m["stockAfter"].as_i64().unwrap() >= 0));
    assert_audit_clean(&client, &two.http, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_naming_no_location_across_two_instances_never_place_more_than_the_total() {
    let Some((one, two, _)) = two_instances() else {
        return;
    };
    let client = http_client();
    let slug = format!("lr3-{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let (token, _) = register(&client, &one.http, &slug).await;
    let main = default_location(&client, &one.http, &token).await;
    let second = location(&client, &one.http, &token, "SECOND", 1).await;
    let third = location(&client, &two.http, &token, "THIRD", 2).await;
    let v = variant(&client, &one.http, &token, "LR3-1", 20, 0).await;
    adjust_at(&client, &two.http, &token, &v, &second, 15).await;
    adjust_at(&client, &one.http, &token, &v, &third, 10).await;
    let initial = [(main, 20), (second, 15), (third, 10)];
    let total: i64 = initial.iter().map(|(_, s)| s).sum();

    let quantities: Vec<i64> = (0..120).map(|i| 1 + i % 3).collect();
    let calls = quantities
        .iter()
        .map(|q| order_body(None, &v, *q))
        .collect();
    let answers = race_at(&client, [&one, &two], &token, calls).await;
    assert_won_or_refused(&answers);
    let mut placed = 0;
    let mut taken: std::collections::HashMap<String, i64> = Default::default();
    // Per placed order: its allocations, (location, quantity) sorted.
    let mut allocated: Vec<(String, Vec<(String, i64)>)> = Vec::new();
    for (q, (status, body)) in quantities.iter().zip(&answers) {
        if *status != StatusCode::CREATED {
            continue;
        }
        let allocations = body["lines"][0]["allocations"].as_array().unwrap();
        let sum: i64 = allocations
            .iter()
            .map(|a| a["quantity"].as_i64().unwrap())
            .sum();
        assert_eq!(sum, *q, "allocations add up to the line: {body}");
        let mut of_order = Vec::new();
        for a in allocations {
            let (location, quantity) = (
                a["locationId"].as_str().unwrap().to_owned(),
                a["quantity"].as_i64().unwrap(),
            );
            *taken.entry(location.clone()).or_default() += quantity;
            of_order.push((location, quantity));
        }
        of_order.sort();
        allocated.push((body["id"].as_str().unwrap().to_owned(), of_order));
        placed += q;
    }
    assert!(placed > 0 && placed <= total, "placed {placed} of {total}");
    // Placed: each location committed exactly what the orders' allocations say it gave.
    let read = get(&client, format!("{}/v1/variants/{v}", two.http), &token).await;
    for (location, held) in &initial {
        let took = taken.get(location).copied().unwrap_or(0);
        assert_eq!(
            level_at(&read, location),
            (held - took, *held, took),
            "{read}"
        );
    }
    assert_eq!(states(&read), (total - placed, total, placed), "{read}");
    let sales = movements(
        &client,
        &one.http,
        &token,
        &format!("variantId={v}&type=SALE"),
    )
    .await;
    assert!(sales.is_empty(), "placing sells nothing: {sales:?}");
    assert_audit_clean(&client, &two.http, &token).await;

    // Fulfilled across both instances: each order sells one SALE per location it was
    // allocated at, of what it was allocated there.
    let ids: Vec<String> = allocated.iter().map(|(id, _)| id.clone()).collect();
    fulfil_all(&client, [&one, &two], &token, &ids).await;
    let read = get(&client, format!("{}/v1/variants/{v}", one.http), &token).await;
    for (location, held) in &initial {
        let took = taken.get(location).copied().unwrap_or(0);
        assert_eq!(
            level_at(&read, location),
            (held - took, held - took, 0),
            "{read}"
        );
    }
    let sales = movements(
        &client,
        &two.http,
        &token,
        &format!("variantId={v}&type=SALE"),
    )
    .await;
    for (order, expected) in &allocated {
        let mut sold: Vec<(String, i64)> = sales
            .iter()
            .filter(|m| m["orderId"] == order.as_str())
            .map(|m| {
                (
                    m["locationId"].as_str().unwrap().to_owned(),
                    -m["quantity"].as_i64().unwrap(),
                )
            })
            .collect();
        sold.sort();
        assert_eq!(&sold, expected, "order {order}: one SALE per allocation");
    }
    assert_eq!(
        sales.len(),
        allocated.iter().map(|(_, a)| a.len()).sum::<usize>()
    );
    assert_audit_clean(&client, &one.http, &token).await;
}
