//! Bodies of locations and the stock levels they hold.
//!
//! A location is never deleted, so there is no delete body; `isDefault` only ever turns on (a
//! location stops being the default when another becomes it), which is why `false` is refused
//! rather than silently ignored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use domain::error::{DomainError, FieldErrors};
use domain::locations::models::{LevelFilter, Location, LocationLevel, LocationPatch, NewLocation};
use domain::values::{LocationCode, LocationPriority, Text};

use super::stock::UnavailableByDto;
use crate::http::query::optional;
use crate::page_dto;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateLocationRequest {
    #[schema(
        example = "Berlin shop",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: String,
    /// 1–32 letters, digits, `-` or `_`; unique in the tenant, case-sensitive.
    #[schema(
        example = "BER-1",
        min_length = 1,
        max_length = 32,
        pattern = "^[A-Za-z0-9_-]+$"
    )]
    pub code: String,
    /// 0–1000; where the location comes, after the default, when an order naming no location
    /// is allocated (lower first, ties by code). Default 100.
    #[schema(example = 10, minimum = 0, maximum = 1000)]
    pub priority: Option<i64>,
}

impl CreateLocationRequest {
    pub fn into_domain(self) -> Result<NewLocation, DomainError> {
        let mut e = FieldErrors::new();
        let name = e.check("name", Text::name(&self.name));
        let code = e.check("code", LocationCode::new(&self.code));
        let priority = self
            .priority
            .and_then(|p| e.check("priority", LocationPriority::new(p)));
        e.finish()?;
        Ok(NewLocation {
            name: name.expect("checked"),
            code: code.expect("checked"),
            priority,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateLocationRequest {
    #[schema(
        example = "Berlin flagship",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: Option<String>,
    /// `false` deactivates: refused while the location holds units, has units in transit to it,
    /// open purchase orders bound for it or draft transfers naming it, and for the default.
    #[schema(example = true)]
    pub active: Option<bool>,
    #[schema(schema_with = super::bounds::only_true)]
    pub is_default: Option<bool>,
    #[schema(example = 5, minimum = 0, maximum = 1000)]
    pub priority: Option<i64>,
}

impl UpdateLocationRequest {
    pub fn into_domain(self) -> Result<LocationPatch, DomainError> {
        let mut e = FieldErrors::new();
        let name = self
            .name
            .as_deref()
            .and_then(|n| e.check("name", Text::name(n)));
        let priority = self
            .priority
            .and_then(|p| e.check("priority", LocationPriority::new(p)));
        if self.is_default == Some(false) {
            e.add(
                "isDefault",
                "only true is accepted: a location stops being the default when another becomes it",
            );
        }
        e.finish()?;
        Ok(LocationPatch {
            name,
            active: self.active,
            make_default: self.is_default == Some(true),
            priority,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10")]
    pub id: String,
    #[schema(example = "Berlin shop")]
    pub name: String,
    #[schema(example = "BER-1")]
    pub code: String,
    /// Exactly one location of a tenant is the default: it serves every write naming none.
    #[schema(example = false)]
    pub is_default: bool,
    #[schema(example = true)]
    pub active: bool,
    #[schema(example = 10)]
    pub priority: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Location> for LocationDto {
    fn from(l: &Location) -> Self {
        Self {
            id: l.id.to_string(),
            name: l.name.as_str().to_owned(),
            code: l.code.as_str().to_owned(),
            is_default: l.is_default,
            active: l.active,
            priority: l.priority.get(),
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

page_dto!(LocationPage, LocationDto);

/// One variant's stock at the location.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationLevelDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")]
    pub variant_id: String,
    #[schema(example = "TS-RED-M")]
    pub sku: String,
    /// Units available here: `onHand − committed − reserved − unavailable`.
    #[schema(example = 10)]
    pub stock: i64,
    /// Units physically here.
    #[schema(example = 14)]
    pub on_hand: i64,
    /// Units here committed to placed orders not fulfilled yet.
    #[schema(example = 2)]
    pub committed: i64,
    /// Units here held by live checkout reservations.
    #[schema(example = 1)]
    pub reserved: i64,
    /// Units here on hand but not for sale, Σ of `unavailableBy`.
    #[schema(example = 1)]
    pub unavailable: i64,
    pub unavailable_by: UnavailableByDto,
    /// Units on open purchase orders bound for here.
    #[schema(example = 20)]
    pub incoming: i64,
    /// The variant's reorder level, which `?lowStock=true` compares with `stock`.
    #[schema(example = 5)]
    pub reorder_level: i64,
}

impl From<&LocationLevel> for LocationLevelDto {
    fn from(l: &LocationLevel) -> Self {
        Self {
            variant_id: l.variant_id.to_string(),
            sku: l.sku.as_str().to_owned(),
            stock: l.stock,
            on_hand: l.state.on_hand,
            committed: l.state.claims.committed,
            reserved: l.state.claims.reserved,
            unavailable: l.state.claims.unavailable.sum(),
            unavailable_by: (&l.state.claims.unavailable).into(),
            incoming: l.incoming,
            reorder_level: l.reorder_level,
        }
    }
}

page_dto!(LocationLevelPage, LocationLevelDto);

/// Filters of a location's levels.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LevelQuery {
    /// `true`: only levels whose stock is at or below the variant's reorder level.
    #[param(value_type = Option<bool>)]
    pub low_stock: Option<String>,
}

impl LevelQuery {
    pub fn into_domain(&self) -> Result<LevelFilter, DomainError> {
        let mut e = FieldErrors::new();
        let low_stock = optional(
            &mut e,
            "lowStock",
            self.low_stock.as_deref(),
            str::parse::<bool>,
            "must be true or false",
        );
        e.finish()?;
        Ok(LevelFilter {
            low_stock: low_stock.unwrap_or(false),
        })
    }
}
