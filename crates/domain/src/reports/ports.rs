//! The reporting port: aggregations the store runs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::models::{BucketCount, LowStockRow, MoverRow, Replayed, SeriesFilter, ValuationRow};
use crate::error::StoreError;
use crate::ids::{LocationId, TenantId, VariantId};
use crate::stock::models::MovementKind;

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReportRepository: Send + Sync {
    /// For every bucket `i` — movements with `boundaries[i] <= created_at < boundaries[i+1]` —
    /// and every movement kind present in it: the count and Σ quantity. Buckets without
    /// movements are omitted (the domain fills them). MUST aggregate in the store.
    async fn movement_buckets(
        &self,
        tenant: &TenantId,
        boundaries: &[DateTime<Utc>],
        filter: &SeriesFilter,
    ) -> Result<Vec<BucketCount>, StoreError>;

    /// Variants whose available units (on hand − committed) are ≤ reorder level (with
    /// `incoming`), each with Σ −quantity of its SALE movements created at or after `since`.
    /// With `location`, the level at that location is judged (a variant with no level there is
    /// not listed) and `stock` (available), `incoming` and the sales are that location's;
    /// without, the variant's totals.
    async fn low_stock(
        &self,
        tenant: &TenantId,
        since: DateTime<Utc>,
        location: Option<LocationId>,
    ) -> Result<Vec<LowStockRow>, StoreError>;

    /// Variants ranked by Σ |quantity| of their `kind` movements in `[from, to)`, largest first
    /// (ties by variant id), at most `limit`. Variants deleted since are left out.
    async fn top_movers(
        &self,
        tenant: &TenantId,
        kind: MovementKind,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<MoverRow>, StoreError>;

    /// One row per variant of the tenant (ordered by variant id) with its PURCHASE totals over
    /// every location, and its units on hand (committed units included: they are still on the
    /// shelf): the total, or its level at `location` (0 without one).
    async fn valuation(
        &self,
        tenant: &TenantId,
        location: Option<LocationId>,
    ) -> Result<Vec<ValuationRow>, StoreError>;

    /// Σ quantity (on hand) and Σ of each unavailable state's change (`unavailable`) of the
    /// variant's movements created at or before `at` (at `location` only, when given).
    async fn stock_at(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
        at: DateTime<Utc>,
        location: Option<LocationId>,
    ) -> Result<Replayed, StoreError>;
}
