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
    /// Applies `write` atomically, in one transaction:
    /// 1. for each change, in order: the variant MUST exist in `tenant` (else `VariantMissing`),
    ///    `expected_stock` MUST equal the stock (else `StockMismatch`), and the stock is changed
    ///    by `delta` only if the result is ≥ 0 — a conditional write in the store, never a
    ///    read-then-write; the variant's `updated_at` becomes the change's `at`. If any change
    ///    would go below zero the write MUST fail with
    ///    `Insufficient` listing *every* such change (requested = −delta, available = stock);
    /// 2. inserts one movement per change, with `stock_after` as committed;
    /// 3. applies `document` (inserts, or replaces if the stored version matches, else
    ///    `Store(VersionConflict)`);
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

    /// Compares every variant's stock with the sum of its movements.
    async fn audit(&self, tenant: &TenantId) -> Result<AuditReport, StoreError>;

    /// `Ok` when the store answers (readiness probe).
    async fn ping(&self) -> Result<(), StoreError>;
}
