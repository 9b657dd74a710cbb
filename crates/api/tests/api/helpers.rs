//! `spawn_app()` and small clients for the resources the tests need.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::config::{Config, DatabaseUrl};
use api::startup::{Application, Overrides};
use domain::lock::{LockError, LockGuard, LockKey, LockManager};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::{watch, Barrier};

use crate::conformance::{Conformance, Recorder};

pub use crate::http_client::http_client;

pub struct TestApp {
    /// Where tests send requests: a recording proxy in front of the app, which checks every
    /// answer against the OpenAPI document (see `recording_proxy`).
    pub address: String,
    /// The app's own listener, for a test that needs the raw server rather than the proxy.
    pub direct_address: String,
    pub client: reqwest::Client,
    /// Fails the test when the last handle on the app goes and an answer broke the document.
    pub conformance: Arc<Conformance>,
    /// Kept alive so a SQLite file outlives the test body.
    pub _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    /// A handle on the app listening at `direct_address`, reached through a recording proxy.
    pub fn serving(direct_address: String, dir: Option<tempfile::TempDir>) -> Self {
        let proxied = crate::recording_proxy::start(&direct_address);
        Self {
            address: proxied.address,
            direct_address,
            client: http_client(),
            conformance: Arc::new(proxied.conformance),
            _dir: dir,
        }
    }

    /// Another handle on the same app (for a task of its own), sharing its conformance record.
    pub fn handle(&self) -> Self {
        Self {
            address: self.address.clone(),
            direct_address: self.direct_address.clone(),
            client: self.client.clone(),
            conformance: self.conformance.clone(),
            _dir: None,
        }
    }

    /// Panics naming any answer so far that the document does not describe.
    pub fn assert_conforming(&self) {
        self.conformance.recorder.assert_conforming();
    }
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
/// For MongoDB the server comes from `STOCKROOM_TEST_MONGO_URL`; without it the calling test is
/// skipped (`None`, after a loud line naming it) on a developer machine, and fails under `CI`.
pub fn fresh_database() -> Option<(DatabaseUrl, Option<tempfile::TempDir>)> {
    match crate::BACKEND {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("stockroom.db").display());
            Some((DatabaseUrl::Sqlite(url), Some(dir)))
        }
        Backend::Mongo => {
            let server = match std::env::var("STOCKROOM_TEST_MONGO_URL") {
                Ok(url) if !url.is_empty() => url,
                _ if std::env::var_os("CI").is_some() => {
                    panic!("STOCKROOM_TEST_MONGO_URL is not set; run the tests through ./scripts/test.sh")
                }
                _ => {
                    skipped("STOCKROOM_TEST_MONGO_URL is not set (./scripts/test.sh sets it)");
                    return None;
                }
            };
            let name = format!("stockroom_api_{}", uuid::Uuid::now_v7().simple());
            Some((DatabaseUrl::Mongo(with_database(&server, &name)), None))
        }
    }
}

/// Announces that the running test is skipped, past the harness's output capture so it is seen.
fn skipped(why: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    // A direct write to the stderr handle, unlike `eprintln!`, is not captured by the harness.
    let _ = writeln!(std::io::stderr(), "!!!!! SKIPPED {test}: {why} !!!!!");
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

/// The app on a fresh database; `None` when the test must be skipped (see [`fresh_database`]).
pub async fn spawn_app() -> Option<TestApp> {
    spawn_app_with(Overrides::default()).await
}

pub async fn spawn_app_with_lock(lock: Arc<dyn LockManager>) -> Option<TestApp> {
    spawn_app_with(Overrides { lock: Some(lock) }).await
}

pub async fn spawn_app_with(overrides: Overrides) -> Option<TestApp> {
    Some(spawn_app_configured(overrides, |_| {}).await?.0)
}

/// The app with its test configuration changed by `configure` (e.g. how often it sweeps
/// expired reservations), and the port of its Socket.IO server.
pub async fn spawn_app_configured(
    overrides: Overrides,
    configure: impl FnOnce(&mut Config),
) -> Option<(TestApp, u16)> {
    let (database, dir) = fresh_database()?;
    if std::env::var("TEST_LOG").is_ok() {
        api::telemetry::init("info", api::config::LogFormat::Pretty);
    }
    let mut config = Config::for_tests(database);
    configure(&mut config);
    let app = Application::build_with(config, overrides)
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.http_port());
    let socket_port = app.socket_port();
    tokio::spawn(app.run_until_stopped());
    Some((TestApp::serving(address, dir), socket_port))
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
        self.assert_conforming();
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

    /// `(stock, onHand, committed)` of a variant: available, physically held, and committed to
    /// placed orders not fulfilled yet.
    pub async fn states_of(&self, token: &str, variant: &str) -> (i64, i64, i64) {
        let (status, body) = self.get(&format!("/v1/variants/{variant}"), token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let n = |field: &str| {
            body[field]
                .as_i64()
                .unwrap_or_else(|| panic!("{field}: {body}"))
        };
        (n("stock"), n("onHand"), n("committed"))
    }

    /// Fulfils every order of `orders` (all at once), each answering 200: their committed units
    /// leave with SALE movements.
    pub async fn fulfil_all(&self, token: &str, orders: &[String]) {
        let calls = orders
            .iter()
            .map(|o| self.post(format!("/v1/orders/{o}/fulfil"), token, json!({})));
        for (status, body) in futures::future::join_all(calls).await {
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["status"], "FULFILLED", "{body}");
        }
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

/// Locations, levels and transfers: what the multi-location tests set up and read.
impl TestApp {
    /// Every location of the tenant, oldest first.
    pub async fn locations(&self, token: &str) -> Vec<Value> {
        let (status, body) = self.get("/v1/locations?limit=200", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["items"].as_array().unwrap().clone()
    }

    /// The id of the tenant's default location.
    pub async fn default_location(&self, token: &str) -> String {
        let defaults: Vec<Value> = self
            .locations(token)
            .await
            .into_iter()
            .filter(|l| l["isDefault"] == true)
            .collect();
        assert_eq!(defaults.len(), 1, "exactly one default: {defaults:?}");
        defaults[0]["id"].as_str().unwrap().to_owned()
    }

    /// A new location named after its `code`, with `priority`; returns its id.
    pub async fn location(&self, token: &str, code: &str, priority: i64) -> String {
        let (status, body) = self
            .post(
                "/v1/locations",
                token,
                json!({"name": format!("Site {code}"), "code": code, "priority": priority}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Adjusts `variant` by `quantity` at `location` (the default when `None`); asserts 201.
    pub async fn adjust(&self, token: &str, variant: &str, location: Option<&str>, quantity: i64) {
        let mut body = json!({"quantity": quantity, "reason": "count"});
        if let Some(location) = location {
            body["locationId"] = json!(location);
        }
        let (status, body) = self
            .post(format!("/v1/variants/{variant}/adjustments"), token, body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// The variant as the API shows it.
    pub async fn variant(&self, token: &str, variant: &str) -> Value {
        let (status, body) = self.get(format!("/v1/variants/{variant}"), token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// The variant's stock at `location`, read from its `levels` (0 when it has no level there).
    pub async fn level_of(&self, token: &str, variant: &str, location: &str) -> i64 {
        level_in(&self.variant(token, variant).await, location)
    }

    /// Every movement matching `query` (all pages), newest first.
    pub async fn movements_where(&self, token: &str, query: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/movements?{query}&limit=200");
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

    /// A DRAFT transfer of `lines` (variant, quantity) from `from` to `to`; returns its id.
    pub async fn transfer(
        &self,
        token: &str,
        from: &str,
        to: &str,
        lines: &[(&str, i64)],
    ) -> String {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(v, q)| json!({"variantId": v, "quantity": q}))
            .collect();
        let (status, body) = self
            .post(
                "/v1/transfers",
                token,
                json!({"fromLocationId": from, "toLocationId": to, "lines": lines}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["status"], "DRAFT", "{body}");
        body["id"].as_str().unwrap().to_owned()
    }
}

/// `level` (a variant's level or a location's, as JSON) as the API shows it when nothing there is
/// reserved or unavailable: with `reserved` and `unavailable` 0 and `unavailableBy` all zeros.
pub fn unclaimed(mut level: Value) -> Value {
    let fields = level.as_object_mut().expect("a level is a JSON object");
    fields.insert("reserved".into(), json!(0));
    fields.insert("unavailable".into(), json!(0));
    fields.insert(
        "unavailableBy".into(),
        json!({"damaged": 0, "qualityControl": 0, "safetyStock": 0}),
    );
    level
}

/// The stock of `variant` (its JSON) at `location`: its level there, 0 without one.
pub fn level_in(variant: &Value, location: &str) -> i64 {
    let levels = variant["levels"]
        .as_array()
        .unwrap_or_else(|| panic!("a variant lists its levels: {variant}"));
    levels
        .iter()
        .find(|l| l["locationId"] == location)
        .map_or(0, |l| l["stock"].as_i64().unwrap())
}

/// One request to send, possibly with an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    pub idempotency_key: Option<String>,
}

impl Call {
    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            body: Some(body),
            idempotency_key: None,
        }
    }

    pub fn with_key(mut self, key: &str) -> Self {
        self.idempotency_key = Some(key.to_owned());
        self
    }
}

/// What the app answered to a [`Call`].
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    /// The body parsed as JSON (a JSON string of the text when it is not JSON; Null when empty).
    pub body: Value,
    /// The body exactly as sent, to compare a replay byte for byte.
    pub raw: String,
    /// The `idempotent-replayed: true` header was present.
    pub replayed: bool,
}

impl Answer {
    /// The problem `type` of an error answer, if any.
    pub fn problem_type(&self) -> Option<&str> {
        self.body["type"].as_str()
    }
}

/// One short line per answer (status, problem type, replay), for assertion messages.
pub fn summary(answers: &[Answer]) -> Vec<String> {
    answers
        .iter()
        .map(|a| {
            let mut line = a.status.as_u16().to_string();
            if let Some(t) = a.problem_type() {
                line.push_str(&format!(" {t}"));
            }
            if a.replayed {
                line.push_str(" replayed");
            }
            line
        })
        .collect()
}

async fn send_call(
    client: &reqwest::Client,
    address: &str,
    recorder: &Recorder,
    token: &str,
    call: &Call,
) -> Answer {
    let mut req = client
        .request(call.method.clone(), format!("{address}{}", call.path))
        .bearer_auth(token);
    if let Some(key) = &call.idempotency_key {
        req = req.header("idempotency-key", key);
    }
    if let Some(body) = &call.body {
        req = req.json(body);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let replayed = match res.headers().get("idempotent-replayed") {
        None => false,
        Some(v) => {
            assert_eq!(v, "true", "idempotent-replayed is only ever `true`");
            true
        }
    };
    let raw = res.text().await.expect("body read");
    let body = if raw.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&raw).unwrap_or(Value::String(raw.clone()))
    };
    recorder.assert_conforming();
    Answer {
        status,
        body,
        raw,
        replayed,
    }
}

impl TestApp {
    /// Sends one call and returns the full answer, headers included.
    pub async fn send(&self, token: &str, call: &Call) -> Answer {
        send_call(
            &self.client,
            &self.address,
            &self.conformance.recorder,
            token,
            call,
        )
        .await
    }

    /// Sends `call` from a task of its own; the handle yields the answer.
    pub fn spawn_send(&self, token: &str, call: Call) -> tokio::task::JoinHandle<Answer> {
        let (app, token) = (self.handle(), token.to_owned());
        tokio::spawn(async move { app.send(&token, &call).await })
    }

    /// Sends every call at the same moment: each runs on its own task, and all of them wait at a
    /// barrier before sending, so they really overlap in the server rather than queueing behind
    /// one another in a single task. Answers come back in the order of `calls`.
    pub async fn race(&self, token: &str, calls: Vec<Call>) -> Vec<Answer> {
        let barrier = Arc::new(Barrier::new(calls.len()));
        let tasks: Vec<_> = calls
            .into_iter()
            .map(|call| {
                let (app, token) = (self.handle(), token.to_owned());
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    app.send(&token, &call).await
                })
            })
            .collect();
        let mut answers = Vec::with_capacity(tasks.len());
        for task in tasks {
            answers.push(task.await.expect("the racing task ran to completion"));
        }
        answers
    }

    /// The movements of `variant` that belong to `order`, newest first.
    pub async fn movements_of_order(&self, token: &str, variant: &str, order: &str) -> Vec<Value> {
        self.movements_of(token, variant)
            .await
            .into_iter()
            .filter(|m| m["orderId"] == order)
            .collect()
    }
}

/// The app's own in-process lock with a gate in front of one lock key: while the gate is shut,
/// every acquisition that includes that key waits at the gate before it even asks the real
/// lock. A test uses it to hold a write in flight at a known point (after the use case took
/// its `Idempotency-Key`, before it writes) for as long as it likes.
pub struct GatedLock {
    inner: infra_local::InProcessLock,
    gated: Mutex<Option<LockKey>>,
    open: watch::Sender<bool>,
    waiting: watch::Sender<usize>,
}

impl GatedLock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: infra_local::InProcessLock::new(),
            gated: Mutex::new(None),
            open: watch::channel(true).0,
            waiting: watch::channel(0).0,
        })
    }

    /// Shuts the gate in front of `key`.
    pub fn shut(&self, key: LockKey) {
        *self.gated.lock().unwrap() = Some(key);
        self.open.send_replace(false);
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Waits (at most 30 s) until `n` acquisitions are held at the gate.
    pub async fn until_waiting(&self, n: usize) {
        let mut waiting = self.waiting.subscribe();
        tokio::time::timeout(Duration::from_secs(30), waiting.wait_for(|w| *w >= n))
            .await
            .expect("the request reached the gate in time")
            .expect("the gate is alive");
    }
}

#[async_trait::async_trait]
impl LockManager for GatedLock {
    async fn acquire(&self, keys: &[LockKey], wait: Duration) -> Result<LockGuard, LockError> {
        let gated = self.gated.lock().unwrap().clone();
        if gated.is_some_and(|g| keys.contains(&g)) {
            let mut open = self.open.subscribe();
            self.waiting.send_modify(|w| *w += 1);
            let _ = open.wait_for(|o| *o).await;
            self.waiting.send_modify(|w| *w -= 1);
        }
        self.inner.acquire(keys, wait).await
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
