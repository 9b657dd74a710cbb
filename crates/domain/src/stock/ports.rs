//! The ledger port: the one place stock changes.

use async_trait::async_trait;

use super::models::{
    AuditReport, Committed, LedgerError, LedgerWrite, MovementFilter, StockMovement,
};
use crate::error::StoreError;
use crate::ids::TenantId;
use crate::pagination::{Page, PageRequest};

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LedgerRepository: Send + Sync {
    /// Applies `write` atomically, in one transaction (the protocol is `crate::stock::apply`):
    /// 1. applies `document` first (inserts, or replaces if the stored version matches, else
    ///    `Store(VersionConflict)` before any change is judged);
    /// 2. for each change, in order: the variant MUST exist in `tenant` (else `VariantMissing`),
    ///    `expected_stock` MUST equal the on hand of the change's level (else `StockMismatch`),
    ///    and the level's on hand moves by `delta` and its kept claims (committed, damaged,
    ///    quality control, safety stock) by `claims` only if before the change the level holds
    ///    at least what `StockChange::requirements` asks — available counted with every hold of
    ///    the level live at the instant of the write — as a conditional write in the store,
    ///    never a read-then-write, with the variant's totals moved the same way and its
    ///    `in_transit` by `in_transit_delta`; the change's `hold` is applied in the same
    ///    transaction (`Place` stores it; `Take` and `Extend` MUST find it at the level and
    ///    live at that instant, else `HoldGone`; `Drop` removes it if present); a level the
    ///    variant never had holds 0 of everything and is created by a change that requires
    ///    nothing of it; the variant's `updated_at` is left as it is. If any change would take
    ///    a number of the level (or its available units) below zero the write MUST fail with
    ///    `Insufficient` listing *every* such change (requested = what it needs, available =
    ///    what the level has);
    /// 3. inserts one movement per change that moved on hand or an unavailable state
    ///    (`StockChange::records_movement`), with its location and the level's on hand after it
    ///    as `stock_after`;
    /// 4. stores the idempotency record, its response rendered from the result (removing an
    ///    expired record of the same key first; `Store(IdempotencyKeyTaken)` if one is live).
    ///
    /// On any error nothing at all is written.
    async fn commit(&self, tenant: &TenantId, write: LedgerWrite)
        -> Result<Committed, LedgerError>;

    /// Applies `writes` in order, each exactly as [`commit`](Self::commit) would on its own —
    /// a refused write changes nothing, and the writes after it are still tried against the
    /// stock as left by the ones before — and returns one result per write, in order. An
    /// adapter SHOULD make the applied writes durable together (one commit for the batch); on
    /// `Err` none of them was applied.
    ///
    /// The default commits each write on its own, for stores that cannot isolate one write of
    /// a transaction from another.
    async fn commit_batch(
        &self,
        tenant: &TenantId,
        writes: Vec<LedgerWrite>,
    ) -> Result<Vec<Result<Committed, LedgerError>>, StoreError> {
        let mut results = Vec::with_capacity(writes.len());
        for write in writes {
            results.push(self.commit(tenant, write).await);
        }
        Ok(results)
    }

    /// Movements matching `filter`, newest first.
    async fn list_movements(
        &self,
        tenant: &TenantId,
        filter: &MovementFilter,
        page: &PageRequest,
    ) -> Result<Page<StockMovement>, StoreError>;

    /// Compares every number the store keeps with what it must equal (see [`super::models::AuditedState`]):
    /// each level's on hand and unavailable states with the sums of its movements, its
    /// committed units with its placed orders, its live holds with its live ACTIVE
    /// reservations, and every stored total with the sum of its levels (see [`AuditReport`]
    /// for the order of the drift rows).
    async fn audit(&self, tenant: &TenantId) -> Result<AuditReport, StoreError>;

    /// `Ok` when the store answers (readiness probe).
    async fn ping(&self) -> Result<(), StoreError>;
}
