//! Bodies of transfers: stock moved from one location of the tenant to another.
//!
//! A transfer's receipt body is the purchase-order one ([`super::purchasing::ReceiptRequest`]):
//! both record units that arrived, line by line.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use domain::error::{DomainError, FieldErrors};
use domain::ids::LocationId;
use domain::transfers::models::{
    NewTransfer, Transfer, TransferFilter, TransferPatch, TransferStatus,
};

use super::id;
use super::orders::{lines_into_domain, LineRequestDto};
use crate::http::query::optional;
use crate::page_dto;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTransferRequest {
    /// The active location the units leave.
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10", format = Uuid)]
    pub from_location_id: String,
    /// The active location they go to; must differ from `fromLocationId`.
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b11", format = Uuid)]
    pub to_location_id: String,
    /// One line per variant.
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<LineRequestDto>,
}

impl CreateTransferRequest {
    pub fn into_domain(self) -> Result<NewTransfer, DomainError> {
        let mut e = FieldErrors::new();
        let from = id::<LocationId>(&mut e, "fromLocationId", &self.from_location_id);
        let to = id::<LocationId>(&mut e, "toLocationId", &self.to_location_id);
        let lines = lines_into_domain(&mut e, &self.lines);
        e.finish()?;
        Ok(NewTransfer {
            from_location_id: from.expect("checked"),
            to_location_id: to.expect("checked"),
            lines,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTransferRequest {
    #[schema(format = Uuid)]
    pub from_location_id: Option<String>,
    #[schema(format = Uuid)]
    pub to_location_id: Option<String>,
    /// Replaces all lines.
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Option<Vec<LineRequestDto>>,
}

impl UpdateTransferRequest {
    pub fn into_domain(self) -> Result<TransferPatch, DomainError> {
        let mut e = FieldErrors::new();
        let from = self
            .from_location_id
            .as_deref()
            .and_then(|s| id::<LocationId>(&mut e, "fromLocationId", s));
        let to = self
            .to_location_id
            .as_deref()
            .and_then(|s| id::<LocationId>(&mut e, "toLocationId", s));
        let lines = self.lines.as_deref().map(|l| lines_into_domain(&mut e, l));
        e.finish()?;
        Ok(TransferPatch {
            from_location_id: from,
            to_location_id: to,
            lines,
        })
    }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferStatusDto {
    Draft,
    Shipped,
    PartiallyReceived,
    Received,
    Cancelled,
}

impl From<TransferStatus> for TransferStatusDto {
    fn from(s: TransferStatus) -> Self {
        use TransferStatus as S;
        match s {
            S::Draft => Self::Draft,
            S::Shipped => Self::Shipped,
            S::PartiallyReceived => Self::PartiallyReceived,
            S::Received => Self::Received,
            S::Cancelled => Self::Cancelled,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransferLineDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")]
    pub variant_id: String,
    #[schema(example = 12)]
    pub quantity: i64,
    #[schema(example = 5)]
    pub received: i64,
    /// Shipped and not yet received: quantity − received while SHIPPED or PARTIALLY_RECEIVED,
    /// else 0.
    #[schema(example = 7)]
    pub in_transit: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransferDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4c20")]
    pub id: String,
    pub from_location_id: String,
    pub to_location_id: String,
    pub status: TransferStatusDto,
    pub lines: Vec<TransferLineDto>,
    /// Σ of the lines' `inTransit`.
    #[schema(example = 7)]
    pub in_transit: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was shipped; null while DRAFT or if cancelled.
    #[schema(required = true)]
    pub shipped_at: Option<DateTime<Utc>>,
    /// Incremented on every change.
    #[schema(example = 2)]
    pub version: i64,
}

impl From<&Transfer> for TransferDto {
    fn from(t: &Transfer) -> Self {
        Self {
            id: t.id.to_string(),
            from_location_id: t.from_location_id.to_string(),
            to_location_id: t.to_location_id.to_string(),
            status: t.status.into(),
            lines: t
                .lines
                .iter()
                .map(|l| TransferLineDto {
                    variant_id: l.variant_id.to_string(),
                    quantity: l.quantity,
                    received: l.received,
                    in_transit: l.in_transit(t.status),
                })
                .collect(),
            in_transit: t.in_transit(),
            created_by: t.created_by.to_string(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            shipped_at: t.shipped_at,
            version: t.version,
        }
    }
}

page_dto!(TransferPage, TransferDto);

/// Filters of the transfer list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TransferQuery {
    /// DRAFT, SHIPPED, PARTIALLY_RECEIVED, RECEIVED or CANCELLED.
    #[param(value_type = Option<TransferStatusDto>)]
    pub status: Option<String>,
    /// Only transfers leaving this location.
    #[param(format = Uuid)]
    pub from_location_id: Option<String>,
    /// Only transfers going to this location.
    #[param(format = Uuid)]
    pub to_location_id: Option<String>,
}

impl TransferQuery {
    pub fn into_domain(&self) -> Result<TransferFilter, DomainError> {
        let mut e = FieldErrors::new();
        let status = optional(
            &mut e,
            "status",
            self.status.as_deref(),
            |s| TransferStatus::parse(s).ok_or(()),
            "must be DRAFT, SHIPPED, PARTIALLY_RECEIVED, RECEIVED or CANCELLED",
        );
        let from_location_id = optional(
            &mut e,
            "fromLocationId",
            self.from_location_id.as_deref(),
            str::parse::<LocationId>,
            "is not a valid id",
        );
        let to_location_id = optional(
            &mut e,
            "toLocationId",
            self.to_location_id.as_deref(),
            str::parse::<LocationId>,
            "is not a valid id",
        );
        e.finish()?;
        Ok(TransferFilter {
            status,
            from_location_id,
            to_location_id,
        })
    }
}
