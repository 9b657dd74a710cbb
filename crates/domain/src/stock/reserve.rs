//! The reserve-stock invariant: the one path by which stock changes.
//!
//! 1. Demand is summed per variant ([`Demand`]), so an order naming a SKU twice is one change.
//! 2. The lock port is asked for every level's key (variant × location) in ascending order — two writers listing the
//!    same variants in opposite orders take them in the same order and cannot deadlock — with a
//!    bounded wait ([`crate::Settings::lock_wait`]); timing out is a retryable refusal.
//! 3. The ledger port applies every conditional change, the movements, the document and the
//!    idempotency record in one transaction: all lines or none. Writes waiting for the same
//!    locks share one lock hold and one commit, each still all-or-nothing on its own
//!    ([`crate::stock::combine`]). [`crate::stock::writer::StockWriter`] runs steps 2 and 3.
//!
//! The lock only orders writers. If it were skipped (see [`crate::lock::NoopLock`]), step 3 alone
//! still refuses to take any stock below zero.

use std::collections::BTreeMap;

use crate::error::DomainError;
use crate::events::DomainEvent;
use crate::ids::{TenantId, VariantId};
use crate::lock::LockKey;
use crate::stock::models::{Committed, LedgerError, LedgerWrite};

/// Units wanted per variant, summed, in ascending variant order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Demand(BTreeMap<VariantId, i64>);

impl Demand {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, variant: VariantId, quantity: i64) {
        *self.0.entry(variant).or_insert(0) += quantity;
    }

    pub fn from_lines(lines: impl IntoIterator<Item = (VariantId, i64)>) -> Self {
        let mut demand = Self::new();
        for (variant, quantity) in lines {
            demand.add(variant, quantity);
        }
        demand
    }

    /// `(variant, total quantity)` in ascending variant order.
    pub fn iter(&self) -> impl Iterator<Item = (&VariantId, &i64)> {
        self.0.iter()
    }

    pub fn get(&self, variant: &VariantId) -> i64 {
        self.0.get(variant).copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// The sorted, de-duplicated lock keys of the levels a write changes.
pub fn lock_keys(tenant: &TenantId, write: &LedgerWrite) -> Vec<LockKey> {
    let mut keys: Vec<LockKey> = write
        .changes
        .iter()
        .map(|c| LockKey::level(tenant, &c.level()))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// `StockChanged` for every movement, and `StockLow` where one crossed the reorder level.
pub fn stock_events(tenant: &TenantId, committed: &Committed) -> Vec<DomainEvent> {
    let mut events = Vec::new();
    for applied in &committed.applied {
        let level = applied.level;
        let total_after = applied.total_after.available();
        // The variant's available total moved by exactly what the level's did.
        let total_before = total_after - (applied.after.available() - applied.before.available());
        events.push(DomainEvent::StockChanged {
            tenant_id: *tenant,
            variant_id: level.variant_id,
            location_id: level.location_id,
            sku: applied.sku.clone(),
            total: applied.total_after,
            level: applied.after,
            delta: applied.after.on_hand - applied.before.on_hand,
            movement: applied.movement.as_ref().map(|m| (m.kind, m.id)),
            order_id: applied.order_id,
            reservation_id: applied.reservation_id,
            at: applied.at,
        });
        // The reorder level is the variant's: the event fires when its available total
        // crosses it.
        if total_before > applied.reorder_level && total_after <= applied.reorder_level {
            events.push(DomainEvent::StockLow {
                tenant_id: *tenant,
                variant_id: level.variant_id,
                location_id: level.location_id,
                sku: applied.sku.clone(),
                stock: total_after,
                reorder_level: applied.reorder_level,
                at: applied.at,
            });
        }
    }
    events
}

/// Phrases a ledger refusal as a domain error (stock shortages stay a list).
pub fn ledger_error(e: LedgerError) -> DomainError {
    match e {
        LedgerError::Insufficient(shortages) => DomainError::InsufficientStock(shortages),
        LedgerError::StockMismatch {
            expected, actual, ..
        } => DomainError::StockMismatch { expected, actual },
        LedgerError::VariantMissing(_) => DomainError::NotFound("variant"),
        LedgerError::HoldGone(_) => {
            DomainError::Conflict("the reservation's hold has expired or is gone".into())
        }
        LedgerError::Store(e) => e.into(),
    }
}
