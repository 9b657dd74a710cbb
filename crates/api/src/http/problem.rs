//! The RFC 9457 problem documents the api answers with, and their schemas in the OpenAPI
//! document.
//!
//! A refusal is one of three shapes, each a schema of its own so a generated client gets the
//! extra members typed: a plain [`Problem`]; a [`ValidationProblem`], whose `errors` name every
//! refused field; an [`InsufficientStockProblem`], whose `shortages` list every line that cannot
//! be served. Where one status can carry two shapes — a 409 of a write that takes stock (a
//! shortage, or a status change not allowed), a 422 of a write that takes an `Idempotency-Key`
//! (a refused field, or the key reused with another request) — the answer documents
//! [`StockConflict`] or [`ValidationRefusal`], each `anyOf` the two.

use serde::Serialize;
use utoipa::openapi::schema::AnyOfBuilder;
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    #[schema(example = "sku")]
    pub field: String,
    #[schema(example = "must be 1 to 64 characters")]
    pub message: String,
}

/// One line that cannot be served (an order's, a hold's, a transfer's, a move's).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShortageProblem {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")]
    pub variant_id: String,
    /// The location the units were asked of; absent when the line could be served from any
    /// active location and `available` is their sum.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10")]
    pub location_id: Option<String>,
    #[schema(example = 3)]
    pub requested: i64,
    #[schema(example = 1)]
    pub available: i64,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "/problems/not-found")]
    pub kind: String,
    #[schema(example = "Not found")]
    pub title: String,
    #[schema(example = 404)]
    pub status: u16,
    #[schema(example = "product not found")]
    pub detail: String,
}

/// A problem document (`/problems/validation`, 422) naming every refused field in `errors`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidationProblem {
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation")]
    pub kind: String,
    #[schema(example = "Invalid input")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    #[schema(example = "sku: must be 1 to 64 characters")]
    pub detail: String,
    pub errors: Vec<FieldProblem>,
}

/// A problem document (`/problems/insufficient-stock`, 409) listing in `shortages` every line
/// that cannot be served; nothing was written.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InsufficientStockProblem {
    #[serde(rename = "type")]
    #[schema(example = "/problems/insufficient-stock")]
    pub kind: String,
    #[schema(example = "Not enough stock")]
    pub title: String,
    #[schema(example = 409)]
    pub status: u16,
    #[schema(example = "variant 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b: requested 3, available 1")]
    pub detail: String,
    pub shortages: Vec<ShortageProblem>,
}

/// What an error renders as: one of the three shapes.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ProblemDocument {
    Plain(Problem),
    Validation(ValidationProblem),
    InsufficientStock(InsufficientStockProblem),
}

impl ProblemDocument {
    pub fn status(&self) -> u16 {
        match self {
            Self::Plain(p) => p.status,
            Self::Validation(p) => p.status,
            Self::InsufficientStock(p) => p.status,
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Self::Plain(p) => &p.detail,
            Self::Validation(p) => &p.detail,
            Self::InsufficientStock(p) => &p.detail,
        }
    }

    /// The refused fields of a validation problem.
    pub fn errors(&self) -> Option<&[FieldProblem]> {
        match self {
            Self::Validation(p) => Some(&p.errors),
            _ => None,
        }
    }
}

/// `anyOf` two component schemas, named `name`.
fn any_of(description: &str, schemas: [&str; 2]) -> RefOr<Schema> {
    schemas
        .into_iter()
        .fold(AnyOfBuilder::new(), |b, s| b.item(Ref::from_schema_name(s)))
        .description(Some(description))
        .into()
}

/// The 409 of a write that takes stock: an [`InsufficientStockProblem`] when units are short,
/// else a [`Problem`] (a status change not allowed, a concurrent change, a key in progress).
pub enum StockConflict {}

impl PartialSchema for StockConflict {
    fn schema() -> RefOr<Schema> {
        any_of(
            "`insufficient-stock` with `shortages`, or another conflict",
            ["InsufficientStockProblem", "Problem"],
        )
    }
}

impl ToSchema for StockConflict {
    fn name() -> std::borrow::Cow<'static, str> {
        "StockConflictProblem".into()
    }
}

/// The 422 of a write that takes an `Idempotency-Key`: a [`ValidationProblem`] naming the
/// refused fields, or a [`Problem`] (`idempotency-key-reused`: the key came with another
/// request).
pub enum ValidationRefusal {}

impl PartialSchema for ValidationRefusal {
    fn schema() -> RefOr<Schema> {
        any_of(
            "`validation` with `errors`, or `idempotency-key-reused`",
            ["ValidationProblem", "Problem"],
        )
    }
}

impl ToSchema for ValidationRefusal {
    fn name() -> std::borrow::Cow<'static, str> {
        "ValidationRefusalProblem".into()
    }
}

/// Component names, for the refusals added to the document by name.
pub mod names {
    pub const PROBLEM: &str = "Problem";
    pub const VALIDATION: &str = "ValidationProblem";
    pub const VALIDATION_REFUSAL: &str = "ValidationRefusalProblem";
    pub const STOCK_CONFLICT: &str = "StockConflictProblem";
}
