//! The one HTTP error type, rendered as RFC 9457 `application/problem+json`.
//!
//! Every domain error maps to a row of [`ErrorCode`] — a stable slug, a status and a title — in one
//! place. Internal details (store errors, panics) are logged once with the request id and never
//! sent to the client.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use domain::error::{DomainError, FieldError, Shortage};

pub use super::problem::{
    FieldProblem, InsufficientStockProblem, Problem, ProblemDocument, ShortageProblem,
    StockConflict, ValidationProblem, ValidationRefusal,
};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Stable error codes; the `type` of a problem is `/problems/{slug}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    MalformedJson,
    Validation,
    Unauthenticated,
    InvalidCredentials,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    InsufficientStock,
    NegativeStock,
    StockMismatch,
    InvalidTransition,
    IdempotencyMismatch,
    IdempotencyInProgress,
    PayloadTooLarge,
    UnsupportedMediaType,
    LockTimeout,
    Unavailable,
    TooManyRequests,
    RequestTimeout,
    Internal,
}

impl ErrorCode {
    /// The code table: slug, HTTP status, title.
    pub fn describe(self) -> (&'static str, StatusCode, &'static str) {
        use ErrorCode::*;
        match self {
            MalformedJson => ("malformed-json", StatusCode::BAD_REQUEST, "Malformed JSON"),
            Validation => (
                "validation",
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid input",
            ),
            Unauthenticated => (
                "unauthenticated",
                StatusCode::UNAUTHORIZED,
                "Authentication required",
            ),
            InvalidCredentials => (
                "invalid-credentials",
                StatusCode::UNAUTHORIZED,
                "Invalid credentials",
            ),
            Forbidden => ("forbidden", StatusCode::FORBIDDEN, "Forbidden"),
            NotFound => ("not-found", StatusCode::NOT_FOUND, "Not found"),
            MethodNotAllowed => (
                "method-not-allowed",
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
            ),
            Conflict => ("conflict", StatusCode::CONFLICT, "Conflict"),
            PreconditionFailed => (
                "precondition-failed",
                StatusCode::PRECONDITION_FAILED,
                "Precondition failed",
            ),
            InsufficientStock => (
                "insufficient-stock",
                StatusCode::CONFLICT,
                "Not enough stock",
            ),
            NegativeStock => (
                "negative-stock",
                StatusCode::CONFLICT,
                "Stock would go below zero",
            ),
            StockMismatch => ("stock-mismatch", StatusCode::CONFLICT, "Stock changed"),
            InvalidTransition => (
                "invalid-transition",
                StatusCode::CONFLICT,
                "Status change not allowed",
            ),
            IdempotencyMismatch => (
                "idempotency-key-reused",
                StatusCode::UNPROCESSABLE_ENTITY,
                "Idempotency-Key reused with a different request",
            ),
            IdempotencyInProgress => (
                "idempotency-key-in-progress",
                StatusCode::CONFLICT,
                "A request with this Idempotency-Key is in progress",
            ),
            PayloadTooLarge => (
                "payload-too-large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload too large",
            ),
            UnsupportedMediaType => (
                "unsupported-media-type",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
            ),
            LockTimeout => (
                "lock-timeout",
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy; retry shortly",
            ),
            Unavailable => (
                "unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
            ),
            TooManyRequests => (
                "too-many-requests",
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
            ),
            RequestTimeout => (
                "request-timeout",
                StatusCode::REQUEST_TIMEOUT,
                "Request body too slow",
            ),
            Internal => (
                "internal",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
            ),
        }
    }
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Option<Vec<FieldError>>,
    pub shortages: Option<Vec<Shortage>>,
    pub allow: Option<String>,
    /// Whole seconds for `Retry-After`, when the refusal says how long to wait.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: None,
            shortages: None,
            allow: None,
            retry_after: None,
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            errors: Some(errors),
            ..Self::new(ErrorCode::Validation, detail)
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "a valid bearer token is required (Authorization: Bearer <token>)",
        )
    }

    pub fn problem(&self) -> ProblemDocument {
        let (slug, status, title) = self.code.describe();
        let (kind, title, status, detail) = (
            format!("/problems/{slug}"),
            title.to_owned(),
            status.as_u16(),
            self.detail.clone(),
        );
        if let Some(errors) = &self.errors {
            return ProblemDocument::Validation(ValidationProblem {
                kind,
                title,
                status,
                detail,
                errors: errors
                    .iter()
                    .map(|e| FieldProblem {
                        field: e.field.clone(),
                        message: e.message.clone(),
                    })
                    .collect(),
            });
        }
        if let Some(shortages) = &self.shortages {
            return ProblemDocument::InsufficientStock(InsufficientStockProblem {
                kind,
                title,
                status,
                detail,
                shortages: shortages
                    .iter()
                    .map(|s| ShortageProblem {
                        variant_id: s.variant_id.to_string(),
                        location_id: s.location_id.map(|l| l.to_string()),
                        requested: s.requested,
                        available: s.available,
                    })
                    .collect(),
            });
        }
        ProblemDocument::Plain(Problem {
            kind,
            title,
            status,
            detail,
        })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.describe().0, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.describe().1
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self.code {
            _ if self.retry_after.is_some() => {
                let seconds = self.retry_after.unwrap_or(1).to_string();
                response.insert_header((header::RETRY_AFTER, seconds));
            }
            ErrorCode::LockTimeout | ErrorCode::Unavailable => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            ErrorCode::RequestTimeout => {
                response.insert_header((header::CONNECTION, "close"));
            }
            ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        if let Some(allow) = &self.allow {
            response.insert_header((header::ALLOW, allow.clone()));
        }
        response.json(self.problem())
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        use ErrorCode as C;
        let detail = e.to_string();
        match e {
            DomainError::Validation(errors) => ApiError::validation(errors),
            DomainError::Unauthenticated => ApiError::unauthenticated(),
            DomainError::InvalidCredentials => {
                ApiError::new(C::InvalidCredentials, "tenant, email or password is wrong")
            }
            DomainError::Forbidden => ApiError::new(C::Forbidden, detail),
            DomainError::NotFound(what) => ApiError::not_found(what),
            DomainError::Conflict(_) | DomainError::VersionConflict { .. } => {
                ApiError::new(C::Conflict, detail)
            }
            DomainError::PreconditionFailed { .. } => ApiError::new(C::PreconditionFailed, detail),
            DomainError::InsufficientStock(shortages) => {
                let detail = shortages
                    .iter()
                    .map(|s| {
                        let at = s
                            .location_id
                            .map(|l| format!(" at location {l}"))
                            .unwrap_or_default();
                        format!(
                            "variant {}{at}: requested {}, available {}",
                            s.variant_id, s.requested, s.available
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError {
                    shortages: Some(shortages),
                    ..ApiError::new(C::InsufficientStock, detail)
                }
            }
            DomainError::NegativeStock { .. } => ApiError::new(C::NegativeStock, detail),
            DomainError::StockMismatch { .. } => ApiError::new(C::StockMismatch, detail),
            DomainError::InvalidTransition { .. } => ApiError::new(C::InvalidTransition, detail),
            DomainError::IdempotencyMismatch => ApiError::new(C::IdempotencyMismatch, detail),
            DomainError::IdempotencyInProgress => ApiError::new(C::IdempotencyInProgress, detail),
            DomainError::LockTimeout => ApiError::new(C::LockTimeout, detail),
            DomainError::RateLimited {
                retry_after,
                budget,
            } => {
                crate::metrics::rate_limited(budget);
                let seconds = retry_after.as_secs().max(1);
                ApiError {
                    retry_after: Some(seconds),
                    ..ApiError::new(
                        C::TooManyRequests,
                        format!("too many attempts; retry in {seconds} s"),
                    )
                }
            }
            DomainError::Unavailable(cause) => {
                tracing::warn!(%cause, "dependency unavailable");
                crate::metrics::dependency_failed("unavailable");
                ApiError::new(C::Unavailable, "a dependency is unavailable; retry shortly")
            }
            DomainError::Unknown(cause) => {
                tracing::error!(error = ?cause, "internal error");
                crate::metrics::dependency_failed("internal");
                ApiError::new(
                    C::Internal,
                    "an internal error occurred; it has been logged",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_distinct_slug() {
        use ErrorCode::*;
        let all = [
            MalformedJson,
            Validation,
            Unauthenticated,
            InvalidCredentials,
            Forbidden,
            NotFound,
            MethodNotAllowed,
            Conflict,
            PreconditionFailed,
            InsufficientStock,
            NegativeStock,
            StockMismatch,
            InvalidTransition,
            IdempotencyMismatch,
            IdempotencyInProgress,
            PayloadTooLarge,
            UnsupportedMediaType,
            LockTimeout,
            Unavailable,
            TooManyRequests,
            RequestTimeout,
            Internal,
        ];
        let mut slugs: Vec<_> = all.iter().map(|c| c.describe().0).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), all.len());
    }

    #[test]
    fn a_shortage_names_its_location_only_when_it_has_one() {
        use domain::ids::{LocationId, VariantId};
        let location = LocationId::new();
        let e: ApiError = DomainError::InsufficientStock(vec![
            Shortage {
                variant_id: VariantId::new(),
                location_id: Some(location),
                requested: 3,
                available: 1,
            },
            Shortage {
                variant_id: VariantId::new(),
                location_id: None,
                requested: 2,
                available: 0,
            },
        ])
        .into();
        let body = serde_json::to_value(e.problem()).unwrap();
        assert_eq!(body["status"], 409);
        assert_eq!(body["shortages"][0]["locationId"], location.to_string());
        assert!(body["shortages"][1].get("locationId").is_none(), "{body}");
        assert!(e.detail.contains(&format!("at location {location}")));
    }

    #[test]
    fn internal_details_are_not_sent() {
        let e: ApiError = DomainError::Unknown(anyhow::anyhow!("disk I/O error at page 7")).into();
        assert!(!e.problem().detail().contains("disk"));
        assert_eq!(e.problem().status(), 500);
    }
}
