//! Two api processes sharing one store and one Redis: the lock and the events span both.

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{http_client, listen, order, redis_url, register, start_binary, variant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_commit_exactly_the_stock_and_share_events() {
    let Some(redis) = redis_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("shared.db").display());
    let env = [
        ("STOCKROOM_DATABASE_URL", db.as_str()),
        ("STOCKROOM_REDIS_URL", redis.as_str()),
    ];
    let one = start_binary(&env);
    let two = start_binary(&env);
    let client = http_client();
    let slug = format!("two-{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let (token, _) = register(&client, &one.http, &slug).await;
    let v = variant(&client, &one.http, &token, "TWO-1", 50, 0).await;

    // A browser on instance 2 hears an order placed on instance 1 commit its unit.
    let mut listener = listen(two.socket_port, &token)
        .await
        .expect("connects to instance 2");
    assert_eq!(
        order(&client, &one.http, &token, &v).await.status(),
        StatusCode::CREATED
    );
    let heard = listener.drain(Duration::from_secs(2)).await;
    assert!(
        heard.iter().any(|(n, p)| n == "stock.changed"
            && p["variantId"] == v.as_str()
            && [&p["stock"], &p["onHand"], &p["committed"]] == [&json!(49), &json!(50), &json!(1)]),
        "instance 2's client heard instance 1's commitment: {heard:?}"
    );

    // 200 orders for the remaining 49 units, alternating between the instances.
    let calls = (0..200).map(|i| {
        let http = if i % 2 == 0 { &one.http } else { &two.http };
        order(&client, http, &token, &v)
    });
    let statuses: Vec<StatusCode> = join_all(calls).await.iter().map(|r| r.status()).collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, refused), (49, 151), "{statuses:?}");
    let variant: Value = client
        .get(format!("{}/v1/variants/{v}", two.http))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        [&variant["stock"], &variant["onHand"], &variant["committed"]],
        [&json!(0), &json!(50), &json!(50)],
        "every unit committed once: {variant}"
    );
    let audit: Value = client
        .get(format!("{}/v1/stock/audit", one.http))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(audit["drift"], serde_json::json!([]));
    let _ = listener.client.disconnect().await;
}
