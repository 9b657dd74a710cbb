//! What the reports answer, and the aggregated rows the store returns for them.

use chrono::{DateTime, Utc};

use crate::catalog::models::Variant;
use crate::ids::{LocationId, ProductId, VariantId};
use crate::stock::models::MovementKind;
use crate::stock::state::Unavailable;

/// Which movements a series counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesFilter {
    pub variant_id: Option<VariantId>,
    /// Movements of this product's current variants.
    pub product_id: Option<ProductId>,
    /// Movements at this location.
    pub location_id: Option<LocationId>,
}

/// Store row: movements of `kind` in bucket `[b[index], b[index+1])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketCount {
    pub index: usize,
    pub kind: MovementKind,
    pub count: i64,
    /// Σ signed quantity.
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindTotals {
    pub kind: MovementKind,
    pub count: i64,
    pub quantity: i64,
}

/// One bucket of a series, with every movement kind (zeros included).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesBucket {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub totals: Vec<KindTotals>,
}

/// Store row: a low variant and the units it sold since the window start. Asked about one
/// location, `stock`, `incoming` and `units_sold` are that location's and the variant is low
/// when its level there is at or below its reorder level; asked about none, they are the
/// variant's totals.
#[derive(Debug, Clone, PartialEq)]
pub struct LowStockRow {
    pub variant: Variant,
    pub stock: i64,
    pub incoming: i64,
    /// Σ −quantity of SALE movements in the window.
    pub units_sold: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LowStockLine {
    pub variant: Variant,
    /// The stock judged low: the level's, or the variant's total (see [`LowStockRow`]).
    pub stock: i64,
    pub incoming: i64,
    /// Average units sold per day over the last [`super::service::SALES_WINDOW_DAYS`] days.
    pub average_daily_sales: f64,
    /// stock ÷ average daily sales; `None` when nothing sells.
    pub days_of_cover: Option<f64>,
    /// Enough to cover the window's demand plus the reorder level, minus what is on hand and
    /// incoming; never negative.
    pub suggested_quantity: i64,
}

/// Store row: total movement of a variant in a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoverRow {
    pub variant_id: VariantId,
    pub sku: String,
    /// Σ |quantity|.
    pub quantity: i64,
    pub movements: i64,
}

/// Store row: what valuation needs of a variant. `stock` is the level's when the report is asked
/// about one location; the purchases are always every location's, so a unit is worth the same
/// wherever it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuationRow {
    pub variant_id: VariantId,
    pub sku: String,
    pub stock: i64,
    /// Σ quantity of PURCHASE movements that carry a unit cost.
    pub purchased_units: i64,
    /// Σ quantity × unit cost of those movements, minor units. Wider than one amount of money:
    /// a variant bought often at the largest cost adds up past `i64`, so stores sum it without
    /// overflow (in `i128`, from Σ quantity per unit cost).
    pub purchased_cost: i128,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuationLine {
    pub variant_id: VariantId,
    pub sku: String,
    pub stock: i64,
    /// Weighted average unit cost, minor units, rounded half up; `None` without purchases.
    pub average_unit_cost: Option<i64>,
    /// stock × purchased_cost ÷ purchased_units, rounded half up once (not via the rounded
    /// average), minor units; 0 without purchases or stock. `i128`: stock × cost passes `i64`
    /// long before either does, and this product is exact for every `i64` stock and cost.
    pub value: i128,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valuation {
    pub lines: Vec<ValuationLine>,
    /// Σ value, minor units (saturating at `i128::MAX`, which no real stock reaches).
    pub total: i128,
}

/// What the ledger's movements up to a moment add up to: on hand, and the units of each
/// unavailable state (moves, adjustments and returns record how each moved).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replayed {
    pub on_hand: i64,
    pub unavailable: Unavailable,
}

/// A variant's stock at a moment, replayed from the ledger. Committed and reserved units are
/// claims of orders and holds, not movements, so they are not replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockAt {
    pub at: DateTime<Utc>,
    /// On hand then.
    pub stock: i64,
    /// Of those, the units not for sale then, by state.
    pub unavailable: Unavailable,
}

/// How many variants the top-movers report ranks: 1 ..= [`MoversLimit::MAX`], 10 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoversLimit(u32);

impl MoversLimit {
    pub const MAX: u32 = 100;
    pub const DEFAULT: MoversLimit = MoversLimit(10);

    pub fn new(n: u32) -> Result<Self, crate::values::ValueError> {
        if (1..=Self::MAX).contains(&n) {
            Ok(Self(n))
        } else {
            Err(crate::values::ValueError(format!(
                "must be between 1 and {}",
                Self::MAX
            )))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for MoversLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}
