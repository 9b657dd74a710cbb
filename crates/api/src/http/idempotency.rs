//! The `Idempotency-Key` header, the request fingerprint, and replayable responses.
//!
//! A handler describes how it renders its result once ([`Render`]); the same function renders
//! the fresh response and the bytes stored with the key, so a replay is byte-identical.

use std::sync::Arc;

use actix_web::http::header::{HeaderName, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use domain::idempotency::{Idempotency, IdempotencyKey, Outcome, StoredResponse};

use super::error::ApiError;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Renders a use case's result as the response body and status.
pub type Render<T> = Arc<dyn Fn(&T) -> StoredResponse + Send + Sync>;

/// A renderer that serializes `to_dto(value)` as JSON with `status`.
pub fn render<T, D, F>(status: StatusCode, to_dto: F) -> Render<T>
where
    D: Serialize,
    F: Fn(&T) -> D + Send + Sync + 'static,
{
    Arc::new(move |value| StoredResponse {
        status: status.as_u16(),
        body: serde_json::to_vec(&to_dto(value)).expect("response DTOs always serialize"),
    })
}

/// The request's idempotency key, if it sent one, bound to its fingerprint and renderer.
pub fn from_request<T>(
    req: &HttpRequest,
    body: &[u8],
    render: &Render<T>,
) -> Result<Option<Idempotency<T>>, ApiError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    // A header that is not even text is refused like any other key that is not visible ASCII.
    let key = IdempotencyKey::new(value.to_str().unwrap_or_default())
        .map_err(|e| ApiError::field("Idempotency-Key", e.0))?;
    let mut digest = Sha256::new();
    digest.update(req.method().as_str().as_bytes());
    digest.update(b" ");
    digest.update(req.path().as_bytes());
    digest.update(b"\n");
    digest.update(body);
    Ok(Some(Idempotency {
        key,
        fingerprint: hex::encode(digest.finalize()),
        render: render.clone(),
    }))
}

/// The response for an outcome: freshly rendered, or the stored bytes of a replay.
pub fn respond<T>(outcome: Outcome<T>, render: &Render<T>) -> HttpResponse {
    let (stored, replayed) = match outcome {
        Outcome::Fresh(value) => (render(&value), false),
        Outcome::Replayed(stored) => (stored, true),
    };
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    response.insert_header((CONTENT_TYPE, "application/json"));
    if replayed {
        response.insert_header((REPLAYED, "true"));
    }
    response.body(stored.body)
}
