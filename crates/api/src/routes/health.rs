//! Liveness and readiness probes.

use actix_web::{get, web, HttpResponse};
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
    if let Some(redis) = &state.redis {
        redis
            .ping()
            .await
            .map_err(|e| ApiError::new(ErrorCode::Unavailable, format!("redis: {e:#}")))?;
    }
    Ok(HttpResponse::Ok().json(HealthStatus { status: "ok" }))
}
