//! Fan-out between two instances sharing one Redis.

use std::time::Duration;

use infra_redis::{RedisFanout, EVENTS_CHANNEL};
use tokio::sync::mpsc;

use crate::support::require_redis;

/// A subscriber whose sink forwards every message to the returned receiver.
pub fn collecting(
    fanout: &RedisFanout,
) -> (infra_redis::Subscription, mpsc::UnboundedReceiver<Vec<u8>>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let subscription = fanout.subscribe(move |message| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(message);
        }
    });
    (subscription, rx)
}

pub async fn next(rx: &mut mpsc::UnboundedReceiver<Vec<u8>>) -> Vec<u8> {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("message arrived in time")
        .expect("subscriber alive")
}

fn unique_channel() -> String {
    format!("{EVENTS_CHANNEL}:test:{:x}", rand_suffix())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_published_on_one_instance_reaches_the_other() {
    let url = require_redis!();
    let channel = unique_channel();
    let first = RedisFanout::connect(&url).unwrap().with_channel(&channel);
    let second = RedisFanout::connect(&url).unwrap().with_channel(&channel);
    assert_eq!(first.channel(), channel);

    let (first_sub, mut first_rx) = collecting(&first);
    let (second_sub, mut second_rx) = collecting(&second);
    assert!(first_sub.wait_subscribed(Duration::from_secs(5)).await);
    assert!(second_sub.wait_subscribed(Duration::from_secs(5)).await);

    first.publish(b"\x00binary \xffpayload").await.unwrap();
    assert_eq!(next(&mut second_rx).await, b"\x00binary \xffpayload");
    assert_eq!(next(&mut first_rx).await, b"\x00binary \xffpayload");

    second
        .publish_json(&serde_json::json!({"n": 1}))
        .await
        .unwrap();
    second
        .publish_json(&serde_json::json!({"n": 2}))
        .await
        .unwrap();
    assert_eq!(next(&mut first_rx).await, br#"{"n":1}"#);
    assert_eq!(next(&mut first_rx).await, br#"{"n":2}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_channels_are_not_heard() {
    let url = require_redis!();
    let listening = RedisFanout::connect(&url)
        .unwrap()
        .with_channel(&unique_channel());
    let elsewhere = RedisFanout::connect(&url)
        .unwrap()
        .with_channel(&unique_channel());
    let (sub, mut rx) = collecting(&listening);
    assert!(sub.wait_subscribed(Duration::from_secs(5)).await);

    elsewhere.publish(b"not for you").await.unwrap();
    listening.publish(b"for you").await.unwrap();
    assert_eq!(next(&mut rx).await, b"for you");
}
