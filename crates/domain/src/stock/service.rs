//! Stock use cases: adjustments, the ledger and the audit.

use std::sync::Arc;

use super::apply::precheck;
use super::models::{
    Adjusted, AuditReport, DocumentWrite, LedgerError, LedgerWrite, Level, MovementFilter,
    StockChange, StockMovement,
};
use super::reserve::ledger_error;
use super::state::{StockState, UnitState};
use crate::auth::models::{Action, Actor};
use crate::error::DomainError;
use crate::idempotency::{Idempotency, Outcome};
use crate::ids::{LocationId, VariantId};
use crate::locations::service::resolve;
use crate::pagination::{Page, PageRequest};
use crate::services::Deps;
use crate::values::{Quantity, StockDelta, StockLevel, Text};

/// A manual correction at one location: a signed quantity, why, and optionally the stock the
/// caller saw there.
#[derive(Debug, Clone)]
pub struct Adjustment {
    pub quantity: StockDelta,
    pub reason: Text,
    /// Compare-and-set: refused unless the level's stock is still this.
    pub expected_stock: Option<StockLevel>,
    /// The level adjusted; the tenant's default location when `None`.
    pub location_id: Option<LocationId>,
    /// The state the units are found in or written off from (on hand moves with it); damaged
    /// units are written off with `Damaged`.
    pub state: UnitState,
}

/// Units moved between states at one level (on hand unchanged): `from` and `to` differ.
#[derive(Debug, Clone)]
pub struct StateMove {
    pub from: UnitState,
    pub to: UnitState,
    pub quantity: Quantity,
    pub reason: Text,
    /// The level; the tenant's default location when `None`.
    pub location_id: Option<LocationId>,
}

/// The result of a move: its movement, and the level and the variant's total after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    pub movement: StockMovement,
    pub level: StockState,
    pub total: StockState,
}

#[derive(Clone)]
pub struct StockService {
    deps: Arc<Deps>,
}

impl StockService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    /// Records an ADJUSTMENT movement at one location. Refused with 409 semantics if the level
    /// would go below zero or differs from `expected_stock`. An obviously impossible adjustment is refused from
    /// the current reading without taking locks; the ledger's conditional write stays the guard.
    pub async fn adjust(
        &self,
        actor: &Actor,
        variant_id: &VariantId,
        adjustment: Adjustment,
        idem: Option<Idempotency<Adjusted>>,
    ) -> Result<Outcome<Adjusted>, DomainError> {
        actor.require(Action::AdjustStock)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let variant = self
                    .deps
                    .variants
                    .get(&tenant, variant_id)
                    .await?
                    .ok_or(DomainError::NotFound("variant"))?;
                let location =
                    resolve(&self.deps, &tenant, adjustment.location_id, "locationId").await?;
                let delta = adjustment.quantity.get();
                let change = StockChange::adjustment(
                    Level::new(*variant_id, location.id),
                    delta,
                    adjustment.state,
                    adjustment.expected_stock.map(StockLevel::get),
                    adjustment.reason.into_string(),
                    actor.user_id,
                    self.deps.clock.now(),
                );
                precheck(std::slice::from_ref(&change), |level| {
                    Some(variant.state_at(&level.location_id))
                })
                .map_err(|e| adjustment_error(e, delta))?;
                let write = LedgerWrite {
                    changes: vec![change],
                    document: DocumentWrite::None,
                    idempotency: scope.map(|s| s.ledger(adjusted_from)),
                };
                self.deps
                    .commit_stock(&tenant, write)
                    .await?
                    .map(|committed| adjusted_from(&committed))
                    .map_err(|e| adjustment_error(e, delta))
            })
            .await
    }

    /// Moves units between available and the unavailable states (or between two of those) at
    /// one level: a MOVE movement, refused 409 when the source state holds too few units — a
    /// conditional write raced like an order.
    pub async fn move_units(
        &self,
        actor: &Actor,
        variant_id: &VariantId,
        request: StateMove,
        idem: Option<Idempotency<Moved>>,
    ) -> Result<Outcome<Moved>, DomainError> {
        actor.require(Action::AdjustStock)?;
        if request.from == request.to {
            return Err(DomainError::invalid("to", "must differ from `from`"));
        }
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let variant = self
                    .deps
                    .variants
                    .get(&tenant, variant_id)
                    .await?
                    .ok_or(DomainError::NotFound("variant"))?;
                let location =
                    resolve(&self.deps, &tenant, request.location_id, "locationId").await?;
                let change = StockChange::state_move(
                    Level::new(*variant_id, location.id),
                    request.from,
                    request.to,
                    request.quantity.get(),
                    request.reason.into_string(),
                    actor.user_id,
                    self.deps.clock.now(),
                );
                precheck(std::slice::from_ref(&change), |level| {
                    Some(variant.state_at(&level.location_id))
                })
                .map_err(ledger_error)?;
                let write = LedgerWrite {
                    changes: vec![change],
                    document: DocumentWrite::None,
                    idempotency: scope.map(|s| s.ledger(moved_from)),
                };
                self.deps
                    .commit_stock(&tenant, write)
                    .await?
                    .map(|committed| moved_from(&committed))
                    .map_err(ledger_error)
            })
            .await
    }

    pub async fn list_movements(
        &self,
        actor: &Actor,
        filter: &MovementFilter,
        page: &PageRequest,
    ) -> Result<Page<StockMovement>, DomainError> {
        actor.require(Action::ReadStock)?;
        Ok(self
            .deps
            .ledger
            .list_movements(&actor.tenant_id, filter, page)
            .await?)
    }

    /// Every level of the caller's tenant whose stock differs from the sum of its movements, and
    /// every variant whose total differs from the sum of its levels.
    pub async fn audit(&self, actor: &Actor) -> Result<AuditReport, DomainError> {
        actor.require(Action::ReadStock)?;
        Ok(self.deps.ledger.audit(&actor.tenant_id).await?)
    }

    /// `Ok` when the store answers.
    pub async fn ready(&self) -> Result<(), DomainError> {
        Ok(self.deps.ledger.ping().await?)
    }
}

/// An adjustment's refusal: a shortage reads as the stock it would have taken below zero.
fn adjustment_error(e: LedgerError, delta: i64) -> DomainError {
    match e {
        LedgerError::Insufficient(short) => DomainError::NegativeStock {
            current: short.first().map_or(0, |s| s.available),
            delta,
        },
        other => ledger_error(other),
    }
}

fn moved_from(committed: &super::models::Committed) -> Moved {
    let applied = &committed.applied[0];
    Moved {
        level: applied.after,
        total: applied.total_after,
        movement: applied
            .movement
            .clone()
            .expect("a move changes an unavailable state and records its movement"),
    }
}

fn adjusted_from(committed: &super::models::Committed) -> Adjusted {
    let applied = &committed.applied[0];
    Adjusted {
        stock: applied.total_after.available(),
        level_stock: applied.after.available(),
        // An adjustment's quantity is never 0 (`AdjustmentQuantity`), so it always moved on hand.
        movement: applied
            .movement
            .clone()
            .expect("an adjustment moves on hand and records its movement"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::models::Role;
    use crate::testing::{actor, variant, MockPorts};

    fn adjustment(quantity: i64, expected: Option<i64>) -> Adjustment {
        Adjustment {
            quantity: StockDelta::new(quantity).unwrap(),
            reason: Text::long("cycle count").unwrap(),
            expected_stock: expected.map(|e| StockLevel::new(e).unwrap()),
            location_id: None,
            state: UnitState::Available,
        }
    }

    #[tokio::test]
    async fn an_adjustment_below_zero_is_refused_without_writing() {
        let who = actor(Role::Manager);
        let v = variant(who.tenant_id, 3, 0);
        let id = v.id;
        let mut ports = MockPorts::default();
        ports.one_location();
        ports
            .variants
            .expect_get()
            .returning(move |_, _| Ok(Some(v.clone())));
        ports.ledger.expect_commit().never();
        ports.lock.expect_acquire().never();
        let services = ports.build();

        let err = services
            .stock
            .adjust(&who, &id, adjustment(-4, None), None)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            DomainError::NegativeStock {
                current: 3,
                delta: -4
            }
        ));
    }

    #[tokio::test]
    async fn a_stale_expected_stock_is_refused_without_writing() {
        let who = actor(Role::Owner);
        let v = variant(who.tenant_id, 10, 0);
        let id = v.id;
        let mut ports = MockPorts::default();
        ports.one_location();
        ports
            .variants
            .expect_get()
            .returning(move |_, _| Ok(Some(v.clone())));
        ports.ledger.expect_commit().never();
        let services = ports.build();

        let err = services
            .stock
            .adjust(&who, &id, adjustment(5, Some(9)), None)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            DomainError::StockMismatch {
                expected: 9,
                actual: 10
            }
        ));
    }

    #[tokio::test]
    async fn staff_cannot_adjust_stock() {
        let who = actor(Role::Staff);
        let mut ports = MockPorts::default();
        ports.variants.expect_get().never();
        let services = ports.build();
        let err = services
            .stock
            .adjust(&who, &VariantId::new(), adjustment(1, None), None)
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Forbidden));
    }
}
