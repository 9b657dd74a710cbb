//! The domain's error vocabulary.
//!
//! [`StoreError`] is the contract every repository adapter speaks: drivers' errors are translated
//! into it at the adapter boundary (a unique-index violation becomes `Duplicate`, a lost connection
//! `Unavailable`). [`DomainError`] is what use cases return; the HTTP layer maps it to a status once.

use crate::ids::{LocationId, VariantId};
use crate::values::ValueError;

/// One invalid input field, named as the client spelled it (e.g. `lines[2].quantity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Collects field errors while converting a request, so a client learns every bad field at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the error of `result` under `field`, returning the value when valid.
    pub fn check<T>(
        &mut self,
        field: impl Into<String>,
        result: Result<T, ValueError>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.0);
                None
            }
        }
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded, else the validation error listing every field.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self.0))
        }
    }
}

/// Errors a repository adapter may return. Each port method documents which variants it uses.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist for this tenant.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated (slug, email, SKU — the method documents which).
    #[error("duplicate")]
    Duplicate,
    /// An `Idempotency-Key` already has a stored response for this tenant.
    #[error("idempotency key already used")]
    IdempotencyKeyTaken,
    /// An optimistic version check failed: someone else changed the record first.
    #[error("version conflict")]
    VersionConflict,
    /// The record is still referenced or holds stock (the method documents which).
    #[error("in use")]
    InUse,
    /// The store cannot be reached or timed out; retrying later may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl StoreError {
    /// The same failure again, for each of several writes it concerns (`StoreError` is not
    /// `Clone`: `Other` carries an `anyhow::Error`, which is kept as its full message).
    pub fn replicate(&self) -> StoreError {
        match self {
            StoreError::NotFound => StoreError::NotFound,
            StoreError::Duplicate => StoreError::Duplicate,
            StoreError::IdempotencyKeyTaken => StoreError::IdempotencyKeyTaken,
            StoreError::VersionConflict => StoreError::VersionConflict,
            StoreError::InUse => StoreError::InUse,
            StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
            StoreError::Other(e) => StoreError::Other(anyhow::anyhow!("{e:#}")),
        }
    }
}

/// One order line that cannot be served: what was asked and what there is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shortage {
    pub variant_id: VariantId,
    /// The location the units were asked of; absent when the line could be served from any
    /// active location and `available` is their sum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<LocationId>,
    pub requested: i64,
    pub available: i64,
}

/// Everything a use case can refuse with.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("your role does not allow this action")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("not enough stock")]
    InsufficientStock(Vec<Shortage>),
    #[error("stock would go below zero: current stock {current}, change {delta}")]
    NegativeStock { current: i64, delta: i64 },
    #[error("expected stock {expected} but current stock is {actual}")]
    StockMismatch { expected: i64, actual: i64 },
    #[error("cannot change status from {from} to {to}")]
    InvalidTransition {
        from: &'static str,
        to: &'static str,
    },
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyInProgress,
    #[error("stock is busy; retry shortly")]
    LockTimeout,
    #[error("a dependency is unavailable: {0}")]
    Unavailable(String),
    /// An aggregate (order, purchase order) changed between reading and writing it: its
    /// optimistic version no longer matched. Retrying reads the new state.
    #[error("{entity} {id} changed concurrently; retry")]
    VersionConflict { entity: &'static str, id: String },
    /// A conditional write (`If-Match`) named a version that is not the record's current one;
    /// nothing was written. See [`crate::precondition`].
    #[error("the {entity} has changed since the version named in If-Match; read it again")]
    PreconditionFailed { entity: &'static str },
    /// A budget of [`crate::rate_limit`] is spent: retry after `retry_after`.
    #[error("too many attempts; retry in {} s", retry_after.as_secs())]
    RateLimited {
        budget: crate::rate_limit::Budget,
        retry_after: std::time::Duration,
    },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

impl DomainError {
    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }
}

impl From<StoreError> for DomainError {
    /// The default translation; use cases translate the variants they expect first.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => DomainError::NotFound("record"),
            StoreError::Duplicate => DomainError::Conflict("already exists".into()),
            StoreError::IdempotencyKeyTaken => DomainError::IdempotencyInProgress,
            StoreError::VersionConflict => {
                DomainError::Conflict("the record changed concurrently; retry".into())
            }
            StoreError::InUse => DomainError::Conflict("the record is in use".into()),
            StoreError::Unavailable(m) => DomainError::Unavailable(m),
            StoreError::Other(e) => DomainError::Unknown(e),
        }
    }
}
