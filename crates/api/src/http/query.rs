//! Query-string parsing that names the bad parameter.
//!
//! Query structs hold raw strings; these helpers turn them into domain values and collect every
//! bad parameter into one 422.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use domain::error::FieldErrors;
use domain::pagination::PageRequest;

use super::error::ApiError;

/// `?limit` (1–200, default 50) and `?cursor` (from the previous page's `nextCursor`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `nextCursor` of the previous page.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        let limit = match self.limit.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
                ApiError::field("limit", "must be a whole number between 1 and 200")
            })?),
        };
        PageRequest::parse(limit, self.cursor.as_deref()).map_err(Into::into)
    }
}

/// Parses an optional value, recording a field error when present but invalid.
pub fn optional<T, E>(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, E>,
    message: &str,
) -> Option<T> {
    match raw {
        None | Some("") => None,
        Some(raw) => match parse(raw) {
            Ok(v) => Some(v),
            Err(_) => {
                errors.add(field, message);
                None
            }
        },
    }
}

/// An RFC 3339 timestamp.
pub fn timestamp(raw: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(raw).map(|t| t.with_timezone(&Utc))
}
