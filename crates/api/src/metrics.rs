//! Prometheus metrics, served on a listener of their own (`STOCKROOM_METRICS_ADDR`, off by
//! default) so a scrape never competes with, or is exposed beside, the public API.
//!
//! The domain knows nothing of metrics. Everything is recorded in this crate, at the edges the
//! use cases already pass through:
//! - every HTTP request, by the route's *pattern* (`/v1/orders/:id`, never the raw path, which
//!   would make one series per id) and status: [`middleware`]; a path no route matches is
//!   `unmatched`;
//! - orders placed and refused, read off the answers of the routes that place orders;
//! - the lock's wait and the ledger's batch sizes and store errors, by decorating the ports the
//!   use cases are handed ([`TimedLock`], [`MeasuredLedger`]);
//! - rate-limit refusals and dependency failures, where `http::error` maps a `DomainError`;
//! - open sockets and running password hashes, read at scrape time.
//!
//! The recorder is global to the process (the `metrics` facade has one), installed once on the
//! first start with metrics on; without it every record is a no-op.

use std::net::TcpListener;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, App, HttpResponse, HttpServer};
use async_trait::async_trait;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use domain::ids::TenantId;
use domain::lock::{LockError, LockGuard, LockKey, LockManager, Unreachable};
use domain::pagination::{Page, PageRequest};
use domain::stock::models::{
    AuditReport, Committed, LedgerError, LedgerWrite, MovementFilter, StockMovement,
};
use domain::stock::ports::LedgerRepository;
use domain::StoreError;

pub const HTTP_REQUESTS: &str = "stockroom_http_requests_total";
pub const HTTP_DURATION: &str = "stockroom_http_request_duration_seconds";
pub const ORDERS_PLACED: &str = "stockroom_orders_placed_total";
pub const ORDERS_REFUSED: &str = "stockroom_orders_refused_total";
pub const LOCK_WAIT: &str = "stockroom_lock_wait_seconds";
pub const BATCH_SIZE: &str = "stockroom_ledger_batch_size";
pub const STORE_ERRORS: &str = "stockroom_store_errors_total";
pub const DEPENDENCY_FAILURES: &str = "stockroom_dependency_failures_total";
pub const RATE_LIMITED: &str = "stockroom_rate_limited_total";
pub const SOCKETS_OPEN: &str = "stockroom_sockets_open";
pub const HASHES_RUNNING: &str = "stockroom_password_hashes_running";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use.
pub fn handle() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let seconds = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
    let sizes = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &seconds)?
        .set_buckets_for_metric(Matcher::Full(BATCH_SIZE.into()), &sizes)?;
    let handle = match builder.install_recorder() {
        Ok(handle) => handle,
        // Another start in this process won the race to install: use its recorder.
        Err(_) if HANDLE.get().is_some() => return Ok(HANDLE.get().unwrap().clone()),
        Err(e) => return Err(anyhow::anyhow!("cannot install the metrics recorder: {e}")),
    };
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// Gauges read when scraped.
pub type Gauges = Arc<dyn Fn() + Send + Sync>;

/// The metrics listener: `GET /metrics` in the Prometheus text format, nothing else.
pub fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    gauges: Gauges,
) -> std::io::Result<Server> {
    let state = web::Data::new((handle, gauges));
    Ok(HttpServer::new(move || {
        App::new().app_data(state.clone()).route(
            "/metrics",
            web::get().to(|state: web::Data<(PrometheusHandle, Gauges)>| async move {
                let (handle, gauges) = state.get_ref();
                gauges();
                handle.run_upkeep();
                HttpResponse::Ok()
                    .content_type("text/plain; version=0.0.4")
                    .body(handle.render())
            }),
        )
    })
    .workers(1)
    .listen(listener)?
    .shutdown_timeout(1)
    .run())
}

/// Counts and times every request by method, route pattern and status; counts the orders that
/// the order-placing routes placed or refused.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .match_pattern()
        .map_or_else(|| "unmatched".to_owned(), |p| label_pattern(&p));
    let response = next.call(req).await?;
    let status = response.status().as_u16();
    let labels = [
        ("method", method.clone()),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    if method == "POST" && places_orders(&route) {
        match status {
            200..=299 => metrics::counter!(ORDERS_PLACED).increment(1),
            409 => metrics::counter!(ORDERS_REFUSED, "reason" => "conflict").increment(1),
            422 => metrics::counter!(ORDERS_REFUSED, "reason" => "invalid").increment(1),
            503 => metrics::counter!(ORDERS_REFUSED, "reason" => "busy").increment(1),
            _ => {}
        }
    }
    Ok(response)
}

/// A route pattern as a label: `/v1/orders/{id}` becomes `/v1/orders/:id`, the same series
/// for every id, and no braces inside a label value (some Prometheus text parsers trip on them).
fn label_pattern(pattern: &str) -> String {
    pattern.replace('{', ":").replace('}', "")
}

/// The routes whose success is a placed order.
fn places_orders(route: &str) -> bool {
    route == "/v1/orders" || route == "/v1/reservations/:id/confirm"
}

/// Called by `http::error` for each refusal it maps.
pub fn rate_limited(budget: domain::rate_limit::Budget) {
    let budget = match budget {
        domain::rate_limit::Budget::Account => "account",
        domain::rate_limit::Budget::Address => "address",
    };
    metrics::counter!(RATE_LIMITED, "budget" => budget).increment(1);
}

/// Called by `http::error` when a dependency is unavailable or an internal error occurs.
pub fn dependency_failed(kind: &'static str) {
    metrics::counter!(DEPENDENCY_FAILURES, "kind" => kind).increment(1);
}

/// The lock the use cases take, timing each acquisition by its outcome.
pub struct TimedLock(pub Arc<dyn LockManager>);

#[async_trait]
impl LockManager for TimedLock {
    async fn acquire(&self, keys: &[LockKey], wait: Duration) -> Result<LockGuard, LockError> {
        let started = Instant::now();
        let result = self.0.acquire(keys, wait).await;
        let outcome = match &result {
            Ok(_) => "acquired",
            Err(LockError::Timeout) => "timeout",
            Err(LockError::Unavailable(_)) => "unavailable",
        };
        metrics::histogram!(LOCK_WAIT, "outcome" => outcome)
            .record(started.elapsed().as_secs_f64());
        result
    }

    async fn ping(&self) -> Result<(), Unreachable> {
        self.0.ping().await
    }
}

/// The ledger the use cases write through, recording each batch's size and every store error.
pub struct MeasuredLedger(pub Arc<dyn LedgerRepository>);

fn store_error(operation: &'static str, error: &StoreError) {
    let kind = match error {
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Other(_) => "other",
        // The rest are answers (a conflict, a duplicate), not failures of the store.
        _ => return,
    };
    metrics::counter!(STORE_ERRORS, "operation" => operation, "kind" => kind).increment(1);
}

fn ledger_result<T>(operation: &'static str, result: &Result<T, LedgerError>) {
    if let Err(LedgerError::Store(e)) = result {
        store_error(operation, e);
    }
}

#[async_trait]
impl LedgerRepository for MeasuredLedger {
    async fn commit(
        &self,
        tenant: &TenantId,
        write: LedgerWrite,
    ) -> Result<Committed, LedgerError> {
        metrics::histogram!(BATCH_SIZE).record(1.0);
        let result = self.0.commit(tenant, write).await;
        ledger_result("commit", &result);
        result
    }

    async fn commit_batch(
        &self,
        tenant: &TenantId,
        writes: Vec<LedgerWrite>,
    ) -> Result<Vec<Result<Committed, LedgerError>>, StoreError> {
        metrics::histogram!(BATCH_SIZE).record(writes.len() as f64);
        let result = self.0.commit_batch(tenant, writes).await;
        match &result {
            Ok(each) => each.iter().for_each(|r| ledger_result("commit", r)),
            Err(e) => store_error("commit", e),
        }
        result
    }

    async fn list_movements(
        &self,
        tenant: &TenantId,
        filter: &MovementFilter,
        page: &PageRequest,
    ) -> Result<Page<StockMovement>, StoreError> {
        let result = self.0.list_movements(tenant, filter, page).await;
        if let Err(e) = &result {
            store_error("list_movements", e);
        }
        result
    }

    async fn audit(&self, tenant: &TenantId) -> Result<AuditReport, StoreError> {
        let result = self.0.audit(tenant).await;
        if let Err(e) = &result {
            store_error("audit", e);
        }
        result
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let result = self.0.ping().await;
        if let Err(e) = &result {
            store_error("ping", e);
        }
        result
    }
}
