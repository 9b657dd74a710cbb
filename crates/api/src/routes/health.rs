//! Liveness and readiness probes.
//!
//! Readiness asks the ports, never an adapter: the store's ledger, the lock and (when configured)
//! the cross-instance fan-out each answer `ping`, and a port whose server does not answer names
//! that server in its error (the in-process lock has none and always answers).

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

/// The store (and Redis, when configured) answer; 503 problem+json naming what does not.
#[utoipa::path(tag = "health", responses(
    (status = 200, body = HealthStatus),
    (status = 503, body = crate::http::error::Problem, content_type = "application/problem+json"),
))]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .services
        .stock
        .ready()
        .await
        .map_err(|e| ApiError::new(ErrorCode::Unavailable, format!("store: {e}")))?;
    state.lock.ping().await.map_err(unreachable)?;
    if let Some(fanout) = &state.fanout {
        fanout.ping().await.map_err(unreachable)?;
    }
    Ok(HttpResponse::Ok().json(HealthStatus { status: "ok" }))
}

/// A port's server did not answer: 503 naming it (`redis: …`).
fn unreachable(error: Unreachable) -> ApiError {
    ApiError::new(ErrorCode::Unavailable, error.to_string())
}
