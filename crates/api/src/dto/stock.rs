//! Bodies of adjustments, the ledger and the audit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use domain::error::{DomainError, FieldErrors};
use domain::ids::{LocationId, VariantId};
use domain::stock::models::{Adjusted, AuditReport, MovementFilter, MovementKind, StockMovement};
use domain::stock::service::Adjustment;
use domain::values::{StockDelta, StockLevel, Text};

use super::id;

use crate::http::query::{optional, timestamp};
use crate::page_dto;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MovementTypeDto {
    Purchase,
    Sale,
    Adjustment,
    Return,
    /// Units leaving a location on a transfer.
    TransferOut,
    /// Units of a transfer arriving at its destination.
    TransferIn,
}

/// What a bad movement type is told.
pub const MOVEMENT_TYPES: &str =
    "must be PURCHASE, SALE, ADJUSTMENT, RETURN, TRANSFER_OUT or TRANSFER_IN";

impl From<MovementKind> for MovementTypeDto {
    fn from(k: MovementKind) -> Self {
        match k {
            MovementKind::Purchase => MovementTypeDto::Purchase,
            MovementKind::Sale => MovementTypeDto::Sale,
            MovementKind::Adjustment => MovementTypeDto::Adjustment,
            MovementKind::Return => MovementTypeDto::Return,
            MovementKind::TransferOut => MovementTypeDto::TransferOut,
            MovementKind::TransferIn => MovementTypeDto::TransferIn,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdjustmentRequest {
    /// Signed, non-zero: +10 adds ten units, −3 removes three.
    #[schema(example = 10)]
    pub quantity: i64,
    #[schema(example = "initial count")]
    pub reason: String,
    /// Compare-and-set: refused with 409 unless the stock at the location is still this.
    #[schema(example = 0)]
    pub expected_stock: Option<i64>,
    /// The active location whose stock is adjusted (default: the tenant's default location).
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10")]
    pub location_id: Option<String>,
}

impl AdjustmentRequest {
    pub fn into_domain(self) -> Result<Adjustment, DomainError> {
        let mut e = FieldErrors::new();
        let quantity = e.check("quantity", StockDelta::new(self.quantity));
        let reason = e.check("reason", Text::long(&self.reason));
        let expected_stock = self
            .expected_stock
            .and_then(|s| e.check("expectedStock", StockLevel::new(s)));
        let location_id = self
            .location_id
            .as_deref()
            .and_then(|l| id::<LocationId>(&mut e, "locationId", l));
        e.finish()?;
        Ok(Adjustment {
            quantity: quantity.expect("checked"),
            reason: reason.expect("checked"),
            expected_stock,
            location_id,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MovementDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60")]
    pub id: String,
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")]
    pub variant_id: String,
    /// The location whose stock the movement changed.
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10")]
    pub location_id: String,
    #[serde(rename = "type")]
    pub kind: MovementTypeDto,
    /// Signed: negative when units leave.
    #[schema(example = 10)]
    pub quantity: i64,
    /// The stock at `locationId` after the movement.
    #[schema(example = 52)]
    pub stock_after: i64,
    #[schema(example = "initial count")]
    pub reason: Option<String>,
    pub order_id: Option<String>,
    pub purchase_order_id: Option<String>,
    /// For TRANSFER_OUT and TRANSFER_IN movements: the transfer.
    pub transfer_id: Option<String>,
    /// For PURCHASE movements: cost per unit in minor units.
    pub unit_cost: Option<i64>,
    /// The user who caused the movement.
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d")]
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

impl From<&StockMovement> for MovementDto {
    fn from(m: &StockMovement) -> Self {
        Self {
            id: m.id.to_string(),
            variant_id: m.variant_id.to_string(),
            location_id: m.location_id.to_string(),
            kind: m.kind.into(),
            quantity: m.quantity,
            stock_after: m.stock_after,
            reason: m.reason.clone(),
            order_id: m.order_id.map(|o| o.to_string()),
            purchase_order_id: m.purchase_order_id.map(|p| p.to_string()),
            transfer_id: m.transfer_id.map(|t| t.to_string()),
            unit_cost: m.unit_cost.map(|c| c.minor_units()),
            actor: m.actor.to_string(),
            created_at: m.created_at,
        }
    }
}

page_dto!(MovementPage, MovementDto);

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdjustmentResponse {
    pub movement: MovementDto,
    /// The variant's total stock over every location after the adjustment.
    #[schema(example = 52)]
    pub stock: i64,
    /// The stock at the adjusted location (the movement's `locationId`) after it.
    #[schema(example = 40)]
    pub level_stock: i64,
}

impl From<&Adjusted> for AdjustmentResponse {
    fn from(a: &Adjusted) -> Self {
        Self {
            movement: (&a.movement).into(),
            stock: a.stock,
            level_stock: a.level_stock,
        }
    }
}

/// Filters of the ledger.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MovementQuery {
    /// Only movements of this variant.
    pub variant_id: Option<String>,
    /// Only movements at this location.
    pub location_id: Option<String>,
    /// PURCHASE, SALE, ADJUSTMENT, RETURN, TRANSFER_OUT or TRANSFER_IN.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// RFC 3339; movements at or after it.
    pub from: Option<String>,
    /// RFC 3339; movements before it.
    pub to: Option<String>,
}

impl MovementQuery {
    pub fn into_domain(&self) -> Result<MovementFilter, DomainError> {
        let mut e = FieldErrors::new();
        let variant_id = optional(
            &mut e,
            "variantId",
            self.variant_id.as_deref(),
            str::parse::<VariantId>,
            "is not a valid id",
        );
        let location_id = optional(
            &mut e,
            "locationId",
            self.location_id.as_deref(),
            str::parse::<LocationId>,
            "is not a valid id",
        );
        let kind = optional(
            &mut e,
            "type",
            self.kind.as_deref(),
            |s| MovementKind::parse(s).ok_or(()),
            MOVEMENT_TYPES,
        );
        let from = optional(
            &mut e,
            "from",
            self.from.as_deref(),
            timestamp,
            "must be an RFC 3339 timestamp",
        );
        let to = optional(
            &mut e,
            "to",
            self.to.as_deref(),
            timestamp,
            "must be an RFC 3339 timestamp",
        );
        e.finish()?;
        Ok(MovementFilter {
            variant_id,
            location_id,
            kind,
            from,
            to,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftDto {
    pub variant_id: String,
    /// The level that drifted; null when it is the variant's stored total that differs from the
    /// sum of its levels.
    pub location_id: Option<String>,
    /// Which number drifted: `onHand` (must equal Σ of the level's movements) or `committed`
    /// (must equal Σ of the open allocations of placed orders at the level).
    #[schema(example = "onHand")]
    pub state: String,
    pub sku: String,
    /// The number as stored: the level's, or the variant's total.
    pub stock: i64,
    /// What it must equal: Σ of the level's movements or placed orders, or Σ of the variant's
    /// levels.
    pub ledger_sum: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditResponse {
    #[schema(example = 128)]
    pub variants_checked: u64,
    /// Levels (a variant at a location) checked.
    #[schema(example = 256)]
    pub levels_checked: u64,
    /// Levels whose on hand differs from the sum of their movements or whose committed units
    /// differ from their placed orders' allocations, and variants whose totals differ from the
    /// sums of their levels: always empty.
    pub drift: Vec<DriftDto>,
}

impl From<&AuditReport> for AuditResponse {
    fn from(r: &AuditReport) -> Self {
        Self {
            variants_checked: r.variants_checked,
            levels_checked: r.levels_checked,
            drift: r
                .drift
                .iter()
                .map(|d| DriftDto {
                    variant_id: d.variant_id.to_string(),
                    location_id: d.location_id.map(|l| l.to_string()),
                    state: d.state.as_str().to_owned(),
                    sku: d.sku.clone(),
                    stock: d.stock,
                    ledger_sum: d.ledger_sum,
                })
                .collect(),
        }
    }
}
