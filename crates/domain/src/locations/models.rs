//! Locations and the stock levels they hold.

use chrono::{DateTime, Utc};

use crate::ids::{LocationId, TenantId, VariantId};
use crate::stock::state::StockState;
use crate::values::{LocationCode, LocationPriority, Sku, Text};

/// The name and code of the location every tenant starts with.
pub const DEFAULT_LOCATION_NAME: &str = "Main";
pub const DEFAULT_LOCATION_CODE: &str = "MAIN";

#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub id: LocationId,
    pub tenant_id: TenantId,
    pub name: Text,
    pub code: LocationCode,
    /// Exactly one location of a tenant is the default.
    pub is_default: bool,
    pub active: bool,
    /// Allocation order after the default location: lower first, ties by code.
    pub priority: LocationPriority,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Location {
    /// The default location of a new tenant.
    pub fn first_of(tenant: TenantId, now: DateTime<Utc>) -> Self {
        Self {
            id: LocationId::new(),
            tenant_id: tenant,
            name: Text::name(DEFAULT_LOCATION_NAME).expect("the default name is valid"),
            code: LocationCode::new(DEFAULT_LOCATION_CODE).expect("the default code is valid"),
            is_default: true,
            active: true,
            priority: LocationPriority::new(0).expect("0 is a valid priority"),
            created_at: now,
            updated_at: now,
        }
    }
}

impl Location {
    /// The version an `If-Match` names: see [`crate::precondition`]. Becoming or ceasing to be
    /// the default moves it too.
    pub fn version(&self) -> crate::precondition::Version {
        crate::precondition::version_of(self.updated_at)
    }
}

/// Orders `locations` the way an order naming no location draws on them: the default first,
/// then by priority (lower first), then by code. Inactive locations are left out.
pub fn allocation_order(locations: &[Location]) -> Vec<&Location> {
    let mut active: Vec<&Location> = locations.iter().filter(|l| l.active).collect();
    active.sort_by(|a, b| {
        b.is_default
            .cmp(&a.is_default)
            .then(a.priority.cmp(&b.priority))
            .then(a.code.cmp(&b.code))
    });
    active
}

#[derive(Debug, Clone)]
pub struct NewLocation {
    pub name: Text,
    pub code: LocationCode,
    pub priority: Option<LocationPriority>,
}

/// A partial update; `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct LocationPatch {
    pub name: Option<Text>,
    pub active: Option<bool>,
    /// Only `true` is accepted: a location stops being the default when another becomes it.
    pub make_default: bool,
    pub priority: Option<LocationPriority>,
}

/// One variant's stock at one location, as listed by the location.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationLevel {
    pub variant_id: VariantId,
    pub sku: Sku,
    /// Available at this location: `state.available()`.
    pub stock: i64,
    /// The level by state.
    pub state: StockState,
    /// Units on open purchase orders bound for this location.
    pub incoming: i64,
    /// The variant's reorder level, which `low_stock` compares with this level's stock.
    pub reorder_level: i64,
}

impl LocationLevel {
    /// A level as a store reads it; `stock` is derived from `state`.
    pub fn new(
        variant_id: VariantId,
        sku: Sku,
        state: StockState,
        incoming: i64,
        reorder_level: i64,
    ) -> Self {
        Self {
            variant_id,
            sku,
            stock: state.available(),
            state,
            incoming,
            reorder_level,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LevelFilter {
    /// Only levels whose available units are at or below the variant's reorder level.
    pub low_stock: bool,
}

/// What a location still holds or expects, which keeps it from being deactivated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Σ on hand of its levels (committed units are still physically there).
    pub units: i64,
    /// Units shipped on transfers to it and not yet received.
    pub in_transit_to: i64,
    /// Purchase orders still open (DRAFT, ORDERED, PARTIALLY_RECEIVED) bound for it.
    pub open_purchase_orders: i64,
    /// Transfers in DRAFT from or to it.
    pub draft_transfers: i64,
}

impl Holdings {
    pub fn is_empty(&self) -> bool {
        *self == Holdings::default()
    }
}
