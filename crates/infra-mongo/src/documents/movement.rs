//! Stock movements as stored: the append-only ledger.
//!
//! A movement that moved an unavailable state (a MOVE between states, an adjustment or a return
//! of damaged units, …) carries how each moved in `unavailable`; one that moved none — most of
//! them, and every movement written before unit states — has no such field, which reads as 0 of
//! each, so the common movement stays as small as it was.

use domain::stock::models::{MovementKind, StockMovement};
use domain::stock::state::Unavailable;
use domain::values::Money;
use domain::StoreError;
use mongodb::bson;
use serde::{Deserialize, Serialize};

use super::{bson_time, domain_time, parse, valid};
use crate::errors::corrupt;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MovementDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub variant_id: String,
    /// The level the movement changed is (`variantId`, `locationId`).
    pub location_id: String,
    pub kind: String,
    /// Signed: negative for units leaving.
    pub quantity: i64,
    /// How the level's unavailable states moved; absent when none did.
    #[serde(default, skip_serializing_if = "UnavailableDoc::is_zero")]
    pub unavailable: UnavailableDoc,
    /// The level's stock after the movement.
    pub stock_after: i64,
    pub reason: Option<String>,
    pub order_id: Option<String>,
    pub purchase_order_id: Option<String>,
    #[serde(default)]
    pub transfer_id: Option<String>,
    pub unit_cost: Option<i64>,
    pub actor: String,
    pub created_at: bson::DateTime,
}

/// Units by unavailable state, as a movement stores how each moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UnavailableDoc {
    #[serde(default)]
    pub damaged: i64,
    #[serde(default)]
    pub quality_control: i64,
    #[serde(default)]
    pub safety_stock: i64,
}

impl UnavailableDoc {
    fn is_zero(&self) -> bool {
        *self == UnavailableDoc::default()
    }
}

impl From<Unavailable> for UnavailableDoc {
    fn from(u: Unavailable) -> Self {
        Self {
            damaged: u.damaged,
            quality_control: u.quality_control,
            safety_stock: u.safety_stock,
        }
    }
}

impl From<UnavailableDoc> for Unavailable {
    fn from(u: UnavailableDoc) -> Self {
        Unavailable {
            damaged: u.damaged,
            quality_control: u.quality_control,
            safety_stock: u.safety_stock,
        }
    }
}

impl From<&StockMovement> for MovementDoc {
    fn from(m: &StockMovement) -> Self {
        Self {
            id: m.id.to_string(),
            tenant_id: m.tenant_id.to_string(),
            variant_id: m.variant_id.to_string(),
            location_id: m.location_id.to_string(),
            kind: m.kind.as_str().to_owned(),
            quantity: m.quantity,
            unavailable: m.unavailable.into(),
            stock_after: m.stock_after,
            reason: m.reason.clone(),
            order_id: m.order_id.map(|id| id.to_string()),
            purchase_order_id: m.purchase_order_id.map(|id| id.to_string()),
            transfer_id: m.transfer_id.map(|id| id.to_string()),
            unit_cost: m.unit_cost.map(Money::minor_units),
            actor: m.actor.to_string(),
            created_at: bson_time(m.created_at),
        }
    }
}

impl TryFrom<MovementDoc> for StockMovement {
    type Error = StoreError;

    fn try_from(d: MovementDoc) -> Result<Self, StoreError> {
        Ok(StockMovement {
            id: parse(&d.id, "movement id")?,
            tenant_id: parse(&d.tenant_id, "movement tenant id")?,
            variant_id: parse(&d.variant_id, "movement variant id")?,
            location_id: parse(&d.location_id, "movement location id")?,
            kind: MovementKind::parse(&d.kind).ok_or_else(|| corrupt("movement kind", &d.kind))?,
            quantity: d.quantity,
            unavailable: d.unavailable.into(),
            stock_after: d.stock_after,
            reason: d.reason,
            order_id: d
                .order_id
                .map(|id| parse(&id, "movement order id"))
                .transpose()?,
            purchase_order_id: d
                .purchase_order_id
                .map(|id| parse(&id, "movement purchase order id"))
                .transpose()?,
            transfer_id: d
                .transfer_id
                .map(|id| parse(&id, "movement transfer id"))
                .transpose()?,
            unit_cost: d
                .unit_cost
                .map(|c| valid(Money::new(c), "movement unit cost"))
                .transpose()?,
            actor: parse(&d.actor, "movement actor")?,
            created_at: domain_time(d.created_at)?,
        })
    }
}
