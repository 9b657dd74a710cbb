//! Log-in and sign-up budgets: a guesser is stopped with 429 and `Retry-After`, per account and
//! per address, on one instance and across instances sharing Redis.

use reqwest::StatusCode;
use serde_json::Value;

use api::config::Config;
use domain::rate_limit::{AuthLimits, Window, DEFAULT_PERIOD};

use crate::helpers::{redis_url, registration, spawn};

fn limits(config: &mut Config, account: u64, address: u64) {
    config.auth_limits = AuthLimits {
        per_account: Window {
            limit: account,
            period: DEFAULT_PERIOD,
        },
        per_address: Window {
            limit: address,
            period: DEFAULT_PERIOD,
        },
    };
}

const RIGHT: &str = "correct horse battery";
const WRONG: &str = "wrong horse battery";

/// A 429 problem with a whole-seconds `Retry-After` within the window.
async fn assert_limited(res: reqwest::Response) {
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=DEFAULT_PERIOD.as_secs()).contains(&retry), "{retry}");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "/problems/too-many-requests", "{body}");
    assert_eq!(body["status"], 429);
}

#[tokio::test]
async fn failed_log_ins_of_one_account_are_stopped_even_with_the_right_password() {
    let app = spawn(|c| limits(c, 3, 1000)).await;
    app.register("acme").await;
    let owner = "owner@acme.example";
    for _ in 0..3 {
        let res = app.login("acme", owner, WRONG, None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_limited(app.login("acme", owner, WRONG, None).await).await;
    assert_limited(app.login("ACME", " Owner@Acme.example", RIGHT, None).await).await;
    // Another account of the same tenant is not locked.
    let res = app.login("acme", "someone@acme.example", WRONG, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_successful_log_in_forgets_the_failures_before_it() {
    let app = spawn(|c| limits(c, 3, 1000)).await;
    app.register("acme").await;
    let owner = "owner@acme.example";
    for _ in 0..2 {
        assert_eq!(app.login("acme", owner, WRONG, None).await.status(), 401);
    }
    assert_eq!(app.login("acme", owner, RIGHT, None).await.status(), 200);
    for _ in 0..3 {
        assert_eq!(app.login("acme", owner, WRONG, None).await.status(), 401);
    }
    assert_limited(app.login("acme", owner, WRONG, None).await).await;
}

#[tokio::test]
async fn concurrent_guesses_are_checked_no_more_than_the_limit() {
    let app = spawn(|c| limits(c, 5, 1000)).await;
    app.register("acme").await;
    let guesses = (0..20).map(|_| app.login("acme", "owner@acme.example", WRONG, None));
    let statuses: Vec<u16> = futures::future::join_all(guesses)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn one_address_has_a_budget_across_accounts_and_sign_ups() {
    let app = spawn(|c| limits(c, 100, 4)).await;
    for i in 0..3 {
        let res = app
            .login("acme", &format!("u{i}@acme.example"), WRONG, None)
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app
        .post("/v1/auth/register", registration("fresh"), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_limited(app.login("acme", "u9@acme.example", WRONG, None).await).await;
    assert_limited(
        app.post("/v1/auth/register", registration("other"), None)
            .await,
    )
    .await;
}

#[tokio::test]
async fn x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    // Untrusted: a client naming a new address per attempt is still one address.
    let app = spawn(|c| limits(c, 100, 2)).await;
    for i in 0..2 {
        let from = format!("198.51.100.{i}");
        let res = app
            .login("acme", "a@acme.example", WRONG, Some(&from))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_limited(
        app.login("acme", "a@acme.example", WRONG, Some("198.51.100.9"))
            .await,
    )
    .await;

    // Behind a trusted proxy (the test client's 127.0.0.1), each forwarded client has its own.
    let app = spawn(|c| {
        limits(c, 100, 2);
        c.trusted_proxies.0 = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    for _ in 0..2 {
        let res = app
            .login("acme", "a@acme.example", WRONG, Some("198.51.100.1"))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_limited(
        app.login("acme", "a@acme.example", WRONG, Some("198.51.100.1"))
            .await,
    )
    .await;
    // A forged entry left of the real one changes nothing.
    assert_limited(
        app.login(
            "acme",
            "a@acme.example",
            WRONG,
            Some("7.7.7.7, 198.51.100.1"),
        )
        .await,
    )
    .await;
    let res = app
        .login("acme", "a@acme.example", WRONG, Some("198.51.100.2"))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_sharing_redis_share_the_budgets() {
    let Some(url) = redis_url() else { return };
    // A slug no other run uses, so the shared Redis holds no count of it.
    let slug = format!("t{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    // The address budget is left unbounded: other tests count 127.0.0.1 in the same Redis.
    let one = spawn(|c| {
        limits(c, 2, 1_000_000);
        c.redis_url = Some(url.clone().into());
    })
    .await;
    let two = spawn(|c| {
        limits(c, 2, 1_000_000);
        c.redis_url = Some(url.clone().into());
    })
    .await;
    let email = format!("owner@{slug}.example");
    assert_eq!(one.login(&slug, &email, WRONG, None).await.status(), 401);
    assert_eq!(two.login(&slug, &email, WRONG, None).await.status(), 401);
    assert_limited(one.login(&slug, &email, WRONG, None).await).await;
    assert_limited(two.login(&slug, &email, WRONG, None).await).await;
}
