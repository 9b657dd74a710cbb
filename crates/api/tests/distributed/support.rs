//! Starting the api (in process or as the real binary), a Socket.IO client, and Redis plumbing.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::FutureExt;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::conformance::Conformance;
pub use crate::http_client::http_client;

pub const SECRET: &str = "distributed-secret-distributed-secret!";

/// The Redis URL for tests, or `None` (after a loud line) when tests should skip.
pub fn redis_url() -> Option<String> {
    match std::env::var("STOCKROOM_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok() => {
            panic!("STOCKROOM_TEST_REDIS_URL is not set; run the tests through ./scripts/test.sh")
        }
        _ => {
            loud("!!!!! SKIPPED: STOCKROOM_TEST_REDIS_URL is not set, so this test did not run (run ./scripts/test.sh) !!!!!");
            None
        }
    }
}

/// A URL for a fresh, empty database on the test MongoDB server, or `None` (after a loud line)
/// when tests should skip; under `CI` a missing server fails the test.
pub fn mongo_url() -> Option<String> {
    match std::env::var("STOCKROOM_TEST_MONGO_URL") {
        Ok(url) if !url.is_empty() => {
            let name = format!("stockroom_distributed_{}", uuid::Uuid::now_v7().simple());
            Some(with_database(&url, &name))
        }
        _ if std::env::var("CI").is_ok() => {
            panic!("STOCKROOM_TEST_MONGO_URL is not set; run the tests through ./scripts/test.sh")
        }
        _ => {
            loud("!!!!! SKIPPED: STOCKROOM_TEST_MONGO_URL is not set, so this test did not run (run ./scripts/test.sh) !!!!!");
            None
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

/// Writes `line` to stderr past the test harness's output capture, so a skip is always seen.
pub fn loud(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A `stockroom` process.
pub struct Instance {
    pub child: Child,
    /// Where requests go: a recording proxy in front of the process that checks every answer
    /// against the OpenAPI document (see `recording_proxy`).
    pub http: String,
    pub socket_port: u16,
    /// Fails the test when the instance is dropped and an answer broke the document.
    pub _conformance: Conformance,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the real binary on free ports with `env`, reading its ports from the start-up line.
pub fn start_binary(env: &[(&str, &str)]) -> Instance {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockroom"));
    cmd.env("STOCKROOM_HTTP_ADDR", "127.0.0.1:0")
        .env("STOCKROOM_SOCKET_ADDR", "127.0.0.1:0")
        .env("STOCKROOM_JWT_SECRET", SECRET)
        // Every test logs in from 127.0.0.1, counted in the one shared Redis.
        .env("STOCKROOM_AUTH_ADDRESS_LIMIT", "1000000")
        .env("STOCKROOM_LOG", "info")
        .env("STOCKROOM_LOG_FORMAT", "pretty")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = loop {
        let line = lines.next().expect("a start-up line").unwrap();
        if line.contains("listening on http://") {
            break line;
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let http = line[line.find("http://").unwrap()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let socket_port = line[line.find("Socket.IO on port ").unwrap() + "Socket.IO on port ".len()..]
        .trim()
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap();
    let proxied = crate::recording_proxy::start(&http);
    Instance {
        child,
        http: proxied.address,
        socket_port,
        _conformance: proxied.conformance,
    }
}

/// Registers a tenant on `http`; returns (token, tenant id).
pub async fn register(client: &reqwest::Client, http: &str, slug: &str) -> (String, String) {
    let body: Value = client
        .post(format!("{http}/v1/auth/register"))
        .json(
            &json!({"tenantName": slug, "tenantSlug": slug, "email": format!("o@{slug}.example"),
                      "password": "long enough password", "name": "Owner"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        body["token"].as_str().unwrap().to_owned(),
        body["tenant"]["id"].as_str().unwrap().to_owned(),
    )
}

/// Creates a variant with `stock` units and `reorder_level`; returns its id.
pub async fn variant(
    client: &reqwest::Client,
    http: &str,
    token: &str,
    sku: &str,
    stock: i64,
    reorder_level: i64,
) -> String {
    let product: Value = client
        .post(format!("{http}/v1/products"))
        .bearer_auth(token)
        .json(&json!({"name": sku}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let variant: Value = client.post(format!("{http}/v1/variants")).bearer_auth(token)
        .json(&json!({"productId": product["id"], "sku": sku, "price": 500, "reorderLevel": reorder_level}))
        .send().await.unwrap().json().await.unwrap();
    let id = variant["id"].as_str().unwrap().to_owned();
    let res = client
        .post(format!("{http}/v1/variants/{id}/adjustments"))
        .bearer_auth(token)
        .json(&json!({"quantity": stock, "reason": "count"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    id
}

/// Sends `body` (a GET when `None`, else a POST) to `url`; returns the status and parsed body.
pub async fn call(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (reqwest::StatusCode, Value) {
    let req = match body {
        None => client.get(url),
        Some(body) => client.post(url).json(&body),
    };
    let res = req.bearer_auth(token).send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// The id of the tenant's default location.
pub async fn default_location(client: &reqwest::Client, http: &str, token: &str) -> String {
    let (status, body) = call(client, format!("{http}/v1/locations"), token, None).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let defaults: Vec<&Value> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["isDefault"] == true)
        .collect();
    assert_eq!(defaults.len(), 1, "{body}");
    defaults[0]["id"].as_str().unwrap().to_owned()
}

pub async fn order(
    client: &reqwest::Client,
    http: &str,
    token: &str,
    variant: &str,
) -> reqwest::Response {
    client
        .post(format!("{http}/v1/orders"))
        .bearer_auth(token)
        .json(&json!({"lines": [{"variantId": variant, "quantity": 1}]}))
        .send()
        .await
        .unwrap()
}

pub struct Listener {
    pub client: Client,
    events: mpsc::UnboundedReceiver<(String, Value)>,
}

impl Listener {
    /// Events heard within `within`.
    pub async fn drain(&mut self, within: Duration) -> Vec<(String, Value)> {
        let deadline = tokio::time::Instant::now() + within;
        let mut heard = Vec::new();
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            heard.push(e);
        }
        heard
    }
}

/// Connects a Socket.IO client with `token`; `Err` carries the refusal the client saw.
pub async fn listen(port: u16, token: &str) -> Result<Listener, String> {
    let (tx, events) = mpsc::unbounded_channel();
    let (status_tx, mut status) = mpsc::unbounded_channel::<Result<(), String>>();
    let (on_connect, on_error) = (status_tx.clone(), status_tx);
    let client = ClientBuilder::new(format!("http://127.0.0.1:{port}/"))
        .reconnect(false)
        .auth(json!({ "token": token }))
        .on_any(move |event, payload, _| {
            let tx = tx.clone();
            async move {
                if let Payload::Text(values) = payload {
                    let _ = tx.send((
                        event.as_str().to_owned(),
                        values.into_iter().next().unwrap_or(Value::Null),
                    ));
                }
            }
            .boxed()
        })
        .on(Event::Connect, move |_, _| {
            let tx = on_connect.clone();
            async move {
                let _ = tx.send(Ok(()));
            }
            .boxed()
        })
        .on(Event::Error, move |payload, _| {
            let tx = on_error.clone();
            async move {
                let text = match payload {
                    Payload::Text(values) => Value::Array(values).to_string(),
                    _ => "error".to_owned(),
                };
                let _ = tx.send(Err(text));
            }
            .boxed()
        })
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(Duration::from_secs(5), status.recv()).await {
        Ok(Some(Ok(()))) => Ok(Listener { client, events }),
        Ok(Some(Err(e))) => Err(e),
        _ => Err("no answer to the connection".into()),
    }
}
