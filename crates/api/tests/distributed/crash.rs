//! An instance killed mid-storm blocks nobody: two `stockroom` processes on one MongoDB and one
//! Redis sell a hot variant, one is killed with SIGKILL (no chance to abort its transactions or
//! give back its locks), and the other must sell the variant again within seconds, without
//! losing an acknowledged order, keeping half of one, or letting the ledger drift.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::support::{
    call, http_client, loud, mongo_url, redis_url, register, start_binary, variant,
};

/// Units of the hot variant: far more than the storm can sell, so every refusal is a failure to
/// write, never a shortage.
const STOCK: i64 = 1_000_000;
/// Clients ordering through each instance at once.
const CLIENTS_PER_INSTANCE: usize = 12;
/// The longest the surviving instance may take to sell the variant again after the kill.
const RECOVERY_BOUND: Duration = Duration::from_secs(5);
/// How long the test waits for a recovery that is late, so a failure reports the real delay.
const GIVE_UP_AFTER: Duration = Duration::from_secs(75);

/// One answered (or failed) order request.
struct Outcome {
    /// Sent through the instance that survives.
    survivor: bool,
    sent: Instant,
    answered: Instant,
    status: Option<StatusCode>,
    order_id: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_instance_blocks_the_hot_variant_for_at_most_five_seconds() {
    let (Some(redis), Some(mongo)) = (redis_url(), mongo_url()) else {
        return;
    };
    let env = [
        ("STOCKROOM_DATABASE_URL", mongo.as_str()),
        ("STOCKROOM_REDIS_URL", redis.as_str()),
    ];
    let mut doomed = start_binary(&env);
    let survivor = start_binary(&env);
    let setup = http_client();
    let slug = format!("crash-{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let (token, _) = register(&setup, &survivor.http, &slug).await;
    let hot = variant(&setup, &survivor.http, &token, "HOT-1", STOCK, 0).await;

    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let doomed_stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for i in 0..2 * CLIENTS_PER_INSTANCE {
        let on_survivor = i % 2 == 0;
        let http = if on_survivor {
            survivor.http.clone()
        } else {
            doomed.http.clone()
        };
        let (token, hot) = (token.clone(), hot.clone());
        let (outcomes, stop, doomed_stop) = (outcomes.clone(), stop.clone(), doomed_stop.clone());
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(90))
                .build()
                .unwrap();
            while !stop.load(Ordering::SeqCst)
                && (on_survivor || !doomed_stop.load(Ordering::SeqCst))
            {
                let sent = Instant::now();
                let res = client
                    .post(format!("{http}/v1/orders"))
                    .bearer_auth(&token)
                    .json(&json!({"lines": [{"variantId": hot, "quantity": 1}]}))
                    .send()
                    .await;
                let (status, order_id) = match res {
                    Ok(res) => {
                        let status = res.status();
                        let body: Value = res.json().await.unwrap_or(Value::Null);
                        (Some(status), body["id"].as_str().map(str::to_owned))
                    }
                    Err(_) => (None, None),
                };
                outcomes.lock().unwrap().push(Outcome {
                    survivor: on_survivor,
                    sent,
                    answered: Instant::now(),
                    status,
                    order_id,
                });
                if status.is_none() && !on_survivor {
                    // The instance is gone: nothing more to send it.
                    break;
                }
            }
        }));
    }

    // Let the storm run until both instances are selling, then kill one in the middle of it.
    let storming = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sold = |on_survivor: bool| {
            outcomes
                .lock()
                .unwrap()
                .iter()
                .filter(|o| o.survivor == on_survivor && o.status == Some(StatusCode::CREATED))
                .count()
        };
        if (sold(true) >= 20 && sold(false) >= 20) || storming.elapsed() > Duration::from_secs(30) {
            break;
        }
    }
    doomed.child.kill().expect("SIGKILL the instance");
    let killed = Instant::now();
    doomed.child.wait().unwrap();
    doomed_stop.store(true, Ordering::SeqCst);

    // Wait for the survivor to sell again: a 201 to a request sent after the kill.
    let recovered = loop {
        let first = outcomes
            .lock()
            .unwrap()
            .iter()
            .filter(|o| o.survivor && o.sent >= killed && o.status == Some(StatusCode::CREATED))
            .map(|o| o.answered)
            .min();
        if let Some(at) = first {
            break at.duration_since(killed);
        }
        if killed.elapsed() > GIVE_UP_AFTER {
            break killed.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Keep selling a little longer on the survivor, then stop everyone.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }

    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let survivor_after: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.survivor && o.sent >= killed)
        .collect();
    let refused_after = survivor_after
        .iter()
        .filter(|o| o.status != Some(StatusCode::CREATED))
        .count();
    let acknowledged: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.status == Some(StatusCode::CREATED))
        .map(|o| o.order_id.as_deref().expect("a 201 names its order"))
        .collect();
    loud(&format!(
        "crash: the survivor sold again {} ms after the kill; {} acknowledged orders, {} survivor \
         requests after the kill of which {refused_after} not 201",
        recovered.as_millis(),
        acknowledged.len(),
        survivor_after.len()
    ));
    assert!(
        outcomes
            .iter()
            .any(|o| !o.survivor && o.answered < killed && o.status == Some(StatusCode::CREATED)),
        "the killed instance sold before it died"
    );

    // Every acknowledged order is stored, every stored order is whole, and nothing drifted.
    let stored = stored_orders(&setup, &survivor.http, &token).await;
    let ids: HashSet<&str> = stored.iter().map(|o| o["id"].as_str().unwrap()).collect();
    let lost: Vec<&&str> = acknowledged
        .iter()
        .filter(|id| !ids.contains(**id))
        .collect();
    assert!(lost.is_empty(), "acknowledged orders lost: {lost:?}");
    for order in &stored {
        assert_eq!(order["status"], "PLACED", "{order}");
        assert_eq!(order["lines"].as_array().map(Vec::len), Some(1), "{order}");
        assert_eq!(order["lines"][0]["quantity"], 1, "{order}");
    }
    let (status, variant) = call(
        &setup,
        format!("{}/v1/variants/{hot}", survivor.http),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{variant}");
    let placed = i64::try_from(stored.len()).unwrap();
    assert_eq!(
        [&variant["onHand"], &variant["committed"], &variant["stock"]],
        [&json!(STOCK), &json!(placed), &json!(STOCK - placed)],
        "each stored order commits its unit, and only those: {variant}"
    );
    let (status, audit) = call(
        &setup,
        format!("{}/v1/stock/audit", survivor.http),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    assert_eq!(audit["drift"], json!([]), "{audit}");

    assert!(
        recovered <= RECOVERY_BOUND,
        "the survivor sold the hot variant again only {} ms after the kill",
        recovered.as_millis()
    );
}

/// Every order of the tenant, following the pages.
async fn stored_orders(client: &reqwest::Client, http: &str, token: &str) -> Vec<Value> {
    let mut orders = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{http}/v1/orders?limit=200&cursor={c}"),
            None => format!("{http}/v1/orders?limit=200"),
        };
        let (status, page) = call(client, url, token, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        orders.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return orders,
        }
    }
}
