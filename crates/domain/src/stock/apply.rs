//! How a ledger write is applied: every decision a store adapter would otherwise make itself.
//!
//! A storage adapter owns one thing the domain cannot do — the atomic conditional write inside a
//! transaction. Everything around it is decided here, once, so a third store implements storage
//! only and a rule changes in one place:
//!
//! 0. The adapter writes the [`LedgerWrite::document`] first — an update guarded by its version
//!    refuses the whole write with `VersionConflict` before any change is judged, so a
//!    transition decided from a stale reading is a conflict even when its changes (releasing
//!    units another transition already released) could not apply either.
//! 1. For each change the adapter runs its store's conditional write on the change's level (one
//!    variant at one location): the level's on hand moves by [`StockChange::delta`] and each of
//!    its kept claims (committed, each unavailable state) by [`StockChange::claims`], only if
//!    before the change every number is at least what [`StockChange::requirements`] asks (on
//!    hand, each claim, and available = on hand − claims, counting as reserved every hold of
//!    the level live at the instant of the write) and on hand equals
//!    [`StockChange::expected_stock`] when one is given; the variant's total moves the same
//!    way, and its units in transit by [`StockChange::in_transit_delta`], in the same
//!    transaction. The change's [`StockChange::hold`] is applied in the same write: placed,
//!    taken or extended (refused with `HoldGone` unless live then), or dropped. A level the
//!    variant has never had holds 0 of everything.
//! 2. It reports each outcome to an [`Application`]: [`Application::applied`] with the level and
//!    the variant as the write left them, or [`Application::refused`] with the level's states it
//!    reads in the same transaction (`None` when the variant does not exist in the tenant). A
//!    refusal that must end the write at once (missing variant, compare-and-set mismatch) comes
//!    back as `Err`; shortages are collected so the caller learns every short line at once.
//! 3. [`Application::finish`] answers the write as a whole: the movements to insert (in
//!    [`Committed`], for the changes that moved on hand or an unavailable state), or the refusal, in which case the
//!    adapter rolls back.
//! 4. [`LedgerWrite::idempotency_record`] renders the record to store from what was committed.
//!
//! The same judgement ([`StockChange::judge`]) is what the use cases run as their pre-check on a
//! fresh reading, so a refusal reads the same whether it came before or inside the transaction.

use chrono::SubsecRound;

use super::models::{
    AppliedChange, Committed, LedgerError, LedgerWrite, Level, StockChange, StockMovement,
};
use super::state::{StockState, UnitState};
use crate::error::{Shortage, StoreError};
use crate::idempotency::IdempotencyWrite;
use crate::ids::TenantId;
use crate::values::Sku;

/// What a successful conditional write reports about the level and the variant it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantAfter {
    /// The level's states as the write left them.
    pub level: StockState,
    /// The variant's total (Σ of its levels) as the write left it.
    pub total: StockState,
    pub sku: Sku,
    pub reorder_level: i64,
}

/// Why a change cannot apply to the stock it was judged against.
#[derive(Debug)]
pub enum Refusal {
    /// Not enough stock: reported together with every other short change of the write.
    Short(Shortage),
    /// Ends the write at once: the variant is missing or not at the expected stock.
    Refused(LedgerError),
}

impl StockChange {
    /// Whether this change may apply to a level in `state` (`None`: no such variant).
    pub fn judge(&self, state: Option<StockState>) -> Result<(), Refusal> {
        let Some(state) = state else {
            return Err(Refusal::Refused(LedgerError::VariantMissing(
                self.variant_id,
            )));
        };
        if let Some(expected) = self.expected_stock {
            if expected != state.on_hand {
                return Err(Refusal::Refused(LedgerError::StockMismatch {
                    variant_id: self.variant_id,
                    location_id: self.location_id,
                    expected,
                    actual: state.on_hand,
                }));
            }
        }
        let need = self.requirements();
        let short = |requested: i64, available: i64| {
            Err(Refusal::Short(Shortage {
                variant_id: self.variant_id,
                location_id: Some(self.location_id),
                requested,
                available,
            }))
        };
        if state.available() < need.available {
            return short(need.available, state.available().max(0));
        }
        if state.on_hand < need.on_hand {
            return short(need.on_hand, state.on_hand);
        }
        for unit_state in [
            UnitState::Damaged,
            UnitState::QualityControl,
            UnitState::SafetyStock,
        ] {
            let (held, needed) = (
                state.claims.unavailable.get(unit_state).unwrap_or(0),
                need.claims.unavailable.get(unit_state).unwrap_or(0),
            );
            if held < needed {
                return short(needed, held);
            }
        }
        if state.claims.committed < need.claims.committed {
            // Units leaving an order's commitment that the level does not hold: only a level
            // changed behind the ledger's back can be here.
            return Err(Refusal::Refused(LedgerError::Store(StoreError::Other(
                anyhow::anyhow!(
                    "level of variant {} at {} holds {} committed units, fewer than the {} \
                     this change releases",
                    self.variant_id,
                    self.location_id,
                    state.claims.committed,
                    need.claims.committed
                ),
            ))));
        }
        Ok(())
    }

    /// The movement this change records once applied, leaving `stock_after`. Times keep the
    /// millisecond precision every store keeps.
    pub fn movement(&self, tenant: &TenantId, stock_after: i64) -> StockMovement {
        StockMovement {
            id: self.movement_id,
            tenant_id: *tenant,
            variant_id: self.variant_id,
            location_id: self.location_id,
            kind: self.kind,
            quantity: self.delta,
            unavailable: self.claims.unavailable,
            stock_after,
            reason: self.reason.clone(),
            order_id: self.order_id,
            purchase_order_id: self.purchase_order_id,
            transfer_id: self.transfer_id,
            unit_cost: self.unit_cost,
            actor: self.actor,
            created_at: self.at.trunc_subsecs(3),
        }
    }
}

/// Judges every change of a write against a reading of its level, before any lock is taken: the
/// first missing or mismatched variant, or every shortage at once. The ledger's conditional write
/// stays the guard; this only spares a write that cannot succeed.
pub fn precheck(
    changes: &[StockChange],
    stock_of: impl Fn(&Level) -> Option<StockState>,
) -> Result<(), LedgerError> {
    let mut shortages = Vec::new();
    for change in changes {
        match change.judge(stock_of(&change.level())) {
            Ok(()) => {}
            Err(Refusal::Short(s)) => shortages.push(s),
            Err(Refusal::Refused(e)) => return Err(e),
        }
    }
    if shortages.is_empty() {
        Ok(())
    } else {
        Err(LedgerError::Insufficient(shortages))
    }
}

/// The outcomes of one write's conditional changes, as an adapter reports them (see the module
/// documentation for the protocol).
#[derive(Debug)]
pub struct Application {
    tenant: TenantId,
    applied: Vec<AppliedChange>,
    shortages: Vec<Shortage>,
}

impl Application {
    pub fn new(tenant: &TenantId, write: &LedgerWrite) -> Self {
        Self {
            tenant: *tenant,
            applied: Vec::with_capacity(write.changes.len()),
            shortages: Vec::new(),
        }
    }

    /// The store applied `change`, leaving the variant as `after` says.
    pub fn applied(&mut self, change: &StockChange, after: VariantAfter) {
        self.applied.push(AppliedChange {
            level: change.level(),
            movement: change
                .records_movement()
                .then(|| change.movement(&self.tenant, after.level.on_hand)),
            sku: after.sku,
            reorder_level: after.reorder_level,
            before: change.undo_from(&after.level),
            after: after.level,
            total_after: after.total,
            order_id: change.order_id,
            reservation_id: change.hold.map(|h| h.reservation_id()),
            at: change.at.trunc_subsecs(3),
        });
    }

    /// The store's conditional write matched nothing; `state` is the level's states read in the
    /// same transaction (all 0 for a level the variant never had, `None` when the variant does
    /// not exist). `Err` ends the write: roll back.
    pub fn refused(
        &mut self,
        change: &StockChange,
        state: Option<StockState>,
    ) -> Result<(), LedgerError> {
        match change.judge(state) {
            Err(Refusal::Short(shortage)) => {
                self.shortages.push(shortage);
                Ok(())
            }
            Err(Refusal::Refused(e)) => Err(e),
            // The conditional write and the reading see the same snapshot, so this cannot
            // happen; refuse rather than guess.
            Ok(()) => Err(LedgerError::Store(StoreError::Other(anyhow::anyhow!(
                "stock change of variant {} matched nothing although its level {:?} allows it",
                change.variant_id,
                state.unwrap_or_default()
            )))),
        }
    }

    /// The write as a whole: what was applied (insert every `applied[*].movement`), or every
    /// shortage.
    pub fn finish(self) -> Result<Committed, LedgerError> {
        if self.shortages.is_empty() {
            Ok(Committed {
                applied: self.applied,
            })
        } else {
            Err(LedgerError::Insufficient(self.shortages))
        }
    }
}

impl LedgerWrite {
    /// The idempotency record to store with this write, its response rendered from `committed`.
    pub fn idempotency_record(&self, committed: &Committed) -> Option<IdempotencyWrite> {
        self.idempotency.as_ref().map(|idem| IdempotencyWrite {
            user_id: idem.user_id,
            key: idem.key.clone(),
            fingerprint: idem.fingerprint.clone(),
            response: (idem.render)(committed),
            created_at: idem.created_at,
            expires_at: idem.expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::ids::{LocationId, MovementId, UserId, VariantId};
    use crate::stock::models::{DocumentWrite, MovementKind};
    use crate::stock::state::Claims;

    fn change(delta: i64, expected: Option<i64>) -> StockChange {
        let mut c = StockChange::adjustment(
            Level::new(VariantId::new(), LocationId::new()),
            delta,
            UnitState::Available,
            expected,
            "count".into(),
            UserId::new(),
            Utc.timestamp_nanos(1_700_000_000_123_456_789),
        );
        c.movement_id = MovementId::new();
        c
    }

    fn on_hand(units: i64) -> Option<StockState> {
        Some(StockState::new(units, Claims::default()))
    }

    fn after(stock: i64) -> VariantAfter {
        VariantAfter {
            level: StockState::new(stock, Claims::default()),
            total: StockState::new(stock + 10, Claims::default()),
            sku: Sku::new("SKU-1").unwrap(),
            reorder_level: 2,
        }
    }

    fn write(changes: Vec<StockChange>) -> LedgerWrite {
        LedgerWrite {
            changes,
            document: DocumentWrite::None,
            idempotency: None,
        }
    }

    #[test]
    fn a_missing_variant_ends_the_write() {
        let c = change(-1, None);
        let mut app = Application::new(&TenantId::new(), &write(vec![c.clone()]));
        assert!(matches!(
            app.refused(&c, None),
            Err(LedgerError::VariantMissing(id)) if id == c.variant_id
        ));
    }

    #[test]
    fn a_mismatch_is_reported_before_a_shortage() {
        let c = change(-5, Some(3));
        assert!(matches!(
            c.judge(on_hand(4)),
            Err(Refusal::Refused(LedgerError::StockMismatch {
                expected: 3,
                actual: 4,
                ..
            }))
        ));
    }

    #[test]
    fn every_shortage_is_collected() {
        let (a, b, ok) = (change(-3, None), change(-9, None), change(-1, None));
        let mut app = Application::new(&TenantId::new(), &write(vec![a.clone(), b.clone()]));
        app.refused(&a, on_hand(2)).unwrap();
        app.applied(&ok, after(4));
        app.refused(&b, on_hand(8)).unwrap();
        let Err(LedgerError::Insufficient(short)) = app.finish() else {
            panic!("expected shortages");
        };
        assert_eq!(
            short,
            vec![
                Shortage {
                    variant_id: a.variant_id,
                    location_id: Some(a.location_id),
                    requested: 3,
                    available: 2
                },
                Shortage {
                    variant_id: b.variant_id,
                    location_id: Some(b.location_id),
                    requested: 9,
                    available: 8
                },
            ]
        );
    }

    #[test]
    fn a_refusal_the_stock_allows_is_an_error_not_a_guess() {
        let c = change(-1, None);
        let mut app = Application::new(&TenantId::new(), &write(vec![c.clone()]));
        assert!(matches!(
            app.refused(&c, on_hand(5)),
            Err(LedgerError::Store(StoreError::Other(_)))
        ));
    }

    #[test]
    fn an_applied_change_records_its_movement_and_the_stock_before() {
        let tenant = TenantId::new();
        let c = change(-2, None);
        let mut app = Application::new(&tenant, &write(vec![c.clone()]));
        app.applied(&c, after(1));
        let committed = app.finish().unwrap();
        let applied = &committed.applied[0];
        assert_eq!(applied.before.on_hand, 3);
        let movement = applied.movement.as_ref().expect("on hand moved");
        assert_eq!(movement.quantity, -2);
        assert_eq!(movement.stock_after, 1);
        assert_eq!(applied.total_after.on_hand, 11);
        assert_eq!(movement.location_id, c.location_id);
        assert_eq!(movement.tenant_id, tenant);
        assert_eq!(movement.kind, MovementKind::Adjustment);
        assert_eq!(
            movement.created_at,
            Utc.timestamp_millis_opt(1_700_000_000_123).unwrap()
        );
    }

    #[test]
    fn an_increase_needs_no_stock_and_a_decrease_needs_its_units() {
        assert!(change(5, None).requirements().met_by_nothing());
        assert_eq!(change(-5, None).requirements().on_hand, 5);
        assert_eq!(change(-5, None).requirements().available, 5);
        assert!(change(5, None).judge(on_hand(0)).is_ok());
        assert!(change(-5, None).judge(on_hand(5)).is_ok());
        assert!(matches!(
            change(-5, None).judge(on_hand(4)),
            Err(Refusal::Short(_))
        ));
    }

    #[test]
    fn committed_units_are_not_available_to_a_decrease() {
        let level = Some(StockState::new(5, Claims::committed(3)));
        let Err(Refusal::Short(short)) = change(-3, None).judge(level) else {
            panic!("expected a shortage");
        };
        assert_eq!((short.requested, short.available), (3, 2));
        assert!(change(-2, None).judge(level).is_ok());
    }

    #[test]
    fn a_change_of_claims_alone_records_no_movement() {
        let tenant = TenantId::new();
        let c = StockChange::commit(
            Level::new(VariantId::new(), LocationId::new()),
            2,
            crate::ids::OrderId::new(),
            UserId::new(),
            Utc::now(),
        );
        let mut app = Application::new(&tenant, &write(vec![c.clone()]));
        let level = StockState::new(4, Claims::committed(2));
        app.applied(
            &c,
            VariantAfter {
                level,
                total: level,
                sku: Sku::new("SKU-1").unwrap(),
                reorder_level: 0,
            },
        );
        let applied = app.finish().unwrap().applied.remove(0);
        assert_eq!(applied.movement, None);
        assert_eq!(applied.before, StockState::new(4, Claims::default()));
        assert_eq!(applied.after.available(), 2);
    }

    #[test]
    fn precheck_lists_every_short_change() {
        let (a, b) = (change(-3, None), change(-1, None));
        let err = precheck(&[a.clone(), b.clone()], |_| on_hand(0)).unwrap_err();
        assert!(matches!(err, LedgerError::Insufficient(s) if s.len() == 2));
    }
}
