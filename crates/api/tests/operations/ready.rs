//! `/ready` is public: it says what is down in fixed words, never how it failed.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn;

#[tokio::test]
async fn an_unreachable_redis_is_named_without_its_address_or_error() {
    // Nothing listens on port 1: every Redis command fails with "connection refused".
    let app = spawn(|c| c.redis_url = Some("redis://127.0.0.1:1/".into())).await;
    let res = app
        .client
        .get(format!("{}/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let text = res.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    for secret in [
        "127.0.0.1",
        ":1",
        "refused",
        "PING",
        "connection",
        "os error",
    ] {
        assert!(
            !text.to_lowercase().contains(&secret.to_lowercase()),
            "the body gives away {secret:?}: {text}"
        );
    }
    assert_eq!(body["detail"], "redis unreachable", "{body}");
}
