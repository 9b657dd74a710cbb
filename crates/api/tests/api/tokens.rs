//! Every way a token can be wrong is 401 problem+json; login failures are indistinguishable.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, slug, spawn_app};

const TEST_SECRET: &str = "test-secret-test-secret-test-secret!!";

fn claims(tenant: &str, user: &str, exp: i64) -> serde_json::Value {
    json!({"userId": user, "tenantId": tenant, "role": "OWNER", "exp": exp, "iat": exp - 60})
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("tok")).await;
    let now = chrono::Utc::now().timestamp();

    let expired = encode(
        &Header::default(),
        &claims(&t.id, &t.owner_id, now - 10),
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()).unwrap(),
    )
    .unwrap();
    let wrong_secret = encode(
        &Header::default(),
        &claims(&t.id, &t.owner_id, now + 600),
        &EncodingKey::from_secret(b"another-secret-another-secret-xxxxx").unwrap(),
    )
    .unwrap();
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(&t.id, &t.owner_id, now + 600).to_string())
    );
    // Correctly signed, but naming a user that does not exist.
    let ghost = encode(
        &Header::default(),
        &claims(&t.id, &uuid::Uuid::now_v7().to_string(), now + 600),
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()).unwrap(),
    )
    .unwrap();

    for (name, header) in [
        ("missing", None),
        ("malformed", Some("Bearer not-a-token".to_owned())),
        ("wrong scheme", Some(format!("Basic {}", t.token))),
        ("expired", Some(format!("Bearer {expired}"))),
        ("wrong signature", Some(format!("Bearer {wrong_secret}"))),
        ("alg none", Some(format!("Bearer {alg_none}"))),
        ("unknown user", Some(format!("Bearer {ghost}"))),
    ] {
        let mut req = app.client.get(format!("{}/v1/products", app.address));
        if let Some(h) = header {
            req = req.header("authorization", h);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/problem+json",
            "{name}"
        );
        let body: serde_json::Value = res.json().await.unwrap();
        assert_problem(status, &body, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = app.get("/v1/products", &t.token).await;
    assert_eq!(status, StatusCode::OK, "the genuine token works");
}

#[tokio::test]
async fn wrong_tenant_email_or_password_give_the_same_401() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("login")).await;
    let email = format!("owner@{}.example", t.slug);
    let mut bodies = Vec::new();
    for (tenant, email, password) in [
        ("no-such-tenant", email.as_str(), "correct horse battery"),
        (t.slug.as_str(), "nobody@x.example", "correct horse battery"),
        (t.slug.as_str(), email.as_str(), "wrong password!"),
    ] {
        let (status, body) = app
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"tenant": tenant, "email": email, "password": password})),
            )
            .await;
        assert_problem(status, &body, StatusCode::UNAUTHORIZED);
        bodies.push(body);
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[1], bodies[2]);
}
