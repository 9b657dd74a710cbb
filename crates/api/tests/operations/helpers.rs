//! Starting the app with a changed test configuration.

use api::config::{Config, DatabaseUrl};
use api::startup::{Application, Overrides};

use crate::conformance::Conformance;
pub use crate::http_client::http_client;

pub struct Running {
    /// Where requests go: a recording proxy in front of the app that checks every answer
    /// against the OpenAPI document (see `recording_proxy`).
    pub address: String,
    /// The app's own HTTP port, for the tests that need the raw listener: a client trickling
    /// bytes to hit the server's read deadlines must reach the server itself, not the proxy.
    pub http_port: u16,
    pub socket_port: u16,
    pub client: reqwest::Client,
    /// Fails the test when it ends and an answer broke the document.
    pub conformance: Conformance,
    pub _dir: tempfile::TempDir,
}

/// The app on a fresh SQLite file, its test configuration changed by `configure`.
pub async fn spawn(configure: impl FnOnce(&mut Config)) -> Running {
    if std::env::var("TEST_LOG").is_ok() {
        api::telemetry::init("info", api::config::LogFormat::Pretty);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("stockroom.db").display());
    let mut config = Config::for_tests(DatabaseUrl::Sqlite(url));
    configure(&mut config);
    let app = Application::build_with(config, Overrides::default())
        .await
        .expect("the app builds");
    let (http_port, socket_port) = (app.http_port(), app.socket_port());
    tokio::spawn(app.run_until_stopped());
    let proxied = crate::recording_proxy::start(&format!("http://127.0.0.1:{http_port}"));
    Running {
        address: proxied.address,
        http_port,
        socket_port,
        client: http_client(),
        conformance: proxied.conformance,
        _dir: dir,
    }
}

impl Running {
    /// POSTs `body` as JSON to `path`, with `X-Forwarded-For: forwarded` when given.
    pub async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
        forwarded: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.address))
            .json(&body);
        if let Some(forwarded) = forwarded {
            req = req.header("x-forwarded-for", forwarded);
        }
        let res = req.send().await.expect("request sent");
        self.conformance.recorder.assert_conforming();
        res
    }

    /// Registers tenant `slug` with owner `owner@{slug}.example` / `correct horse battery`.
    pub async fn register(&self, slug: &str) {
        let res = self
            .post("/v1/auth/register", registration(slug), None)
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    }

    /// A log-in to `slug` as `email` with `password`, from `forwarded` when given.
    pub async fn login(
        &self,
        slug: &str,
        email: &str,
        password: &str,
        forwarded: Option<&str>,
    ) -> reqwest::Response {
        let body = serde_json::json!({"tenant": slug, "email": email, "password": password});
        self.post("/v1/auth/login", body, forwarded).await
    }
}

pub fn registration(slug: &str) -> serde_json::Value {
    serde_json::json!({
        "tenantName": format!("{slug} Ltd"),
        "tenantSlug": slug,
        "email": format!("owner@{slug}.example"),
        "password": "correct horse battery",
        "name": "Owner",
    })
}

/// The Redis of `STOCKROOM_TEST_REDIS_URL`; `None` (after a loud line) when it is not set on a
/// developer machine, a failure under CI.
pub fn redis_url() -> Option<String> {
    match std::env::var("STOCKROOM_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!("STOCKROOM_TEST_REDIS_URL is not set"),
        _ => {
            use std::io::Write;
            let test = std::thread::current().name().unwrap_or("a test").to_owned();
            let _ = writeln!(
                std::io::stderr(),
                "!!!!! SKIPPED {test}: STOCKROOM_TEST_REDIS_URL is not set !!!!!"
            );
            None
        }
    }
}
