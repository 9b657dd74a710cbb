//! Products group variants; a variant is one sellable SKU with its own stock.

use chrono::{DateTime, Utc};

use crate::ids::{LocationId, ProductId, TenantId, VariantId};
use crate::stock::state::StockState;
use crate::values::{Attributes, Money, Sku, StockLevel, Text};

#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: ProductId,
    pub tenant_id: TenantId,
    pub name: Text,
    pub description: Option<Text>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// The version an `If-Match` names: see [`crate::precondition`].
    pub fn version(&self) -> crate::precondition::Version {
        crate::precondition::version_of(self.updated_at)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub id: VariantId,
    pub tenant_id: TenantId,
    pub product_id: ProductId,
    pub sku: Sku,
    pub attributes: Attributes,
    pub price: Money,
    pub reorder_level: StockLevel,
    /// Available in total: `state.available()`, what a new order may take. Set with `state` by
    /// [`Variant::with_levels`].
    pub stock: i64,
    /// The total over the variant's levels, by state; changed only through the ledger port.
    pub state: StockState,
    /// Units on open purchase orders (ORDERED or PARTIALLY_RECEIVED): Σ (ordered − received).
    /// Computed by the store on read; ignored on write.
    pub incoming: i64,
    /// Stock per location: every location where the variant has ever had stock or has units
    /// incoming, ordered by location id. Read by the store; ignored on write.
    pub levels: Vec<VariantLevel>,
    /// Units shipped on transfers and not yet received: counted at neither end. Kept by the
    /// ledger from each change's `in_transit_delta`; ignored on write.
    pub in_transit: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Variant {
    /// The version an `If-Match` names: the catalog fields' (see [`crate::precondition`]); a
    /// stock change leaves it as it is.
    pub fn version(&self) -> crate::precondition::Version {
        crate::precondition::version_of(self.updated_at)
    }

    pub fn is_low(&self) -> bool {
        self.stock <= self.reorder_level.get()
    }

    /// The units available at `location` (0 where the variant has no level).
    pub fn stock_at(&self, location: &LocationId) -> i64 {
        self.state_at(location).available()
    }

    /// The level at `location` by state (all 0 where the variant has no level).
    pub fn state_at(&self, location: &LocationId) -> StockState {
        self.levels
            .iter()
            .find(|l| l.location_id == *location)
            .map_or(StockState::default(), |l| l.state)
    }

    /// This variant with `levels` (by location id) and the totals derived from them: what a
    /// store reads.
    pub fn with_levels(mut self, levels: Vec<VariantLevel>) -> Self {
        self.state = StockState::total(levels.iter().map(|l| &l.state));
        self.stock = self.state.available();
        self.incoming = levels.iter().map(|l| l.incoming).sum();
        self.levels = levels;
        self
    }
}

/// One variant's stock at one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantLevel {
    pub location_id: LocationId,
    /// Available here: `state.available()`.
    pub stock: i64,
    pub state: StockState,
    /// Units on open purchase orders bound for this location.
    pub incoming: i64,
}

impl VariantLevel {
    pub fn new(location_id: LocationId, state: StockState, incoming: i64) -> Self {
        Self {
            location_id,
            stock: state.available(),
            state,
            incoming,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct VariantFilter {
    pub product_id: Option<ProductId>,
    pub sku: Option<Sku>,
    /// Only variants with stock ≤ reorder level.
    pub low_stock: bool,
}

#[derive(Debug, Clone)]
pub struct NewProduct {
    pub name: Text,
    pub description: Option<Text>,
}

/// A partial update; `None` leaves the field as it is. `description: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ProductPatch {
    pub name: Option<Text>,
    pub description: Option<Option<Text>>,
}

#[derive(Debug, Clone)]
pub struct NewVariant {
    pub product_id: ProductId,
    pub sku: Sku,
    pub attributes: Attributes,
    pub price: Money,
    pub reorder_level: StockLevel,
}

#[derive(Debug, Clone, Default)]
pub struct VariantPatch {
    pub product_id: Option<ProductId>,
    pub sku: Option<Sku>,
    pub attributes: Option<Attributes>,
    pub price: Option<Money>,
    pub reorder_level: Option<StockLevel>,
}
