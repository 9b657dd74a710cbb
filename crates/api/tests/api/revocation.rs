//! Ending sessions: a password change or a deactivation refuses every older token at once, and
//! closes the user's open sockets; key rotation keeps tokens of a previous secret only while it
//! is configured; a tenant keeps an active OWNER however its owners race.

use std::time::Duration;

use api::auth::jwt::TokenService;
use api::startup::Overrides;
use domain::auth::models::{Role, Session};
use futures::FutureExt;
use reqwest::StatusCode;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload};
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::helpers::{fresh_database, spawn_app, spawn_app_configured, Tenant, TestApp};

const PASSWORD: &str = "a long enough password";

/// Adds a user with `role` and a known email; returns (id, email, token).
async fn member(app: &TestApp, t: &Tenant, role: &str) -> (String, String, String) {
    let email = format!(
        "{}-{}@{}.example",
        role.to_lowercase(),
        uuid::Uuid::now_v7().simple(),
        t.slug
    );
    let (status, body) = app
        .post(
            "/v1/users",
            &t.token,
            json!({"email": email, "name": role, "password": PASSWORD, "role": role}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = app.login(&t.slug, &email, PASSWORD).await;
    (body["id"].as_str().unwrap().to_owned(), email, token)
}

async fn login_status(app: &TestApp, slug: &str, email: &str, password: &str) -> StatusCode {
    app.call(
        reqwest::Method::POST,
        "/v1/auth/login",
        None,
        Some(json!({"tenant": slug, "email": email, "password": password})),
    )
    .await
    .0
}

#[tokio::test]
async fn a_password_change_refuses_every_older_token_at_once() {
    let Some(app) = spawn_app().await else { return };
    let t = app.register("pw-change").await;
    let (_, email, token) = member(&app, &t, "STAFF").await;
    let second = app.login(&t.slug, &email, PASSWORD).await;
    assert_eq!(app.get("/v1/me", &token).await.0, StatusCode::OK);

    let (status, body) = app
        .post(
            "/v1/me/password",
            &token,
            json!({"currentPassword": PASSWORD, "newPassword": "an even longer password"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for old in [&token, &second] {
        let (status, body) = app.get("/v1/me", old).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    assert_eq!(
        login_status(&app, &t.slug, &email, PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    let fresh = app.login(&t.slug, &email, "an even longer password").await;
    assert_eq!(app.get("/v1/me", &fresh).await.0, StatusCode::OK);
    // The owner's own session is untouched.
    assert_eq!(app.get("/v1/me", &t.token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_current_or_weak_new_password_is_422_naming_the_field_and_changes_nothing() {
    let Some(app) = spawn_app().await else { return };
    let t = app.register("pw-refused").await;
    let (_, email, token) = member(&app, &t, "MANAGER").await;
    let cases = [
        (
            json!({"currentPassword": "not my password", "newPassword": "an even longer password"}),
            "currentPassword",
        ),
        (
            json!({"currentPassword": PASSWORD, "newPassword": "short"}),
            "newPassword",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = app.post("/v1/me/password", &token, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    assert_eq!(
        app.get("/v1/me", &token).await.0,
        StatusCode::OK,
        "still valid"
    );
    assert_eq!(
        login_status(&app, &t.slug, &email, PASSWORD).await,
        StatusCode::OK
    );
    let (status, _) = app
        .call(
            reqwest::Method::POST,
            "/v1/me/password",
            None,
            Some(json!({"currentPassword": PASSWORD, "newPassword": "an even longer password"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_deactivation_ends_every_session_for_good() {
    let Some(app) = spawn_app().await else { return };
    let t = app.register("deactivated").await;
    let (id, email, token) = member(&app, &t, "STAFF").await;
    let off = app
        .patch(
            format!("/v1/users/{id}"),
            &t.token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(off.0, StatusCode::OK, "{}", off.1);
    assert_eq!(app.get("/v1/me", &token).await.0, StatusCode::UNAUTHORIZED);
    let on = app
        .patch(format!("/v1/users/{id}"), &t.token, json!({"active": true}))
        .await;
    assert_eq!(on.0, StatusCode::OK, "{}", on.1);
    // Reactivated, but the token issued before the deactivation stays dead.
    assert_eq!(app.get("/v1/me", &token).await.0, StatusCode::UNAUTHORIZED);
    let fresh = app.login(&t.slug, &email, PASSWORD).await;
    assert_eq!(app.get("/v1/me", &fresh).await.0, StatusCode::OK);
}

/// Two owners demote each other at once, round after round: one always stays an active OWNER,
/// and the loser of a real race hears 409 naming the rule.
#[tokio::test]
async fn owners_demoting_each_other_at_once_leave_one_owner_and_the_other_hears_409() {
    let Some(app) = spawn_app().await else { return };
    let mut conflicts = 0;
    for round in 0..30 {
        let a = app.register(&format!("owners-{round}")).await;
        let (b_id, _, b_token) = member(&app, &a, "OWNER").await;
        let a_id = a.owner_id.clone();
        let demote = |token: String, target: String| {
            let app_client = app.client.clone();
            let url = format!("{}/v1/users/{target}", app.address);
            async move {
                let res = app_client
                    .patch(url)
                    .bearer_auth(token)
                    .json(&json!({"role": "MANAGER"}))
                    .send()
                    .await
                    .expect("sent");
                let status = res.status();
                (status, res.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let (by_a, by_b) = tokio::join!(
            demote(a.token.clone(), b_id.clone()),
            demote(b_token.clone(), a_id.clone())
        );
        // Whichever of the two is still an owner may list the users.
        let mut listing = app.get("/v1/users", &a.token).await;
        if listing.0 == StatusCode::FORBIDDEN {
            listing = app.get("/v1/users", &b_token).await;
        }
        assert_eq!(
            listing.0,
            StatusCode::OK,
            "round {round}: nobody may list the users"
        );
        let owners = listing.1["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["role"] == "OWNER" && u["active"] == true)
            .count();
        assert_eq!(owners, 1, "round {round}: {by_a:?} {by_b:?}");
        let statuses = [by_a.0, by_b.0];
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "round {round}: {by_a:?} {by_b:?}"
        );
        for (status, body) in [&by_a, &by_b] {
            if *status == StatusCode::CONFLICT {
                conflicts += 1;
                assert_eq!(body["type"], "/problems/conflict", "{body}");
                assert!(
                    body["detail"]
                        .as_str()
                        .unwrap()
                        .contains("at least one active OWNER"),
                    "{body}"
                );
            } else {
                // Lost before it began: the loser was already a MANAGER when it was checked.
                assert!(
                    matches!(*status, StatusCode::OK | StatusCode::FORBIDDEN),
                    "{status} {body}"
                );
            }
        }
        if conflicts >= 3 {
            break;
        }
    }
    assert!(
        conflicts > 0,
        "no round raced past the role check; the rule was never exercised"
    );
}

const OLD_SECRET: &str = "the-secret-before-rotation-0123456789abc";

/// A token for the tenant's owner, signed by `secret`.
fn owner_token_signed_by(secret: &str, t: &Tenant) -> String {
    let tokens = TokenService::new(
        &SecretString::from(secret.to_owned()),
        Duration::from_secs(600),
    )
    .unwrap();
    tokens
        .issue(&Session {
            tenant_id: t.id.parse().unwrap(),
            user_id: t.owner_id.parse().unwrap(),
            role: Role::Owner,
            token_version: 0,
        })
        .unwrap()
        .token
}

#[tokio::test]
async fn a_previous_secret_works_while_configured_and_not_once_removed_and_an_unknown_kid_is_401() {
    let Some((database, _dir)) = fresh_database() else {
        return;
    };
    let url = database.clone();
    let (rotated, _) = spawn_app_configured(Overrides::default(), move |c| {
        c.database = url;
        c.jwt_previous_secrets = vec![SecretString::from(OLD_SECRET.to_owned())];
    })
    .await
    .unwrap();
    let t = rotated.register("rotated").await;
    let old = owner_token_signed_by(OLD_SECRET, &t);
    assert_eq!(rotated.get("/v1/me", &old).await.0, StatusCode::OK);
    assert_eq!(rotated.get("/v1/me", &t.token).await.0, StatusCode::OK);
    let stranger = owner_token_signed_by("a-secret-this-server-never-had-0123456789", &t);
    let (status, body) = rotated.get("/v1/me", &stranger).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // The same store, the previous secret removed.
    let (removed, _) = spawn_app_configured(Overrides::default(), move |c| c.database = database)
        .await
        .unwrap();
    assert_eq!(
        removed.get("/v1/me", &old).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(removed.get("/v1/me", &t.token).await.0, StatusCode::OK);
}

/// A Socket.IO client that records what it hears and when it is closed.
struct Socket {
    _client: Client,
    heard: mpsc::UnboundedReceiver<(String, Value)>,
}

impl Socket {
    /// Waits for `name` (skipping other events) within `within`.
    async fn hears(&mut self, name: &str, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(Some((event, _))) = tokio::time::timeout_at(deadline, self.heard.recv()).await
        {
            if event == name {
                return true;
            }
        }
        false
    }
}

/// Connects with `token`: `Ok` once accepted, `Err` with the refusal.
async fn connect(port: u16, token: &str) -> Result<Socket, String> {
    let (tx, mut heard) = mpsc::unbounded_channel();
    let (on_any, on_connect, on_error, on_close) = (tx.clone(), tx.clone(), tx.clone(), tx);
    let client = ClientBuilder::new(format!("http://127.0.0.1:{port}/"))
        .reconnect(false)
        .auth(json!({ "token": token }))
        .on_any(move |event, payload, _| {
            let tx = on_any.clone();
            async move {
                let first = match payload {
                    Payload::Text(values) => values.into_iter().next().unwrap_or(Value::Null),
                    _ => Value::Null,
                };
                let _ = tx.send((event.as_str().to_owned(), first));
            }
            .boxed()
        })
        .on(Event::Connect, move |_, _| {
            let tx = on_connect.clone();
            async move {
                let _ = tx.send(("<connected>".into(), Value::Null));
            }
            .boxed()
        })
        .on(Event::Error, move |payload, _| {
            let tx = on_error.clone();
            async move {
                let text = match payload {
                    Payload::Text(values) => values.into_iter().next().unwrap_or(Value::Null),
                    _ => Value::Null,
                };
                let _ = tx.send(("<error>".into(), text));
            }
            .boxed()
        })
        .on(Event::Close, move |_, _| {
            let tx = on_close.clone();
            async move {
                let _ = tx.send(("<closed>".into(), Value::Null));
            }
            .boxed()
        })
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(Duration::from_secs(5), heard.recv()).await {
        Ok(Some((event, _))) if event == "<connected>" => Ok(Socket {
            _client: client,
            heard,
        }),
        Ok(Some((event, payload))) if event == "<error>" => Err(payload.to_string()),
        other => Err(format!("neither connected nor refused: {other:?}")),
    }
}

#[tokio::test]
async fn a_deactivated_users_socket_is_closed_and_cannot_reconnect() {
    let Some((app, port)) = spawn_app_configured(Overrides::default(), |_| {}).await else {
        return;
    };
    let t = app.register("socket-off").await;
    let (id, _, token) = member(&app, &t, "STAFF").await;
    let mut socket = connect(port, &token)
        .await
        .expect("an active user connects");
    let mut owner = connect(port, &t.token).await.expect("the owner connects");

    let off = app
        .patch(
            format!("/v1/users/{id}"),
            &t.token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(off.0, StatusCode::OK, "{}", off.1);
    assert!(
        socket.hears("session.ended", Duration::from_secs(5)).await,
        "told why"
    );
    assert!(
        socket.hears("<closed>", Duration::from_secs(5)).await,
        "disconnected"
    );
    let refused = connect(port, &token).await.err().expect("refused");
    assert!(refused.contains("session has ended"), "{refused}");
    // The owner's socket stays open.
    assert!(
        !owner
            .hears("session.ended", Duration::from_millis(300))
            .await
    );
    assert!(!owner.hears("<closed>", Duration::from_millis(10)).await);
}

#[tokio::test]
async fn a_password_change_closes_the_users_sockets_and_only_a_new_token_reconnects() {
    let Some((app, port)) = spawn_app_configured(Overrides::default(), |_| {}).await else {
        return;
    };
    let t = app.register("socket-pw").await;
    let (_, email, token) = member(&app, &t, "MANAGER").await;
    let mut socket = connect(port, &token).await.expect("connects");
    let (status, body) = app
        .post(
            "/v1/me/password",
            &token,
            json!({"currentPassword": PASSWORD, "newPassword": "an even longer password"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(socket.hears("session.ended", Duration::from_secs(5)).await);
    assert!(socket.hears("<closed>", Duration::from_secs(5)).await);
    assert!(
        connect(port, &token).await.is_err(),
        "the old token is refused"
    );
    let fresh = app.login(&t.slug, &email, "an even longer password").await;
    connect(port, &fresh).await.expect("a new token connects");
}
