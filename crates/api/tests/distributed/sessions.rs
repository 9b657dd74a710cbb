//! Sessions kept per instance: a role change or a deactivation made through one instance applies
//! on another within a second — announced over Redis when there is one, and by the one-second
//! bound on what an instance keeps when there is none.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{
    call, http_client, loud, mongo_url, redis_url, register, start_binary, Instance,
};

/// What only a MANAGER (or OWNER) may read; a STAFF is refused it.
const MANAGERS_ONLY: &str = "/v1/reports/valuation";

/// How often instance B is asked while the change travels.
const POLL: Duration = Duration::from_millis(5);

/// A tenant registered on `one` with a MANAGER logged in; returns (owner token, manager id,
/// manager token).
async fn tenant_with_manager(client: &reqwest::Client, one: &Instance) -> (String, String, String) {
    let slug = format!("sess-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let (owner, _) = register(client, &one.http, &slug).await;
    let email = format!("manager@{slug}.example");
    let (status, body) = call(
        client,
        format!("{}/v1/users", one.http),
        &owner,
        Some(json!({"email": email, "name": "Manager", "password": "a long enough password", "role": "MANAGER"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let login: Value = client
        .post(format!("{}/v1/auth/login", one.http))
        .json(&json!({"tenant": slug, "email": email, "password": "a long enough password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (owner, id, login["token"].as_str().unwrap().to_owned())
}

async fn status_of(client: &reqwest::Client, http: &str, token: &str) -> StatusCode {
    call(client, format!("{http}{MANAGERS_ONLY}"), token, None)
        .await
        .0
}

/// How long after the instance that made a change answered another instance still served the old
/// session, and then answered the new way.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// When the last request that still got the old answer was sent (zero if none did).
    last_old_sent: Duration,
    /// When the first request to get the new answer came back.
    first_new_back: Duration,
}

/// Changes the user through `one`, then asks `two` until it answers `expected`. `two` is asked
/// right up to the change, so what it keeps of the user is as fresh as it can be when the change
/// lands.
async fn change_and_wait(
    client: &reqwest::Client,
    (one, two): (&Instance, &Instance),
    owner: &str,
    user: &str,
    (token, patch): (&str, Value),
    expected: StatusCode,
) -> Seen {
    for _ in 0..20 {
        assert_eq!(status_of(client, &two.http, token).await, StatusCode::OK);
    }
    let res = client
        .patch(format!("{}/v1/users/{user}", one.http))
        .bearer_auth(owner)
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let changed = Instant::now();
    assert_eq!(
        status_of(client, &one.http, token).await,
        expected,
        "the instance that made the change applies it at once"
    );
    let mut last_old_sent = Duration::ZERO;
    loop {
        let sent = changed.elapsed();
        let status = status_of(client, &two.http, token).await;
        if status == expected {
            return Seen {
                last_old_sent,
                first_new_back: changed.elapsed(),
            };
        }
        assert_eq!(status, StatusCode::OK, "only the old answer or the new one");
        last_old_sent = sent;
        assert!(
            changed.elapsed() < Duration::from_secs(3),
            "instance two still answers as before the change"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Both instances serve the manager, then: demoted through one → two refuses the manager's read
/// (403); deactivated through one → two refuses the token (401). Returns what was seen of both.
async fn demote_then_deactivate(one: &Instance, two: &Instance) -> (Seen, Seen) {
    let client = http_client();
    let (owner, id, token) = tenant_with_manager(&client, one).await;
    assert_eq!(status_of(&client, &one.http, &token).await, StatusCode::OK);
    let demoted = change_and_wait(
        &client,
        (one, two),
        &owner,
        &id,
        (&token, json!({"role": "STAFF"})),
        StatusCode::FORBIDDEN,
    )
    .await;

    // Promoted back (so both instances serve the manager again), then deactivated.
    let (status, body) = call(&client, format!("{}/v1/users/{id}", one.http), &owner, None).await;
    assert_eq!(body["role"], "STAFF", "{status} {body}");
    let res = client
        .patch(format!("{}/v1/users/{id}", two.http))
        .bearer_auth(&owner)
        .json(&json!({"role": "MANAGER"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let settled = Instant::now();
    while status_of(&client, &one.http, &token).await != StatusCode::OK {
        assert!(
            settled.elapsed() < Duration::from_secs(3),
            "promotion never applied"
        );
        tokio::time::sleep(POLL).await;
    }
    let deactivated = change_and_wait(
        &client,
        (one, two),
        &owner,
        &id,
        (&token, json!({"active": false})),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    (demoted, deactivated)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_a_change_on_one_instance_applies_on_the_other_within_a_second() {
    let Some(redis) = redis_url() else { return };
    let Some(db) = mongo_url() else { return };
    let env = [
        ("STOCKROOM_DATABASE_URL", db.as_str()),
        ("STOCKROOM_REDIS_URL", redis.as_str()),
    ];
    let (one, two) = (start_binary(&env), start_binary(&env));
    let (demoted, deactivated) = demote_then_deactivate(&one, &two).await;
    loud(&format!(
        "sessions with Redis: demotion seen on the other instance after {demoted:?}, deactivation after {deactivated:?}"
    ));
    for seen in [demoted, deactivated] {
        assert!(seen.first_new_back < Duration::from_secs(1), "{seen:?}");
    }
    // Each time, the other instance had just read the user afresh (it had never seen them, or
    // the previous change's announcement made it forget them), so expiry alone would take about
    // a second: this fast, it was the announcement.
    for seen in [demoted, deactivated] {
        assert!(seen.first_new_back < Duration::from_millis(500), "{seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_redis_a_change_on_one_instance_applies_on_the_other_within_the_bound() {
    let Some(db) = mongo_url() else { return };
    let env = [("STOCKROOM_DATABASE_URL", db.as_str())];
    let (one, two) = (start_binary(&env), start_binary(&env));
    let (demoted, deactivated) = demote_then_deactivate(&one, &two).await;
    loud(&format!(
        "sessions without Redis: demotion seen on the other instance after {demoted:?}, deactivation after {deactivated:?}"
    ));
    // The bound is one second from the last read of the user, which came before the change: no
    // request sent a second after the change gets the old answer. The one that gets the new
    // answer also waits out one poll and its own round trip, on a machine shared with other tests.
    for seen in [demoted, deactivated] {
        assert!(seen.last_old_sent < Duration::from_secs(1), "{seen:?}");
        assert!(
            seen.first_new_back < Duration::from_millis(1500),
            "{seen:?}"
        );
    }
}
