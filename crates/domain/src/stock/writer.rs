//! The lock-and-commit path every stock write takes.
//!
//! A [`StockWriter`] sorts a write's changes, takes the variants' locks in that order (bounded
//! wait), hands the write to the ledger port — coalesced with the writes waiting for the same
//! locks ([`crate::stock::combine`]) — and publishes the stock events of what was committed. It is
//! the only caller of [`LedgerRepository::commit`] in the use cases, so every stock change passes
//! the reserve-stock invariant ([`crate::stock::reserve`]).

use std::sync::Arc;
use std::time::Duration;

use super::combine::Combiner;
use super::models::{Committed, LedgerError, LedgerWrite, StockChange};
use super::ports::LedgerRepository;
use super::reserve::{lock_keys, stock_events};
use crate::error::DomainError;
use crate::events::EventPublisher;
use crate::ids::TenantId;
use crate::lock::LockManager;

/// Commits stock writes under their locks; cheap to clone (every part is shared).
#[derive(Clone)]
pub struct StockWriter {
    pub(crate) ledger: Arc<dyn LedgerRepository>,
    pub(crate) lock: Arc<dyn LockManager>,
    pub(crate) events: Arc<dyn EventPublisher>,
    /// Longest wait for the locks; beyond it the write is refused as retryable.
    pub(crate) lock_wait: Duration,
    /// Stock writes waiting for the same locks, committed together.
    pub(crate) combiner: Arc<Combiner>,
}

impl std::fmt::Debug for StockWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StockWriter")
            .field("lock_wait", &self.lock_wait)
            .finish_non_exhaustive()
    }
}

impl StockWriter {
    pub fn new(
        ledger: Arc<dyn LedgerRepository>,
        lock: Arc<dyn LockManager>,
        events: Arc<dyn EventPublisher>,
        lock_wait: Duration,
    ) -> Self {
        Self {
            ledger,
            lock,
            events,
            lock_wait,
            combiner: Arc::default(),
        }
    }

    /// Applies a ledger write under its levels' locks (taken in sorted order, bounded wait),
    /// then publishes its stock events. Writes that need the same locks at the same moment share
    /// one lock hold and one commit. Store refusals come back as [`LedgerError`] for the caller
    /// to phrase; lock failures are already domain errors.
    pub async fn commit(
        &self,
        tenant: &TenantId,
        mut write: LedgerWrite,
    ) -> Result<Result<Committed, LedgerError>, DomainError> {
        write.changes.sort_by_key(StockChange::level);
        let keys = lock_keys(tenant, &write);
        let result = if keys.is_empty() {
            self.ledger.commit(tenant, write).await
        } else {
            self.commit_combined(tenant, keys, write).await?
        };
        if let Ok(committed) = &result {
            let events = stock_events(tenant, committed);
            if !events.is_empty() {
                self.events.publish(events).await;
            }
        }
        Ok(result)
    }
}
