//! Stock use cases: adjustments, the ledger and the audit.

use std::sync::Arc;

use super::models::{
    Adjusted, AuditReport, DocumentWrite, LedgerError, LedgerWrite, MovementFilter, MovementKind,
    StockChange, StockMovement,
};
use super::reserve::ledger_error;
use crate::auth::models::{Action, Actor};
use crate::error::DomainError;
use crate::idempotency::{Idempotency, Outcome};
use crate::ids::{MovementId, VariantId};
use crate::pagination::{Page, PageRequest};
use crate::services::Deps;
use crate::values::{StockDelta, StockLevel, Text};

/// A manual correction: a signed quantity, why, and optionally the stock the caller saw.
#[derive(Debug, Clone)]
pub struct Adjustment {
    pub quantity: StockDelta,
    pub reason: Text,
    /// Compare-and-set: refused unless the stock is still this.
    pub expected_stock: Option<StockLevel>,
}

#[derive(Clone)]
pub struct StockService {
    deps: Arc<Deps>,
}

impl StockService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    /// Records an ADJUSTMENT movement. Refused with 409 semantics if the stock would go below
    /// zero or differs from `expected_stock`. An obviously impossible adjustment is refused from
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
            .idempotent(&tenant, idem, |scope| async move {
                let variant = self
                    .deps
                    .variants
                    .get(&tenant, variant_id)
                    .await?
                    .ok_or(DomainError::NotFound("variant"))?;
                let delta = adjustment.quantity.get();
                let expected = adjustment.expected_stock.map(StockLevel::get);
                if let Some(expected) = expected {
                    if expected != variant.stock {
                        return Err(DomainError::StockMismatch {
                            expected,
                            actual: variant.stock,
                        });
                    }
                }
                if variant.stock + delta < 0 {
                    return Err(DomainError::NegativeStock {
                        current: variant.stock,
                        delta,
                    });
                }
                let change = StockChange {
                    movement_id: MovementId::new(),
                    variant_id: *variant_id,
                    kind: MovementKind::Adjustment,
                    delta,
                    expected_stock: expected,
                    reason: Some(adjustment.reason.into_string()),
                    order_id: None,
                    purchase_order_id: None,
                    unit_cost: None,
                    actor: actor.user_id,
                    at: self.deps.clock.now(),
                };
                let write = LedgerWrite {
                    changes: vec![change],
                    document: DocumentWrite::None,
                    idempotency: scope.map(|s| s.ledger(adjusted_from)),
                };
                match self.deps.commit_stock(&tenant, write).await? {
                    Ok(committed) => Ok(adjusted_from(&committed)),
                    Err(LedgerError::Insufficient(short)) => Err(DomainError::NegativeStock {
                        current: short.first().map_or(0, |s| s.available),
                        delta,
                    }),
                    Err(e) => Err(ledger_error(e)),
                }
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

    /// Every variant of the caller's tenant whose stock differs from the sum of its movements.
    pub async fn audit(&self, actor: &Actor) -> Result<AuditReport, DomainError> {
        actor.require(Action::ReadStock)?;
        Ok(self.deps.ledger.audit(&actor.tenant_id).await?)
    }

    /// `Ok` when the store answers.
    pub async fn ready(&self) -> Result<(), DomainError> {
        Ok(self.deps.ledger.ping().await?)
    }
}

fn adjusted_from(committed: &super::models::Committed) -> Adjusted {
    let movement = committed.applied[0].movement.clone();
    Adjusted {
        stock: movement.stock_after,
        movement,
    }
}
