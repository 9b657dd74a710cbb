//! Movements and the atomic ledger write.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::{Shortage, StoreError};
use crate::idempotency::StoredResponse;
use crate::ids::{
    LocationId, MovementId, OrderId, PurchaseOrderId, ReservationId, TenantId, TransferId, UserId,
    VariantId,
};
use crate::orders::models::Order;
use crate::purchasing::models::PurchaseOrder;
use crate::reservations::models::Reservation;
use crate::stock::state::{Claims, StockState, Unavailable, UnitState};
use crate::transfers::models::Transfer;
use crate::values::{Money, Sku};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MovementKind {
    Purchase,
    Sale,
    Adjustment,
    Return,
    /// Units leaving a location on a transfer; they are in transit until received.
    TransferOut,
    /// Units of a transfer arriving at its destination.
    TransferIn,
    /// Units moved between states at one level (available, damaged, quality control, safety
    /// stock): on hand unchanged.
    Move,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Purchase => "PURCHASE",
            MovementKind::Sale => "SALE",
            MovementKind::Adjustment => "ADJUSTMENT",
            MovementKind::Return => "RETURN",
            MovementKind::TransferOut => "TRANSFER_OUT",
            MovementKind::TransferIn => "TRANSFER_IN",
            MovementKind::Move => "MOVE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PURCHASE" => Some(MovementKind::Purchase),
            "SALE" => Some(MovementKind::Sale),
            "ADJUSTMENT" => Some(MovementKind::Adjustment),
            "RETURN" => Some(MovementKind::Return),
            "TRANSFER_OUT" => Some(MovementKind::TransferOut),
            "TRANSFER_IN" => Some(MovementKind::TransferIn),
            "MOVE" => Some(MovementKind::Move),
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
    /// The level this movement changed is (`variant_id`, `location_id`).
    pub location_id: LocationId,
    pub kind: MovementKind,
    /// How on hand moved. Signed: negative for units leaving; 0 for a MOVE.
    pub quantity: i64,
    /// How the level's unavailable states moved with it: a MOVE's units between states, or the
    /// state an adjustment or a return took units from or put them into. Σ of these over a
    /// level's movements is what the level holds in each state.
    pub unavailable: Unavailable,
    /// The level's on hand after this movement (the variant's total is the sum of its levels).
    pub stock_after: i64,
    pub reason: Option<String>,
    pub order_id: Option<OrderId>,
    pub purchase_order_id: Option<PurchaseOrderId>,
    pub transfer_id: Option<TransferId>,
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
    /// The change applies to the level (`variant_id`, `location_id`).
    pub location_id: LocationId,
    pub kind: MovementKind,
    /// How the level's on hand moves: the movement's quantity (no movement when 0).
    pub delta: i64,
    /// How the level's claimed units move ([`crate::stock::state`]); `delta` and `claims` are
    /// not both zero. The write is refused if any number of the level would go below zero, or
    /// its available units would while the change takes from them ([`Self::requirements`]).
    pub claims: Claims,
    /// The reservation hold this change places, takes, drops or extends at the level.
    pub hold: Option<HoldChange>,
    /// Compare-and-set: refused unless the level's current on hand equals this.
    pub expected_stock: Option<i64>,
    /// How the variant's units in transit change with this one: `+quantity` for a TRANSFER_OUT
    /// (the units left and are on their way), `−quantity` for a TRANSFER_IN, 0 otherwise. The
    /// store adds it to the variant's `in_transit` in the same write.
    pub in_transit_delta: i64,
    pub reason: Option<String>,
    pub order_id: Option<OrderId>,
    pub purchase_order_id: Option<PurchaseOrderId>,
    pub transfer_id: Option<TransferId>,
    pub unit_cost: Option<Money>,
    pub actor: UserId,
    pub at: DateTime<Utc>,
}

impl StockChange {
    /// A change of `delta` units with no references; the constructors below name what it is.
    fn new(level: Level, kind: MovementKind, delta: i64, actor: UserId, at: DateTime<Utc>) -> Self {
        Self {
            movement_id: MovementId::new(),
            variant_id: level.variant_id,
            location_id: level.location_id,
            kind,
            delta,
            claims: Claims::default(),
            hold: None,
            expected_stock: None,
            in_transit_delta: 0,
            reason: None,
            order_id: None,
            purchase_order_id: None,
            transfer_id: None,
            unit_cost: None,
            actor,
            at,
        }
    }

    /// A change of an order's units: `on_hand` and `committed` are how the level's on hand and
    /// committed units move.
    fn of_order(
        level: Level,
        on_hand: i64,
        committed: i64,
        order_id: OrderId,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            order_id: Some(order_id),
            claims: Claims::committed(committed),
            ..Self::new(level, MovementKind::Sale, on_hand, actor, at)
        }
    }

    /// Units claimed for a placed order: committed, taken from available, on hand unchanged (no
    /// movement).
    pub fn commit(
        level: Level,
        quantity: i64,
        order_id: OrderId,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self::of_order(level, 0, quantity, order_id, actor, at)
    }

    /// An order's committed units released back to available when it is cancelled (no
    /// movement).
    pub fn release(
        level: Level,
        quantity: i64,
        order_id: OrderId,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self::of_order(level, 0, -quantity, order_id, actor, at)
    }

    /// An order's committed units leaving when it is fulfilled: a SALE of `quantity` (on hand ↓,
    /// committed ↓, available unchanged).
    pub fn sale(
        level: Level,
        quantity: i64,
        order_id: OrderId,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self::of_order(level, -quantity, -quantity, order_id, actor, at)
    }

    /// Units coming back from an order (a cancellation or a customer return) into `state`
    /// (available, or straight into damaged or quality control): a RETURN.
    pub fn order_return(
        level: Level,
        quantity: i64,
        state: UnitState,
        order_id: OrderId,
        reason: String,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            order_id: Some(order_id),
            reason: Some(reason),
            claims: Claims {
                unavailable: Unavailable::of(state, quantity),
                ..Claims::default()
            },
            ..Self::new(level, MovementKind::Return, quantity, actor, at)
        }
    }

    /// Units received on a purchase order, at the line's unit cost: a PURCHASE.
    pub fn purchase(
        level: Level,
        quantity: i64,
        purchase_order_id: PurchaseOrderId,
        unit_cost: Option<Money>,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            purchase_order_id: Some(purchase_order_id),
            unit_cost,
            ..Self::new(level, MovementKind::Purchase, quantity, actor, at)
        }
    }

    /// A manual correction of `delta` units in `state` (on hand moves with it, so writing off
    /// damaged units takes them from on hand and from damaged), optionally compare-and-set on
    /// `expected_stock`.
    pub fn adjustment(
        level: Level,
        delta: i64,
        state: UnitState,
        expected_stock: Option<i64>,
        reason: String,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            expected_stock,
            reason: Some(reason),
            claims: Claims {
                unavailable: Unavailable::of(state, delta),
                ..Claims::default()
            },
            ..Self::new(level, MovementKind::Adjustment, delta, actor, at)
        }
    }

    /// `quantity` units moved from one state to another at the level: a MOVE, on hand unchanged.
    /// `from` and `to` differ.
    pub fn state_move(
        level: Level,
        from: UnitState,
        to: UnitState,
        quantity: i64,
        reason: String,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            reason: Some(reason),
            claims: Claims {
                unavailable: Unavailable::of(to, quantity).minus(&Unavailable::of(from, quantity)),
                ..Claims::default()
            },
            ..Self::new(level, MovementKind::Move, 0, actor, at)
        }
    }

    /// A hold of `quantity` units for a reservation, live until `expires_at`: reserved ↑,
    /// available ↓, no movement.
    pub fn place_hold(
        level: Level,
        quantity: i64,
        reservation_id: ReservationId,
        expires_at: DateTime<Utc>,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            claims: Claims {
                reserved: quantity,
                ..Claims::default()
            },
            hold: Some(HoldChange::Place {
                reservation_id,
                expires_at,
            }),
            ..Self::new(level, MovementKind::Sale, 0, actor, at)
        }
    }

    /// A live hold of `quantity` units confirmed into an order: reserved ↓, committed ↑, no
    /// movement. Refused (`HoldGone`) unless the hold is still live when written.
    pub fn take_hold(
        level: Level,
        quantity: i64,
        reservation_id: ReservationId,
        order_id: OrderId,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            order_id: Some(order_id),
            claims: Claims {
                committed: quantity,
                reserved: -quantity,
                ..Claims::default()
            },
            hold: Some(HoldChange::Take { reservation_id }),
            ..Self::new(level, MovementKind::Sale, 0, actor, at)
        }
    }

    /// A hold removed when its reservation is released (`live`: its `quantity` units go back to
    /// available) or has expired (it counted for nothing already). Requires nothing.
    pub fn drop_hold(
        level: Level,
        quantity: i64,
        live: bool,
        reservation_id: ReservationId,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            claims: Claims {
                reserved: if live { -quantity } else { 0 },
                ..Claims::default()
            },
            hold: Some(HoldChange::Drop { reservation_id }),
            ..Self::new(level, MovementKind::Sale, 0, actor, at)
        }
    }

    /// A live hold's expiry moved to `expires_at`; no number moves. Refused (`HoldGone`) unless
    /// the hold is still live when written.
    pub fn extend_hold(
        level: Level,
        reservation_id: ReservationId,
        expires_at: DateTime<Utc>,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            hold: Some(HoldChange::Extend {
                reservation_id,
                expires_at,
            }),
            ..Self::new(level, MovementKind::Sale, 0, actor, at)
        }
    }

    /// Whether applying this change records a movement: on hand or an unavailable state moves.
    pub fn records_movement(&self) -> bool {
        self.delta != 0 || !self.claims.unavailable.is_zero()
    }
}

impl StockChange {
    /// Units of a transfer leaving its source: a TRANSFER_OUT of `quantity`.
    pub fn transfer_out(
        level: Level,
        quantity: i64,
        transfer_id: TransferId,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            transfer_id: Some(transfer_id),
            in_transit_delta: quantity,
            ..Self::new(level, MovementKind::TransferOut, -quantity, actor, at)
        }
    }

    /// Units of a transfer arriving at its destination: a TRANSFER_IN of `quantity`.
    pub fn transfer_in(
        level: Level,
        quantity: i64,
        transfer_id: TransferId,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            transfer_id: Some(transfer_id),
            in_transit_delta: -quantity,
            ..Self::new(level, MovementKind::TransferIn, quantity, actor, at)
        }
    }

    /// The level this change applies to.
    pub fn level(&self) -> Level {
        Level::new(self.variant_id, self.location_id)
    }
}

/// What a change does to a reservation's hold at its level. A store keeps each hold — its
/// reservation, level, units and expiry — and counts it in the level's `reserved` only while it
/// is live: until the instant `expires_at` passes, judged by the clock at the read or the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldChange {
    /// Places the reservation's hold of `claims.reserved` units at the level.
    Place {
        reservation_id: ReservationId,
        expires_at: DateTime<Utc>,
    },
    /// Removes the hold, which MUST be at the level and live at the instant of the write, else
    /// the write is refused with `HoldGone`.
    Take { reservation_id: ReservationId },
    /// Removes the hold if it is there (live or not); requires nothing.
    Drop { reservation_id: ReservationId },
    /// Moves the hold's expiry; the hold MUST be live at the instant of the write, else
    /// `HoldGone`.
    Extend {
        reservation_id: ReservationId,
        expires_at: DateTime<Utc>,
    },
}

impl HoldChange {
    pub fn reservation_id(&self) -> ReservationId {
        match self {
            HoldChange::Place { reservation_id, .. }
            | HoldChange::Take { reservation_id }
            | HoldChange::Drop { reservation_id }
            | HoldChange::Extend { reservation_id, .. } => *reservation_id,
        }
    }
}

/// One variant at one location: where stock is kept and what a lock key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Level {
    pub variant_id: VariantId,
    pub location_id: LocationId,
}

impl Level {
    pub fn new(variant_id: VariantId, location_id: LocationId) -> Self {
        Self {
            variant_id,
            location_id,
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
    /// Insert the purchase order. `Store(NotFound)` (writing nothing) if the tenant has no such
    /// supplier — checked inside the write, so a supplier deleted at the same moment never keeps
    /// a purchase order; the same holds for an update naming another supplier.
    InsertPurchaseOrder(PurchaseOrder),
    /// Replace the purchase order if its stored `version` equals `expected_version`.
    UpdatePurchaseOrder {
        purchase_order: PurchaseOrder,
        expected_version: i64,
    },
    InsertTransfer(Transfer),
    /// Replace the transfer if its stored `version` equals `expected_version`.
    UpdateTransfer {
        transfer: Transfer,
        expected_version: i64,
    },
    InsertReservation(Reservation),
    /// Replace the reservation if its stored `version` equals `expected_version`.
    UpdateReservation {
        reservation: Reservation,
        expected_version: i64,
    },
    /// A reservation confirmed into an order: replace the reservation (guarded by its version
    /// like `UpdateReservation`) and insert the order, together.
    ConfirmReservation {
        reservation: Reservation,
        expected_version: i64,
        order: Order,
    },
}

/// Renders the response an idempotency key will replay, from the committed result.
pub type RenderCommitted = Arc<dyn Fn(&Committed) -> StoredResponse + Send + Sync>;

/// The idempotency record to store in the same transaction as a ledger write.
#[derive(Clone)]
pub struct LedgerIdempotency {
    /// Who sent the key; the record is unique per (tenant, user, key).
    pub user_id: UserId,
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
    /// At most one change per level, in ascending (variant id, location id) order.
    pub changes: Vec<StockChange>,
    pub document: DocumentWrite,
    pub idempotency: Option<LedgerIdempotency>,
}

/// A change as applied: its movement when on hand moved, the level before and after, and what
/// events need of the variant.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedChange {
    pub level: Level,
    /// Recorded when the change moved on hand (its `stock_after` is the level's on hand); a
    /// change of claims alone records none.
    pub movement: Option<StockMovement>,
    pub sku: Sku,
    pub reorder_level: i64,
    /// The level's states before the change.
    pub before: StockState,
    /// The level's states after the change.
    pub after: StockState,
    /// The variant's total (Σ of its levels) after the change.
    pub total_after: StockState,
    /// The order the change was for, when there is one.
    pub order_id: Option<OrderId>,
    /// The reservation whose hold the change placed, took, dropped or extended.
    pub reservation_id: Option<ReservationId>,
    pub at: DateTime<Utc>,
}

/// The result of a committed [`LedgerWrite`], movements in the order of its changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Committed {
    pub applied: Vec<AppliedChange>,
}

/// Why a ledger write was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Every change that would take a level below zero, each with what was asked and what there is.
    #[error("not enough stock")]
    Insufficient(Vec<Shortage>),
    #[error("expected stock {expected} but found {actual}")]
    StockMismatch {
        variant_id: VariantId,
        location_id: LocationId,
        expected: i64,
        actual: i64,
    },
    /// A change names a variant that does not exist in this tenant.
    #[error("variant {0} not found")]
    VariantMissing(VariantId),
    /// A change takes or extends a hold that is not at its level or is no longer live: the
    /// reservation expired (or was released or confirmed) before the write.
    #[error("the hold of reservation {0} is gone")]
    HoldGone(ReservationId),
    /// `VersionConflict`, `IdempotencyKeyTaken`, `Unavailable` or `Other`.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MovementFilter {
    pub variant_id: Option<VariantId>,
    pub location_id: Option<LocationId>,
    pub kind: Option<MovementKind>,
    /// Inclusive lower bound on `created_at`.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `created_at`.
    pub to: Option<DateTime<Utc>>,
}

/// Which of a level's numbers the audit compares with what it must equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AuditedState {
    /// On hand: a level's must equal Σ of its movements.
    OnHand,
    /// Committed: a level's must equal Σ of the open allocations of its placed orders.
    Committed,
    /// Reserved: a level's live holds must equal Σ of the allocations of its live ACTIVE
    /// reservations.
    Reserved,
    /// Each unavailable state: a level's must equal Σ of its movements' change of that state.
    Damaged,
    QualityControl,
    SafetyStock,
}

impl AuditedState {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditedState::OnHand => "onHand",
            AuditedState::Committed => "committed",
            AuditedState::Reserved => "reserved",
            AuditedState::Damaged => "damaged",
            AuditedState::QualityControl => "qualityControl",
            AuditedState::SafetyStock => "safetyStock",
        }
    }
}

/// A stored number that differs from what it must equal: a level's on hand from the sum of its
/// movements, or its committed units from the sum of its orders' open allocations
/// (`location_id` set), or a variant's stored total from the sum of its levels (`location_id`
/// absent; `ledger_sum` is then Σ levels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub variant_id: VariantId,
    pub location_id: Option<LocationId>,
    pub state: AuditedState,
    pub sku: String,
    /// The number as stored.
    pub stock: i64,
    /// What it must equal.
    pub ledger_sum: i64,
}

impl Drift {
    /// The order an audit report lists drift in: by variant, its levels by location (each
    /// level's states in [`AuditedState`] order), then its totals.
    pub fn report_order(&self) -> (VariantId, bool, Option<LocationId>, AuditedState) {
        (
            self.variant_id,
            self.location_id.is_none(),
            self.location_id,
            self.state,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub variants_checked: u64,
    pub levels_checked: u64,
    /// In [`Drift::report_order`].
    pub drift: Vec<Drift>,
}

/// The result of an adjustment: its movement, the variant's new total and the level's stock.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjusted {
    pub movement: StockMovement,
    /// The variant's total after the adjustment.
    pub stock: i64,
    /// The adjusted level's stock after it (the movement's `stock_after`).
    pub level_stock: i64,
}
