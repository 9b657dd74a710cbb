//! Redis going away: writes that need the lock answer 503 with Retry-After, reads keep working,
//! readiness says so, and everything recovers when Redis returns — no restart. And a lock that
//! expires in the middle of the work never causes an oversell: the store is the guard.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use api::config::{Config, DatabaseUrl};
use api::startup::{Application, Overrides};
use futures::future::join_all;
use infra_redis::{RedisLock, RedisLockConfig};
use reqwest::StatusCode;
use serde_json::Value;

use crate::conformance::Conformance;
use crate::support::{http_client, order, redis_url, register, variant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A redis-server of this test's own; killed (and reaped) when dropped.
struct RedisServer(Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(port: u16, dir: &std::path::Path) -> RedisServer {
    let server = RedisServer(
        Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (apt-get install redis-server)"),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("redis-server did not start on port {port}");
}

/// An in-process app on a fresh SQLite file with the given Redis and overrides: the address of
/// the recording proxy in front of it, and the guard that checks its answers.
async fn app(redis: &str, overrides: Overrides, dir: &tempfile::TempDir) -> (String, Conformance) {
    let db = format!("sqlite://{}", dir.path().join("app.db").display());
    let mut config = Config::for_tests(DatabaseUrl::Sqlite(db));
    config.redis_url = Some(redis.into());
    config.lock_wait = Duration::from_millis(500);
    let app = Application::build_with(config, overrides)
        .await
        .expect("builds");
    let http = format!("http://127.0.0.1:{}", app.http_port());
    tokio::spawn(app.run_until_stopped());
    let proxied = crate::recording_proxy::start(&http);
    (proxied.address, proxied.conformance)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_means_503_for_stock_writes_and_recovery_without_restart() {
    if redis_url().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let redis = start_redis(port, dir.path());
    let url = format!("redis://127.0.0.1:{port}");
    let (http, _conformance) = app(&url, Overrides::default(), &dir).await;
    let client = http_client();
    let (token, _) = register(&client, &http, "outage").await;
    let v = variant(&client, &http, &token, "OUT-1", 10, 0).await;
    assert_eq!(
        order(&client, &http, &token, &v).await.status(),
        StatusCode::CREATED
    );

    drop(redis);

    let refused = order(&client, &http, &token, &v).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let read = client
        .get(format!("{http}/v1/variants/{v}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK, "reads keep working");
    let body: Value = read.json().await.unwrap();
    assert_eq!(body["stock"], 9, "the refused order wrote nothing");
    let ready = client.get(format!("{http}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem: Value = ready.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("redis"),
        "{problem}"
    );

    let _redis = start_redis(port, dir.path());
    let mut recovered = false;
    for _ in 0..50 {
        if order(&client, &http, &token, &v).await.status() == StatusCode::CREATED {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "orders work again once Redis is back");
    let ready = client.get(format!("{http}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// One process whose Redis lock keys expire 1 ms after they are taken. Inside one process the
/// combiner already hands the store one batch of writes at a time, so this passes whatever the
/// lock and the store would do under real overlap; the test where two processes write at once is
/// `races::lock_keys_lapsing_mid_operation_across_two_instances_never_oversell`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lock_that_expires_mid_operation_never_oversells() {
    let Some(url) = redis_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let short = RedisLock::connect_with(
        &url,
        RedisLockConfig {
            ttl: Duration::from_millis(1),
            ..RedisLockConfig::default()
        },
    )
    .unwrap();
    let (http, _conformance) = app(
        &url,
        Overrides {
            lock: Some(Arc::new(short)),
        },
        &dir,
    )
    .await;
    let client = http_client();
    let slug = format!("ttl-{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let (token, _) = register(&client, &http, &slug).await;
    let v = variant(&client, &http, &token, "TTL-1", 50, 0).await;
    let statuses: Vec<StatusCode> = join_all((0..200).map(|_| order(&client, &http, &token, &v)))
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 50, "{statuses:?}");
    let body: Value = client
        .get(format!("{http}/v1/variants/{v}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["stock"], 0);
}
