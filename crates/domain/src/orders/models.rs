//! Orders and their state machine.
//!
//! ```text
//! PLACED ──fulfil──▶ FULFILLED ──return (some)──▶ PARTIALLY_RETURNED ──return (rest)──▶ RETURNED
//!    └──cancel──▶ CANCELLED            └──────────return (all)─────────────────────────▶ RETURNED
//! ```
//!
//! Placing an order commits its units (available ↓, committed ↑; no movement, on hand as it
//! was); fulfilling it writes the SALE movements (on hand ↓, committed ↓); cancelling it releases
//! the commitment (no movement). Orders placed before orders committed units took them from on
//! hand with a SALE when placed ([`Order::sold_at_placement`]): fulfilling one moves nothing and
//! cancelling one brings its units back with a RETURN, as it did then.

use chrono::{DateTime, Utc};

use crate::ids::{LocationId, OrderId, TenantId, UserId, VariantId};
use crate::stock::state::UnitState;
use crate::values::{EmailAddress, Money, Quantity, Sku, Text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Placed,
    Fulfilled,
    Cancelled,
    PartiallyReturned,
    Returned,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "PLACED",
            OrderStatus::Fulfilled => "FULFILLED",
            OrderStatus::Cancelled => "CANCELLED",
            OrderStatus::PartiallyReturned => "PARTIALLY_RETURNED",
            OrderStatus::Returned => "RETURNED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            OrderStatus::Placed,
            OrderStatus::Fulfilled,
            OrderStatus::Cancelled,
            OrderStatus::PartiallyReturned,
            OrderStatus::Returned,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub name: Text,
    pub email: Option<EmailAddress>,
}

/// One variant of an order; lines naming the same variant are merged when the order is placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub variant_id: VariantId,
    pub sku: Sku,
    pub quantity: i64,
    /// Captured from the variant when the order was placed.
    pub unit_price: Money,
    pub line_total: Money,
    pub returned: i64,
    /// Where the line's units were taken from; the quantities sum to `quantity`.
    pub allocations: Vec<Allocation>,
}

/// Units of a line taken from one location, and how many of them have come back since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub location_id: LocationId,
    pub quantity: i64,
    /// Units of this allocation returned (wherever they were put back).
    pub returned: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: OrderId,
    pub tenant_id: TenantId,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub customer: Option<Customer>,
    pub note: Option<Text>,
    /// The location the order asked to be served from; `None`: allocated across locations.
    pub location_id: Option<LocationId>,
    /// Whether the units left on hand with SALE movements when the order was placed, as every
    /// order placed before orders committed units did. `false` for every order placed now.
    pub sold_at_placement: bool,
    pub total: Money,
    pub placed_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, incremented on every change.
    pub version: i64,
}

/// One requested line of a new order or of a return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRequest {
    pub variant_id: VariantId,
    pub quantity: Quantity,
}

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub lines: Vec<LineRequest>,
    pub customer: Option<Customer>,
    pub note: Option<Text>,
    /// Serve every line from this location; `None`: allocate across active locations.
    pub location_id: Option<LocationId>,
}

#[derive(Debug, Clone)]
pub struct ReturnRequest {
    pub lines: Vec<LineRequest>,
    pub reason: Text,
    /// Where the units are put back; `None`: where they were taken from.
    pub location_id: Option<LocationId>,
    /// The state the units come back into: available, or straight into damaged or quality
    /// control (never safety stock, which is set aside deliberately by a move).
    pub state: UnitState,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}
