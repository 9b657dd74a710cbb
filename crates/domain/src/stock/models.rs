//! Movements and the atomic ledger write.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::{Shortage, StoreError};
use crate::idempotency::StoredResponse;
use crate::ids::{MovementId, OrderId, PurchaseOrderId, TenantId, UserId, VariantId};
use crate::orders::models::Order;
use crate::purchasing::models::PurchaseOrder;
use crate::values::{Money, Sku};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MovementKind {
    Purchase,
    Sale,
    Adjustment,
    Return,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Purchase => "PURCHASE",
            MovementKind::Sale => "SALE",
            MovementKind::Adjustment => "ADJUSTMENT",
            MovementKind::Return => "RETURN",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PURCHASE" => Some(MovementKind::Purchase),
            "SALE" => Some(MovementKind::Sale),
            "ADJUSTMENT" => Some(MovementKind::Adjustment),
            "RETURN" => Some(MovementKind::Return),
            _ => None,
        }
    }
}

/// One line of the append-only ledger. Never updated or deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct StockMovement {
    pub id: MovementId,
    pub tenant_id: TenantId,
    pub variant_id: VariantId,
    pub kind: MovementKind,
    /// Signed: negative for units leaving.
    pub quantity: i64,
    pub stock_after: i64,
    pub reason: Option<String>,
    pub order_id: Option<OrderId>,
    pub purchase_order_id: Option<PurchaseOrderId>,
    /// Cost per unit of a PURCHASE, for valuation.
    pub unit_cost: Option<Money>,
    pub actor: UserId,
    pub created_at: DateTime<Utc>,
}

/// One conditional stock change to apply inside a [`LedgerWrite`].
#[derive(Debug, Clone, PartialEq)]
pub struct StockChange {
    pub movement_id: MovementId,
    pub variant_id: VariantId,
    pub kind: MovementKind,
    /// Non-zero. The write is refused if `stock + delta < 0`.
    pub delta: i64,
    /// Compare-and-set: refused unless the current stock equals this.
    pub expected_stock: Option<i64>,
    pub reason: Option<String>,
    pub order_id: Option<OrderId>,
    pub purchase_order_id: Option<PurchaseOrderId>,
    pub unit_cost: Option<Money>,
    pub actor: UserId,
    pub at: DateTime<Utc>,
}

impl StockChange {
    /// A change of `delta` units with no references; the constructors below name what it is.
    fn new(
        variant_id: VariantId,
        kind: MovementKind,
        delta: i64,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            movement_id: MovementId::new(),
            variant_id,
            kind,
            delta,
            expected_stock: None,
            reason: None,
            order_id: None,
            purchase_order_id: None,
            unit_cost: None,
            actor,
            at,
        }
    }

    /// Units leaving for an order: a SALE of `quantity`.
    pub fn sale(
        variant_id: VariantId,
        quantity: i64,
        order_id: OrderId,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            order_id: Some(order_id),
            ..Self::new(variant_id, MovementKind::Sale, -quantity, actor, at)
        }
    }

    /// Units coming back from an order (a cancellation or a customer return): a RETURN.
    pub fn order_return(
        variant_id: VariantId,
        quantity: i64,
        order_id: OrderId,
        reason: String,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            order_id: Some(order_id),
            reason: Some(reason),
            ..Self::new(variant_id, MovementKind::Return, quantity, actor, at)
        }
    }

    /// Units received on a purchase order, at the line's unit cost: a PURCHASE.
    pub fn purchase(
        variant_id: VariantId,
        quantity: i64,
        purchase_order_id: PurchaseOrderId,
        unit_cost: Option<Money>,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            purchase_order_id: Some(purchase_order_id),
            unit_cost,
            ..Self::new(variant_id, MovementKind::Purchase, quantity, actor, at)
        }
    }

    /// A manual correction of `delta`, optionally compare-and-set on `expected_stock`.
    pub fn adjustment(
        variant_id: VariantId,
        delta: i64,
        expected_stock: Option<i64>,
        reason: String,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            expected_stock,
            reason: Some(reason),
            ..Self::new(variant_id, MovementKind::Adjustment, delta, actor, at)
        }
    }
}

/// The document written together with the stock changes.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentWrite {
    None,
    InsertOrder(Order),
    /// Replace the order if its stored `version` equals `expected_version`, else `VersionConflict`.
    UpdateOrder {
        order: Order,
        expected_version: i64,
    },
    InsertPurchaseOrder(PurchaseOrder),
    /// Replace the purchase order if its stored `version` equals `expected_version`.
    UpdatePurchaseOrder {
        purchase_order: PurchaseOrder,
        expected_version: i64,
    },
}

/// Renders the response an idempotency key will replay, from the committed result.
pub type RenderCommitted = Arc<dyn Fn(&Committed) -> StoredResponse + Send + Sync>;

/// The idempotency record to store in the same transaction as a ledger write.
#[derive(Clone)]
pub struct LedgerIdempotency {
    pub key: String,
    pub fingerprint: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub render: RenderCommitted,
}

impl std::fmt::Debug for LedgerIdempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerIdempotency")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Everything one use case writes: applied all together or not at all.
#[derive(Debug, Clone)]
pub struct LedgerWrite {
    /// At most one change per variant, in ascending variant-id order.
    pub changes: Vec<StockChange>,
    pub document: DocumentWrite,
    pub idempotency: Option<LedgerIdempotency>,
}

/// A change as applied: its movement (with `stock_after`) and what events need of the variant.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedChange {
    pub movement: StockMovement,
    pub sku: Sku,
    pub reorder_level: i64,
    pub stock_before: i64,
}

/// The result of a committed [`LedgerWrite`], movements in the order of its changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Committed {
    pub applied: Vec<AppliedChange>,
}

/// Why a ledger write was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Every change that would take stock below zero, each with what was asked and what there is.
    #[error("not enough stock")]
    Insufficient(Vec<Shortage>),
    #[error("expected stock {expected} but found {actual}")]
    StockMismatch {
        variant_id: VariantId,
        expected: i64,
        actual: i64,
    },
    /// A change names a variant that does not exist in this tenant.
    #[error("variant {0} not found")]
    VariantMissing(VariantId),
    /// `VersionConflict`, `IdempotencyKeyTaken`, `Unavailable` or `Other`.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MovementFilter {
    pub variant_id: Option<VariantId>,
    pub kind: Option<MovementKind>,
    /// Inclusive lower bound on `created_at`.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `created_at`.
    pub to: Option<DateTime<Utc>>,
}

/// A variant whose stock differs from the sum of its movements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub variant_id: VariantId,
    pub sku: String,
    pub stock: i64,
    pub ledger_sum: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub variants_checked: u64,
    pub drift: Vec<Drift>,
}

/// The result of an adjustment: its movement and the new stock.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjusted {
    pub movement: StockMovement,
    pub stock: i64,
}
