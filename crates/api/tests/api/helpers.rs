//! `spawn_app()` and small clients for the resources the tests need.

use std::sync::Arc;

use api::config::{Config, DatabaseUrl};
use api::startup::{Application, Overrides};
use domain::lock::LockManager;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub use crate::http_client::http_client;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// Kept alive so a SQLite file outlives the test body.
    pub _dir: Option<tempfile::TempDir>,
}

/// Which store the tests of this binary run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)]
pub enum Backend {
    Sqlite,
    Mongo,
}

/// A fresh, empty database of the binary's backend: its URL, and the folder holding it (SQLite).
///
/// For MongoDB the server comes from `STOCKROOM_TEST_MONGO_URL`; without it the whole test
/// binary is skipped with a loud line on a developer machine, and fails under `CI`.
pub fn fresh_database() -> (DatabaseUrl, Option<tempfile::TempDir>) {
    match crate::BACKEND {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("stockroom.db").display());
            (DatabaseUrl::Sqlite(url), Some(dir))
        }
        Backend::Mongo => {
            let server = match std::env::var("STOCKROOM_TEST_MONGO_URL") {
                Ok(url) if !url.is_empty() => url,
                _ if std::env::var_os("CI").is_some() => {
                    panic!("STOCKROOM_TEST_MONGO_URL is not set; run the tests through ./scripts/test.sh")
                }
                _ => {
                    use std::io::Write;
                    let _ = writeln!(
                        std::io::stderr(),
                        "!!!!! SKIPPED: STOCKROOM_TEST_MONGO_URL is not set; the MongoDB API tests did not run (./scripts/test.sh runs them) !!!!!"
                    );
                    std::process::exit(0);
                }
            };
            let name = format!("stockroom_api_{}", uuid::Uuid::now_v7().simple());
            (DatabaseUrl::Mongo(with_database(&server, &name)), None)
        }
    }
}

/// `url` with its database path replaced by `database`, keeping hosts and options.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a mongodb:// URL");
    let (hosts, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let query = tail.find('?').map(|i| &tail[i..]).unwrap_or("");
    format!("{scheme}://{hosts}/{database}{query}")
}

/// A tenant with an OWNER token.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub token: String,
    pub id: String,
    pub slug: String,
    pub owner_id: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Overrides::default()).await
}

pub async fn spawn_app_with_lock(lock: Arc<dyn LockManager>) -> TestApp {
    spawn_app_with(Overrides { lock: Some(lock) }).await
}

pub async fn spawn_app_with(overrides: Overrides) -> TestApp {
    let (database, dir) = fresh_database();
    if std::env::var("TEST_LOG").is_ok() {
        api::telemetry::init("info", api::config::LogFormat::Pretty);
    }
    let config = Config::for_tests(database);
    let app = Application::build_with(config, overrides)
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.http_port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: http_client(),
        _dir: dir,
    }
}

impl TestApp {
    /// Sends a JSON request and returns the status and the parsed body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.address, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let bytes = res.bytes().await.expect("body read");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, value)
    }

    pub async fn get(&self, path: impl AsRef<str>, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path.as_ref(), Some(token), None)
            .await
    }

    pub async fn post(
        &self,
        path: impl AsRef<str>,
        token: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.call(Method::POST, path.as_ref(), Some(token), Some(body))
            .await
    }

    pub async fn patch(
        &self,
        path: impl AsRef<str>,
        token: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.call(Method::PATCH, path.as_ref(), Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: impl AsRef<str>, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path.as_ref(), Some(token), None)
            .await
    }

    pub async fn register(&self, slug: &str) -> Tenant {
        let (status, body) = self
            .call(
                Method::POST,
                "/v1/auth/register",
                None,
                Some(json!({
                    "tenantName": format!("{slug} Ltd"),
                    "tenantSlug": slug,
                    "email": format!("owner@{slug}.example"),
                    "password": "correct horse battery",
                    "name": "Owner",
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Tenant {
            token: body["token"].as_str().unwrap().to_owned(),
            id: body["tenant"]["id"].as_str().unwrap().to_owned(),
            slug: slug.to_owned(),
            owner_id: body["user"]["id"].as_str().unwrap().to_owned(),
        }
    }

    /// Adds a user with `role` to the tenant and logs them in; returns their token.
    pub async fn user_token(&self, tenant: &Tenant, role: &str) -> String {
        let email = format!(
            "{}-{}@{}.example",
            role.to_lowercase(),
            uuid::Uuid::now_v7().simple(),
            tenant.slug
        );
        let (status, body) = self
            .post(
                "/v1/users",
                &tenant.token,
                json!({"email": email, "name": role, "password": "a long enough password", "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.login(&tenant.slug, &email, "a long enough password")
            .await
    }

    pub async fn login(&self, slug: &str, email: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"tenant": slug, "email": email, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn product(&self, token: &str, name: &str) -> String {
        let (status, body) = self
            .post("/v1/products", token, json!({"name": name}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// A variant of a new product, with `stock` units added by an adjustment.
    pub async fn variant_with_stock(&self, token: &str, sku: &str, stock: i64) -> String {
        let product = self.product(token, &format!("Product {sku}")).await;
        let (status, body) = self
            .post(
                "/v1/variants",
                token,
                json!({"productId": product, "sku": sku, "price": 1000, "reorderLevel": 2}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        if stock > 0 {
            let (status, body) = self
                .post(
                    &format!("/v1/variants/{id}/adjustments"),
                    token,
                    json!({"quantity": stock, "reason": "initial count"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        id
    }

    pub async fn stock_of(&self, token: &str, variant: &str) -> i64 {
        let (status, body) = self.get(&format!("/v1/variants/{variant}"), token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["stock"].as_i64().unwrap()
    }

    /// Asserts the tenant's audit finds no drift and returns how many variants it checked.
    pub async fn assert_audit_clean(&self, token: &str) -> u64 {
        let (status, body) = self.get("/v1/stock/audit", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["drift"], json!([]), "audit found drift: {body}");
        body["variantsChecked"].as_u64().unwrap()
    }

    /// Every movement of a variant (all pages).
    pub async fn movements_of(&self, token: &str, variant: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/movements?variantId={variant}&limit=200");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, body) = self.get(&path, token).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            all.extend(body["items"].as_array().unwrap().iter().cloned());
            match body["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return all,
            }
        }
    }
}

/// Asserts `body` is a problem document with `status`.
pub fn assert_problem(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(
        body["status"].as_u64(),
        Some(expected.as_u16() as u64),
        "{body}"
    );
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/")),
        "{body}"
    );
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
}

/// A unique slug per test.
pub fn slug(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    )
}
