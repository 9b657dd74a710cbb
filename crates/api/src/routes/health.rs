//! Liveness and readiness probes.
//!
//! Readiness asks the ports, never an adapter: the store's ledger, the lock and (when configured)
//! the cross-instance fan-out each answer `ping`. The probe is public (load balancers call it
//! unauthenticated), so what does not answer is named in fixed words only — `store unreachable`,
//! `redis unreachable` — and the cause (hosts, ports, replica-set topology, driver messages) goes
//! to the log, where the operator looks, never to the caller.

use actix_web::{get, web, HttpResponse};
use domain::lock::Unreachable;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::http::error::{ApiError, ErrorCode};

#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = HealthStatus)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// The store (and Redis, when configured) answer; 503 problem+json naming, in fixed words, what
/// does not (`store unreachable`, `redis unreachable`).
#[utoipa::path(tag = "health", responses(
    (status = 200, body = HealthStatus),
    (status = 503, body = crate::http::error::Problem, content_type = "application/problem+json"),
))]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Err(error) = state.services.stock.ready().await {
        tracing::warn!(%error, "not ready: the store does not answer");
        return Err(not_ready("store"));
    }
    state.lock.ping().await.map_err(unreachable)?;
    if let Some(fanout) = &state.fanout {
        fanout.ping().await.map_err(unreachable)?;
    }
    Ok(HttpResponse::Ok().json(HealthStatus { status: "ok" }))
}

/// A port's server did not answer: logged in full, answered by its service's name alone.
fn unreachable(error: Unreachable) -> ApiError {
    tracing::warn!(service = error.service, reason = %error.reason, "not ready");
    not_ready(error.service)
}

fn not_ready(service: &'static str) -> ApiError {
    ApiError::new(ErrorCode::Unavailable, format!("{service} unreachable"))
}
