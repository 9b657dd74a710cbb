//! Transfers and their lines.

use chrono::{DateTime, Utc};

use crate::ids::{LocationId, TenantId, TransferId, UserId, VariantId};
use crate::orders::models::LineRequest;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferStatus {
    Draft,
    Shipped,
    PartiallyReceived,
    Received,
    Cancelled,
}

impl TransferStatus {
    pub const ALL: [TransferStatus; 5] = [
        TransferStatus::Draft,
        TransferStatus::Shipped,
        TransferStatus::PartiallyReceived,
        TransferStatus::Received,
        TransferStatus::Cancelled,
    ];

    /// Statuses whose shipped-but-not-received units are in transit.
    pub const IN_TRANSIT: [TransferStatus; 2] =
        [TransferStatus::Shipped, TransferStatus::PartiallyReceived];

    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Draft => "DRAFT",
            TransferStatus::Shipped => "SHIPPED",
            TransferStatus::PartiallyReceived => "PARTIALLY_RECEIVED",
            TransferStatus::Received => "RECEIVED",
            TransferStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferLine {
    pub variant_id: VariantId,
    pub quantity: i64,
    pub received: i64,
}

impl TransferLine {
    /// Units shipped on this line and not yet received (0 before shipping).
    pub fn in_transit(&self, status: TransferStatus) -> i64 {
        if TransferStatus::IN_TRANSIT.contains(&status) {
            self.quantity - self.received
        } else {
            0
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub id: TransferId,
    pub tenant_id: TenantId,
    pub from_location_id: LocationId,
    pub to_location_id: LocationId,
    pub status: TransferStatus,
    /// One line per variant.
    pub lines: Vec<TransferLine>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub shipped_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version, incremented on every change.
    pub version: i64,
}

impl Transfer {
    /// Units in transit on the whole transfer.
    pub fn in_transit(&self) -> i64 {
        self.lines.iter().map(|l| l.in_transit(self.status)).sum()
    }
}

#[derive(Debug, Clone)]
pub struct NewTransfer {
    pub from_location_id: LocationId,
    pub to_location_id: LocationId,
    pub lines: Vec<LineRequest>,
}

/// A partial update of a DRAFT; `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct TransferPatch {
    pub from_location_id: Option<LocationId>,
    pub to_location_id: Option<LocationId>,
    pub lines: Option<Vec<LineRequest>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransferFilter {
    pub status: Option<TransferStatus>,
    pub from_location_id: Option<LocationId>,
    pub to_location_id: Option<LocationId>,
}
