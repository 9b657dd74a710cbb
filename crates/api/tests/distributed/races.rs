//! One hot variant raced across two `stockroom` processes sharing one MongoDB and one Redis.
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
//! every millisecond while the orders run, so a holder loses its key in the middle of its write
//! and the other process takes it and writes too.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use domain::ids::{TenantId, VariantId};
use domain::lock::LockKey;
use futures::future::join_all;
use infra_redis::RedisLock;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{
    http_client, loud, mongo_url, order, redis_url, register, start_binary, variant, Instance,
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
/// that exactly `STOCK` were placed and every other one was refused for stock.
async fn race(client: &reqwest::Client, one: &Instance, two: &Instance, token: &str, v: &str) {
    let calls = (0..ORDERS).map(|i| {
        let http = if i % 2 == 0 { &one.http } else { &two.http };
        order(client, http, token, v)
    });
    let statuses: Vec<StatusCode> = join_all(calls).await.iter().map(|r| r.status()).collect();
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(
        (count(StatusCode::CREATED), count(StatusCode::CONFLICT)),
        (STOCK, ORDERS - STOCK),
        "{statuses:?}"
    );
}

async fn get(client: &reqwest::Client, url: String, token: &str) -> Value {
    let res = client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// After the race: stock 0 on both instances, exactly `STOCK` SALE movements each with its own
/// stock after, and an audit without drift.
async fn assert_sold_out_exactly(
    client: &reqwest::Client,
    one: &Instance,
    two: &Instance,
    token: &str,
    v: &str,
) {
    for instance in [one, two] {
        let read = get(client, format!("{}/v1/variants/{v}", instance.http), token).await;
        assert_eq!(read["stock"], 0, "{read}");
    }
    let sales = get(
        client,
        format!(
            "{}/v1/movements?variantId={v}&type=SALE&limit=200",
            two.http
        ),
        token,
    )
    .await;
    let sales = sales["items"].as_array().expect("a page of movements");
    let after: BTreeSet<i64> = sales
        .iter()
        .map(|m| m["stockAfter"].as_i64().unwrap())
        .collect();
    assert_eq!(sales.len(), STOCK, "one SALE movement per placed order");
    assert_eq!(
        after,
        (0..STOCK as i64).collect(),
        "every sale saw its own stock"
    );
    let audit = get(client, format!("{}/v1/stock/audit", one.http), token).await;
    assert_eq!(audit["drift"], serde_json::json!([]), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hot_variant_raced_across_two_instances_on_mongodb_sells_exactly_its_stock() {
    let Some((one, two, _)) = two_instances() else {
        return;
    };
    let client = http_client();
    let slug = format!("hot-{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let (token, _) = register(&client, &one.http, &slug).await;
    let v = variant(&client, &two.http, &token, "HOT-1", STOCK as i64, 0).await;

    race(&client, &one, &two, &token, &v).await;
    assert_sold_out_exactly(&client, &one, &two, &token, &v).await;
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

    let key = RedisLock::redis_key(&LockKey::variant(
        &tenant.parse::<TenantId>().unwrap(),
        &v.parse::<VariantId>().unwrap(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let lapser = tokio::spawn(lapse_continually(redis, key, stop.clone()));

    race(&client, &one, &two, &token, &v).await;
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
    assert_sold_out_exactly(&client, &one, &two, &token, &v).await;
}

/// Lock ordering seen from outside the process: while this test holds the Redis key of the
/// higher variant, an order naming the higher variant first must already hold the lower one's
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
    let key = |v: &VariantId| RedisLock::redis_key(&LockKey::variant(&tenant, v));
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
