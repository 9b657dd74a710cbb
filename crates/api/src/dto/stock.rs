//! Bodies of adjustments, the ledger and the audit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use domain::error::{DomainError, FieldErrors};
use domain::ids::VariantId;
use domain::stock::models::{Adjusted, AuditReport, MovementFilter, MovementKind, StockMovement};
use domain::stock::service::Adjustment;
use domain::values::{StockDelta, StockLevel, Text};

use crate::http::query::{optional, timestamp};
use crate::page_dto;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MovementTypeDto {
    Purchase,
    Sale,
    Adjustment,
    Return,
}

impl From<MovementKind> for MovementTypeDto {
    fn from(k: MovementKind) -> Self {
        match k {
            MovementKind::Purchase => MovementTypeDto::Purchase,
            MovementKind::Sale => MovementTypeDto::Sale,
            MovementKind::Adjustment => MovementTypeDto::Adjustment,
            MovementKind::Return => MovementTypeDto::Return,
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
    /// Compare-and-set: refused with 409 unless the stock is still this.
    #[schema(example = 0)]
    pub expected_stock: Option<i64>,
}

impl AdjustmentRequest {
    pub fn into_domain(self) -> Result<Adjustment, DomainError> {
        let mut e = FieldErrors::new();
        let quantity = e.check("quantity", StockDelta::new(self.quantity));
        let reason = e.check("reason", Text::long(&self.reason));
        let expected_stock = self
            .expected_stock
            .and_then(|s| e.check("expectedStock", StockLevel::new(s)));
        e.finish()?;
        Ok(Adjustment {
            quantity: quantity.expect("checked"),
            reason: reason.expect("checked"),
            expected_stock,
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
    #[serde(rename = "type")]
    pub kind: MovementTypeDto,
    /// Signed: negative when units leave.
    #[schema(example = 10)]
    pub quantity: i64,
    #[schema(example = 52)]
    pub stock_after: i64,
    #[schema(example = "initial count")]
    pub reason: Option<String>,
    pub order_id: Option<String>,
    pub purchase_order_id: Option<String>,
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
            kind: m.kind.into(),
            quantity: m.quantity,
            stock_after: m.stock_after,
            reason: m.reason.clone(),
            order_id: m.order_id.map(|o| o.to_string()),
            purchase_order_id: m.purchase_order_id.map(|p| p.to_string()),
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
    /// The variant's stock after the adjustment.
    #[schema(example = 52)]
    pub stock: i64,
}

impl From<&Adjusted> for AdjustmentResponse {
    fn from(a: &Adjusted) -> Self {
        Self {
            movement: (&a.movement).into(),
            stock: a.stock,
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
    /// PURCHASE, SALE, ADJUSTMENT or RETURN.
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
        let kind = optional(
            &mut e,
            "type",
            self.kind.as_deref(),
            |s| MovementKind::parse(s).ok_or(()),
            "must be PURCHASE, SALE, ADJUSTMENT or RETURN",
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
    pub sku: String,
    pub stock: i64,
    /// Σ of the variant's movements.
    pub ledger_sum: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditResponse {
    #[schema(example = 128)]
    pub variants_checked: u64,
    /// Variants whose stock differs from the sum of their movements: always empty.
    pub drift: Vec<DriftDto>,
}

impl From<&AuditReport> for AuditResponse {
    fn from(r: &AuditReport) -> Self {
        Self {
            variants_checked: r.variants_checked,
            drift: r
                .drift
                .iter()
                .map(|d| DriftDto {
                    variant_id: d.variant_id.to_string(),
                    sku: d.sku.clone(),
                    stock: d.stock,
                    ledger_sum: d.ledger_sum,
                })
                .collect(),
        }
    }
}
