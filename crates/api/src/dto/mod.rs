//! Request and response bodies (camelCase JSON) and their conversions.
//!
//! Requests convert into validated domain commands here (`into_domain`), collecting every bad
//! field into one 422; responses are built from domain entities. Money is integer minor units.

pub mod auth;
pub mod bounds;
pub mod catalog;
pub mod locations;
pub mod orders;
pub mod purchasing;
pub mod reports;
pub mod reservations;
pub mod stock;
pub mod transfers;

use serde::{Deserialize, Deserializer};

use domain::error::FieldErrors;
use domain::values::{Text, ValueError};

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Parses an id field, recording "no such …" style errors under `field`.
pub fn id<T: std::str::FromStr>(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<T> {
    match raw.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.add(field, "is not a valid id");
            None
        }
    }
}

/// An optional text field: absent or blank means none.
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    make: fn(&str) -> Result<Text, ValueError>,
) -> Option<Text> {
    match raw {
        Some(s) if !s.trim().is_empty() => errors.check(field, make(s)),
        _ => None,
    }
}

/// Lists in responses: one page of items and the cursor of the next page.
#[macro_export]
macro_rules! page_dto {
    ($name:ident, $item:ty) => {
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `?cursor=` for the next page; null on the last page.
            #[schema(required = true, example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")]
            pub next_cursor: Option<String>,
        }

        impl $name {
            pub fn from_page<T>(
                page: domain::pagination::Page<T>,
                f: impl FnMut(T) -> $item,
            ) -> Self {
                Self {
                    items: page.items.into_iter().map(f).collect(),
                    next_cursor: page.next_cursor,
                }
            }
        }
    };
}
