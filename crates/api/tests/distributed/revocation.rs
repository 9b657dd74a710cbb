//! Ending sessions across instances: a password change or a deactivation made through one
//! instance refuses the user's older tokens on the other and closes the user's sockets there;
//! the same token cannot open a new socket on either.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{call, http_client, listen, mongo_url, redis_url, register, start_binary};

const PASSWORD: &str = "a long enough password";

/// Adds a STAFF to the tenant through `http` and logs them in; returns (id, email, token).
async fn staff(
    client: &reqwest::Client,
    http: &str,
    owner: &str,
    slug: &str,
) -> (String, String, String) {
    let email = format!("staff-{}@{slug}.example", uuid::Uuid::now_v7().simple());
    let (status, body) = call(
        client,
        format!("{http}/v1/users"),
        owner,
        Some(json!({"email": email, "name": "Staff", "password": PASSWORD, "role": "STAFF"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let login: Value = client
        .post(format!("{http}/v1/auth/login"))
        .json(&json!({"tenant": slug, "email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        body["id"].as_str().unwrap().to_owned(),
        email,
        login["token"].as_str().unwrap().to_owned(),
    )
}

async fn me(client: &reqwest::Client, http: &str, token: &str) -> StatusCode {
    call(client, format!("{http}/v1/me"), token, None).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_on_one_instance_ends_the_users_tokens_and_sockets_on_the_other() {
    let Some(redis) = redis_url() else { return };
    let Some(db) = mongo_url() else { return };
    let env = [
        ("STOCKROOM_DATABASE_URL", db.as_str()),
        ("STOCKROOM_REDIS_URL", redis.as_str()),
    ];
    let (one, two) = (start_binary(&env), start_binary(&env));
    let client = http_client();
    let slug = format!(
        "revoke-{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    let (owner, _) = register(&client, &one.http, &slug).await;

    // A password change through one: the old token dies on two, and its socket there closes.
    let (_, _, token) = staff(&client, &one.http, &owner, &slug).await;
    assert_eq!(me(&client, &two.http, &token).await, StatusCode::OK);
    let mut socket = listen(two.socket_port, &token)
        .await
        .expect("connects to two");
    let (status, body) = call(
        &client,
        format!("{}/v1/me/password", one.http),
        &token,
        Some(json!({"currentPassword": PASSWORD, "newPassword": "an even longer password"})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let changed = Instant::now();
    while me(&client, &two.http, &token).await != StatusCode::UNAUTHORIZED {
        assert!(
            changed.elapsed() < Duration::from_secs(2),
            "two still accepts the old token"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let heard = socket.drain(Duration::from_secs(3)).await;
    assert!(
        heard.iter().any(|(name, _)| name == "session.ended"),
        "{heard:?}"
    );
    assert!(
        listen(two.socket_port, &token).await.is_err(),
        "old token reconnects"
    );
    assert!(
        listen(one.socket_port, &token).await.is_err(),
        "old token reconnects"
    );

    // A deactivation through one: the user's socket on two closes and cannot come back.
    let (id, _, token) = staff(&client, &one.http, &owner, &slug).await;
    let mut socket = listen(two.socket_port, &token)
        .await
        .expect("connects to two");
    let res = client
        .patch(format!("{}/v1/users/{id}", one.http))
        .bearer_auth(&owner)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let heard = socket.drain(Duration::from_secs(3)).await;
    assert!(
        heard.iter().any(|(name, _)| name == "session.ended"),
        "{heard:?}"
    );
    let refused = listen(two.socket_port, &token)
        .await
        .err()
        .expect("refused");
    assert!(refused.contains("session has ended"), "{refused}");
    assert_eq!(
        me(&client, &two.http, &token).await,
        StatusCode::UNAUTHORIZED
    );
}
