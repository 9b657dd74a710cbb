//! Suppliers and the purchase-order state machine.
//!
//! ```text
//! DRAFT ──submit──▶ ORDERED ──receive (some)──▶ PARTIALLY_RECEIVED ──receive (rest)──▶ RECEIVED
//!   └──cancel──▶ CANCELLED ◀──cancel──┘                 └──cancel──▶ CLOSED
//! ```

use chrono::{DateTime, Utc};

use crate::error::{DomainError, FieldErrors};
use crate::ids::{LocationId, PurchaseOrderId, SupplierId, TenantId, UserId, VariantId};
use crate::values::{EmailAddress, Money, Quantity, Text};

#[derive(Debug, Clone, PartialEq)]
pub struct Supplier {
    pub id: SupplierId,
    pub tenant_id: TenantId,
    pub name: Text,
    pub email: Option<EmailAddress>,
    pub phone: Option<Text>,
    pub lead_time_days: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Supplier {
    /// The version an `If-Match` names: see [`crate::precondition`].
    pub fn version(&self) -> crate::precondition::Version {
        crate::precondition::version_of(self.updated_at)
    }
}

#[derive(Debug, Clone)]
pub struct NewSupplier {
    pub name: Text,
    pub email: Option<EmailAddress>,
    pub phone: Option<Text>,
    pub lead_time_days: Option<i64>,
}

/// A partial update; `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct SupplierPatch {
    pub name: Option<Text>,
    pub email: Option<Option<EmailAddress>>,
    pub phone: Option<Option<Text>>,
    pub lead_time_days: Option<Option<i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PurchaseOrderStatus {
    Draft,
    Ordered,
    PartiallyReceived,
    Received,
    Cancelled,
    Closed,
}

impl PurchaseOrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseOrderStatus::Draft => "DRAFT",
            PurchaseOrderStatus::Ordered => "ORDERED",
            PurchaseOrderStatus::PartiallyReceived => "PARTIALLY_RECEIVED",
            PurchaseOrderStatus::Received => "RECEIVED",
            PurchaseOrderStatus::Cancelled => "CANCELLED",
            PurchaseOrderStatus::Closed => "CLOSED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            PurchaseOrderStatus::Draft,
            PurchaseOrderStatus::Ordered,
            PurchaseOrderStatus::PartiallyReceived,
            PurchaseOrderStatus::Received,
            PurchaseOrderStatus::Cancelled,
            PurchaseOrderStatus::Closed,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Statuses that keep a supplier from being deleted.
    pub const OPEN: [PurchaseOrderStatus; 3] = [
        PurchaseOrderStatus::Draft,
        PurchaseOrderStatus::Ordered,
        PurchaseOrderStatus::PartiallyReceived,
    ];

    /// Statuses whose outstanding quantities count as a variant's `incoming`.
    pub const INCOMING: [PurchaseOrderStatus; 2] = [
        PurchaseOrderStatus::Ordered,
        PurchaseOrderStatus::PartiallyReceived,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseOrderLine {
    pub variant_id: VariantId,
    pub quantity: i64,
    pub unit_cost: Money,
    pub received: i64,
}

impl PurchaseOrderLine {
    /// Units still to be received.
    pub fn outstanding(&self) -> i64 {
        self.quantity - self.received
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseOrder {
    pub id: PurchaseOrderId,
    pub tenant_id: TenantId,
    pub supplier_id: SupplierId,
    /// Where the goods are received: the level `incoming` counts at, the PURCHASE movements' location.
    pub location_id: LocationId,
    pub status: PurchaseOrderStatus,
    pub lines: Vec<PurchaseOrderLine>,
    pub expected_at: Option<DateTime<Utc>>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl PurchaseOrder {
    /// What the order costs in full: Σ unit cost × quantity over its lines, in minor units.
    ///
    /// Orders written now stay within [`crate::values::MAX_MONEY`] ([`check_costs`]), but one
    /// stored before that rule may not; summed in `i128` it is exact either way and reading it
    /// never fails.
    pub fn total_cost(&self) -> i128 {
        self.lines
            .iter()
            .map(|l| l.unit_cost.minor_units() as i128 * l.quantity as i128)
            .sum()
    }
}

/// Refused (422) when a line's unit cost × quantity (`lines[i].quantity`) or the sum over the
/// lines (`total`) would pass [`crate::values::MAX_MONEY`]: each PURCHASE received from such a
/// line would carry a cost the valuation cannot add up.
pub fn check_costs(lines: &[PurchaseLineRequest]) -> Result<(), DomainError> {
    let mut errors = FieldErrors::new();
    let mut total = Some(Money::ZERO);
    for (i, line) in lines.iter().enumerate() {
        let cost = errors.check(
            format!("lines[{i}].quantity"),
            line.unit_cost.checked_times(line.quantity.get()),
        );
        total = match (total, cost) {
            (Some(t), Some(c)) => errors.check("total", t.checked_plus(c)),
            _ => None,
        };
    }
    errors.finish()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseLineRequest {
    pub variant_id: VariantId,
    pub quantity: Quantity,
    pub unit_cost: Money,
}

#[derive(Debug, Clone)]
pub struct NewPurchaseOrder {
    pub supplier_id: SupplierId,
    /// The destination; the tenant's default location when `None`.
    pub location_id: Option<LocationId>,
    pub lines: Vec<PurchaseLineRequest>,
    pub expected_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct PurchaseOrderPatch {
    pub supplier_id: Option<SupplierId>,
    pub location_id: Option<LocationId>,
    pub lines: Option<Vec<PurchaseLineRequest>>,
    pub expected_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PurchaseOrderFilter {
    pub status: Option<PurchaseOrderStatus>,
    pub supplier_id: Option<SupplierId>,
}
