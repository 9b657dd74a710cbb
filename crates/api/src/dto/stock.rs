//! Bodies of adjustments, the ledger and the audit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use domain::error::{DomainError, FieldErrors};
use domain::ids::{LocationId, VariantId};
use domain::stock::models::{Adjusted, AuditReport, MovementFilter, MovementKind, StockMovement};
use domain::stock::service::{Adjustment, Moved, StateMove};
use domain::stock::state::{StockState, Unavailable, UnitState};
use domain::values::{Quantity, StockDelta, StockLevel, Text};

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
    /// Units moved between states at one location (available, damaged, quality control, safety
    /// stock): `quantity` 0, `unavailable` says how each state moved.
    Move,
}

/// What a bad movement type is told.
pub const MOVEMENT_TYPES: &str =
    "must be PURCHASE, SALE, ADJUSTMENT, RETURN, TRANSFER_OUT, TRANSFER_IN or MOVE";

impl From<MovementKind> for MovementTypeDto {
    fn from(k: MovementKind) -> Self {
        match k {
            MovementKind::Purchase => MovementTypeDto::Purchase,
            MovementKind::Sale => MovementTypeDto::Sale,
            MovementKind::Adjustment => MovementTypeDto::Adjustment,
            MovementKind::Return => MovementTypeDto::Return,
            MovementKind::TransferOut => MovementTypeDto::TransferOut,
            MovementKind::TransferIn => MovementTypeDto::TransferIn,
            MovementKind::Move => MovementTypeDto::Move,
        }
    }
}

/// What a bad unit state is told.
pub const UNIT_STATES: &str = "must be available, damaged, qualityControl or safetyStock";

/// An optional unit state of a request body (`available` when absent), named `field` when bad.
pub fn unit_state(e: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<UnitState> {
    match raw {
        None => Some(UnitState::Available),
        Some(raw) => required_state(e, field, raw),
    }
}

fn required_state(e: &mut FieldErrors, field: &str, raw: &str) -> Option<UnitState> {
    let state = UnitState::parse(raw);
    if state.is_none() {
        e.add(field, UNIT_STATES);
    }
    state
}

/// Units on hand but not for sale, by state; on a movement, how each state moved.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UnavailableByDto {
    /// Damaged: waiting to be written off or repaired.
    #[schema(example = 1)]
    pub damaged: i64,
    /// Held for a quality check.
    #[schema(example = 0)]
    pub quality_control: i64,
    /// Set aside deliberately, never sold.
    #[schema(example = 2)]
    pub safety_stock: i64,
}

impl From<&Unavailable> for UnavailableByDto {
    fn from(u: &Unavailable) -> Self {
        Self {
            damaged: u.damaged,
            quality_control: u.quality_control,
            safety_stock: u.safety_stock,
        }
    }
}

/// Units by state, of one location or of a variant in total: `stock` (available) is
/// `onHand − committed − reserved − unavailable`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockStatesDto {
    /// Available to new orders and holds.
    #[schema(example = 37)]
    pub stock: i64,
    /// Physically held: Σ of the movements.
    #[schema(example = 45)]
    pub on_hand: i64,
    /// Committed to placed orders not fulfilled yet.
    #[schema(example = 3)]
    pub committed: i64,
    /// Held by live checkout reservations.
    #[schema(example = 2)]
    pub reserved: i64,
    /// On hand but not for sale: Σ of `unavailableBy`.
    #[schema(example = 3)]
    pub unavailable: i64,
    pub unavailable_by: UnavailableByDto,
}

impl From<&StockState> for StockStatesDto {
    fn from(s: &StockState) -> Self {
        Self {
            stock: s.available(),
            on_hand: s.on_hand,
            committed: s.claims.committed,
            reserved: s.claims.reserved,
            unavailable: s.claims.unavailable.sum(),
            unavailable_by: (&s.claims.unavailable).into(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdjustmentRequest {
    #[schema(schema_with = super::bounds::stock_delta)]
    pub quantity: i64,
    #[schema(
        example = "initial count",
        min_length = 1,
        max_length = 2000,
        pattern = r"\S"
    )]
    pub reason: String,
    /// Compare-and-set: refused with 409 unless the stock at the location is still this.
    #[schema(example = 0, minimum = 0, maximum = 1000000000)]
    pub expected_stock: Option<i64>,
    /// The active location whose stock is adjusted (default: the tenant's default location).
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10", format = Uuid)]
    pub location_id: Option<String>,
    /// The state the units are found in or written off from: `available` (default), `damaged`,
    /// `qualityControl` or `safetyStock`. On hand moves with it: −2 `damaged` writes off two
    /// damaged units.
    #[schema(example = "available", value_type = Option<super::bounds::UnitStateName>)]
    pub state: Option<String>,
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
        let state = unit_state(&mut e, "state", self.state.as_deref());
        e.finish()?;
        Ok(Adjustment {
            quantity: quantity.expect("checked"),
            reason: reason.expect("checked"),
            expected_stock,
            location_id,
            state: state.expect("checked"),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MoveRequest {
    /// The active location whose units move (default: the tenant's default location).
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10", format = Uuid)]
    pub location_id: Option<String>,
    /// `available`, `damaged`, `qualityControl` or `safetyStock`.
    #[schema(example = "available", value_type = super::bounds::UnitStateName)]
    pub from: String,
    /// Another of those states.
    #[schema(example = "damaged", value_type = super::bounds::UnitStateName)]
    pub to: String,
    #[schema(example = 2, minimum = 1, maximum = 1000000000)]
    pub quantity: i64,
    #[schema(
        example = "dropped in the stockroom",
        min_length = 1,
        max_length = 2000,
        pattern = r"\S"
    )]
    pub reason: String,
}

impl MoveRequest {
    pub fn into_domain(self) -> Result<StateMove, DomainError> {
        let mut e = FieldErrors::new();
        let location_id = self
            .location_id
            .as_deref()
            .and_then(|l| id::<LocationId>(&mut e, "locationId", l));
        let from = required_state(&mut e, "from", &self.from);
        let to = required_state(&mut e, "to", &self.to);
        let quantity = e.check("quantity", Quantity::new(self.quantity));
        let reason = e.check("reason", Text::long(&self.reason));
        e.finish()?;
        Ok(StateMove {
            from: from.expect("checked"),
            to: to.expect("checked"),
            quantity: quantity.expect("checked"),
            reason: reason.expect("checked"),
            location_id,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MoveResponse {
    /// The MOVE movement: `quantity` 0, `unavailable` how each state moved.
    pub movement: MovementDto,
    /// The location's units by state after the move.
    pub level: StockStatesDto,
    /// The variant's units by state over every location after the move.
    pub total: StockStatesDto,
}

impl From<&Moved> for MoveResponse {
    fn from(m: &Moved) -> Self {
        Self {
            movement: (&m.movement).into(),
            level: (&m.level).into(),
            total: (&m.total).into(),
        }
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
    /// How on hand moved. Signed: negative when units leave; 0 for a MOVE.
    #[schema(example = 10)]
    pub quantity: i64,
    /// How the location's unavailable states moved with it: a MOVE's units between states, or
    /// the state an adjustment or a return took units from or put them into (all 0 otherwise).
    pub unavailable: UnavailableByDto,
    /// The units on hand at `locationId` after the movement.
    #[schema(example = 52)]
    pub stock_after: i64,
    #[schema(required = true, example = "initial count")]
    pub reason: Option<String>,
    #[schema(required = true)]
    pub order_id: Option<String>,
    #[schema(required = true)]
    pub purchase_order_id: Option<String>,
    /// For TRANSFER_OUT and TRANSFER_IN movements: the transfer.
    #[schema(required = true)]
    pub transfer_id: Option<String>,
    /// For PURCHASE movements: cost per unit in minor units.
    #[schema(required = true)]
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
            unavailable: (&m.unavailable).into(),
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
    #[param(format = Uuid)]
    pub variant_id: Option<String>,
    /// Only movements at this location.
    #[param(format = Uuid)]
    pub location_id: Option<String>,
    /// PURCHASE, SALE, ADJUSTMENT, RETURN, TRANSFER_OUT, TRANSFER_IN or MOVE.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<MovementTypeDto>)]
    pub kind: Option<String>,
    /// RFC 3339; movements at or after it.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339; movements before it.
    #[param(format = DateTime)]
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
    #[schema(required = true)]
    pub location_id: Option<String>,
    /// Which number drifted: `onHand` (must equal Σ of the level's movements), `committed`
    /// (must equal Σ of the open allocations of placed orders at the level), `reserved` (the
    /// level's live holds must equal Σ of the allocations of live ACTIVE reservations there), or
    /// `damaged`, `qualityControl`, `safetyStock` (each must equal Σ of the level's movements'
    /// change of that state).
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
    /// Levels whose on hand or unavailable states differ from the sums of their movements,
    /// whose committed units differ from their placed orders' allocations or whose reserved
    /// units differ from their live reservations, and variants whose totals differ from the sums
    /// of their levels: always empty.
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
