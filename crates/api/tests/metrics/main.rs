//! `/metrics` on its own listener, scraped over HTTP after real traffic and read with a
//! Prometheus text parser. A binary of its own: the metrics recorder is global to the process,
//! so no other test's requests may be counted here.

use std::time::Duration;

use api::config::{Config, DatabaseUrl};
use api::startup::{Application, Overrides};
use domain::rate_limit::{AuthLimits, Window};
use prometheus_parse::{Scrape, Value};
use reqwest::StatusCode;
use serde_json::{json, Value as Json};

#[path = "../common/conformance.rs"]
mod conformance;
#[path = "../common/recording_proxy.rs"]
mod recording_proxy;

/// The app's API, reached through a recording proxy that checks every answer against the
/// OpenAPI document; `/metrics` is scraped on its own listener, outside the document.
struct App {
    base: String,
    client: reqwest::Client,
    conformance: conformance::Conformance,
}

impl App {
    async fn send(
        &self,
        path: &str,
        token: Option<&str>,
        body: Option<Json>,
    ) -> (StatusCode, Json) {
        let mut req = match &body {
            Some(body) => self.client.post(format!("{}{path}", self.base)).json(body),
            None => self.client.get(format!("{}{path}", self.base)),
        };
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let body = res.json().await.unwrap_or(Json::Null);
        self.conformance.recorder.assert_conforming();
        (status, body)
    }
}

/// The value of the one sample of `name` whose labels include all of `labels`: a counter's or
/// gauge's value, a histogram's count (its `+Inf` bucket).
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<f64> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets
                .iter()
                .find(|b| b.less_than.is_infinite())
                .map_or(0.0, |b| b.count),
            Value::Summary(_) => f64::NAN,
        })
        .collect();
    assert!(
        found.len() <= 1,
        "{name}{labels:?} matches {} samples",
        found.len()
    );
    found.first().copied()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_counts_requests_by_route_orders_locks_batches_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("stockroom.db").display());
    let mut config = Config::for_tests(DatabaseUrl::Sqlite(url));
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    config.auth_limits = AuthLimits {
        per_account: Window {
            limit: 1,
            period: Duration::from_secs(900),
        },
        ..config.auth_limits
    };
    let app = Application::build_with(config, Overrides::default())
        .await
        .unwrap();
    let metrics_port = app.metrics_port().expect("metrics are on");
    let base = format!("http://127.0.0.1:{}", app.http_port());
    tokio::spawn(app.run_until_stopped());
    let proxied = recording_proxy::start(&base);
    let app = App {
        base: proxied.address,
        client: reqwest::Client::new(),
        conformance: proxied.conformance,
    };

    let (status, registered) = app
        .send(
            "/v1/auth/register",
            None,
            Some(
                json!({"tenantName": "Acme", "tenantSlug": "acme", "email": "o@acme.example",
                        "password": "correct horse battery", "name": "O"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let token = registered["token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());
    let (_, product) = app
        .send("/v1/products", t, Some(json!({"name": "Shirt"})))
        .await;
    let (status, variant) = app
        .send(
            "/v1/variants",
            t,
            Some(json!({"productId": product["id"], "sku": "S-1", "attributes": {}, "price": 100})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{variant}");
    let id = variant["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .send(
            &format!("/v1/variants/{id}/adjustments"),
            t,
            Some(json!({"quantity": 1, "reason": "count"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let order = json!({"lines": [{"variantId": id, "quantity": 1}]});
    assert_eq!(
        app.send("/v1/orders", t, Some(order.clone())).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        app.send("/v1/orders", t, Some(order)).await.0,
        StatusCode::CONFLICT
    );
    for _ in 0..2 {
        assert_eq!(
            app.send(&format!("/v1/variants/{id}"), t, None).await.0,
            StatusCode::OK
        );
    }
    let wrong =
        json!({"tenant": "acme", "email": "o@acme.example", "password": "not the password"});
    assert_eq!(
        app.send("/v1/auth/login", None, Some(wrong.clone()))
            .await
            .0,
        401
    );
    assert_eq!(app.send("/v1/auth/login", None, Some(wrong)).await.0, 429);

    let text = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let requests = "stockroom_http_requests_total";
    let post = |route, status| [("method", "POST"), ("route", route), ("status", status)];
    assert_eq!(
        value(&scrape, requests, &post("/v1/orders", "201")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&scrape, requests, &post("/v1/orders", "409")),
        Some(1.0)
    );
    assert_eq!(
        value(&scrape, requests, &post("/v1/auth/login", "429")),
        Some(1.0)
    );
    // The route is the pattern: one series for every variant id.
    let read = [
        ("method", "GET"),
        ("route", "/v1/variants/:id"),
        ("status", "200"),
    ];
    assert_eq!(value(&scrape, requests, &read), Some(2.0));
    assert!(
        !text.contains(&id),
        "a raw path leaked into a label: {text}"
    );
    assert_eq!(
        value(
            &scrape,
            "stockroom_http_request_duration_seconds",
            &post("/v1/orders", "201")
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&scrape, "stockroom_orders_placed_total", &[]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &scrape,
            "stockroom_orders_refused_total",
            &[("reason", "conflict")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &scrape,
            "stockroom_rate_limited_total",
            &[("budget", "account")]
        ),
        Some(1.0)
    );
    // The adjustment and the placed order each took the lock (the refused one may too).
    let locks = value(
        &scrape,
        "stockroom_lock_wait_seconds",
        &[("outcome", "acquired")],
    )
    .unwrap();
    assert!(locks >= 2.0, "{locks}");
    let batches = value(&scrape, "stockroom_ledger_batch_size", &[]).unwrap();
    assert!(batches >= 2.0, "{batches}");
    assert_eq!(value(&scrape, "stockroom_sockets_open", &[]), Some(0.0));
    assert_eq!(
        value(&scrape, "stockroom_password_hashes_running", &[]),
        Some(0.0)
    );
}
