//! Transfer use cases: each loads the transfer, asks the aggregate for the transition, commits
//! it through the ledger guarded by the version read, and publishes what happened.

use std::sync::Arc;

use super::aggregate::TransferTransition;
use super::models::{NewTransfer, Transfer, TransferFilter, TransferPatch};
use crate::auth::models::{Action, Actor};
use crate::error::{DomainError, FieldErrors};
use crate::events::DomainEvent;
use crate::idempotency::{IdemScope, Idempotency, Outcome};
use crate::ids::{LocationId, TenantId, TransferId, VariantId};
use crate::locations::service::resolve;
use crate::orders::models::LineRequest;
use crate::pagination::{Page, PageRequest};
use crate::services::Deps;
use crate::stock::apply::precheck;
use crate::stock::models::{DocumentWrite, LedgerWrite};
use crate::stock::reserve::ledger_error;

#[derive(Clone)]
pub struct TransferService {
    deps: Arc<Deps>,
}

impl TransferService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    /// A DRAFT transfer between two distinct active locations of the tenant; nothing moves yet.
    pub async fn create(
        &self,
        actor: &Actor,
        new: NewTransfer,
        idem: Option<Idempotency<Transfer>>,
    ) -> Result<Outcome<Transfer>, DomainError> {
        actor.require(Action::WriteTransfers)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                self.check(
                    &tenant,
                    new.from_location_id,
                    new.to_location_id,
                    Some(&new.lines),
                )
                .await?;
                let transfer = Transfer::draft(actor, &new, self.deps.clock.now());
                let written = transfer.clone();
                let write = LedgerWrite {
                    changes: Vec::new(),
                    document: DocumentWrite::InsertTransfer(transfer.clone()),
                    idempotency: scope.map(|s| s.ledger(move |_| written.clone())),
                };
                self.deps
                    .commit_stock(&tenant, write)
                    .await?
                    .map_err(ledger_error)?;
                Ok(transfer)
            })
            .await
    }

    pub async fn get(&self, actor: &Actor, id: &TransferId) -> Result<Transfer, DomainError> {
        actor.require(Action::ReadTransfers)?;
        self.deps
            .transfers
            .get(&actor.tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("transfer"))
    }

    pub async fn list(
        &self,
        actor: &Actor,
        filter: &TransferFilter,
        page: &PageRequest,
    ) -> Result<Page<Transfer>, DomainError> {
        actor.require(Action::ReadTransfers)?;
        Ok(self
            .deps
            .transfers
            .list(&actor.tenant_id, filter, page)
            .await?)
    }

    /// Edits a DRAFT transfer.
    pub async fn update(
        &self,
        actor: &Actor,
        id: &TransferId,
        patch: TransferPatch,
        precondition: Option<crate::precondition::Precondition>,
    ) -> Result<Transfer, DomainError> {
        use crate::precondition::{refused_if_named, Precondition};
        actor.require(Action::WriteTransfers)?;
        let tenant = actor.tenant_id;
        let current = self.get(actor, id).await?;
        // `If-Match` names a version; the ledger write below is guarded by the one read.
        Precondition::check(precondition.as_ref(), "transfer", current.version)?;
        current.require_editable()?;
        self.check(
            &tenant,
            patch.from_location_id.unwrap_or(current.from_location_id),
            patch.to_location_id.unwrap_or(current.to_location_id),
            patch.lines.as_deref(),
        )
        .await?;
        let transition = current.edit(&patch, self.deps.clock.now())?;
        self.write(actor, &current, transition, None)
            .await
            .map_err(|e| refused_if_named(precondition.as_ref(), e))
    }

    /// DRAFT → SHIPPED: every line leaves the source, or none does (409 listing every short
    /// line, each with the source's stock).
    pub async fn ship(
        &self,
        actor: &Actor,
        id: &TransferId,
        idem: Option<Idempotency<Transfer>>,
    ) -> Result<Outcome<Transfer>, DomainError> {
        actor.require(Action::WriteTransfers)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let current = self.get(actor, id).await?;
                let now = self.deps.clock.now();
                let transition = current.ship(actor.user_id, now)?;
                let ids: Vec<VariantId> = current.lines.iter().map(|l| l.variant_id).collect();
                let variants = self.deps.variants_by_id(&tenant, &ids).await?;
                // Refuse from the current reading without taking locks when the source is
                // clearly short; the ledger's conditional write stays the guard.
                precheck(&transition.changes, |level| {
                    variants
                        .get(&level.variant_id)
                        .map(|v| v.state_at(&level.location_id))
                })
                .map_err(ledger_error)?;
                let transfer = self.write(actor, &current, transition, scope).await?;
                self.deps
                    .publish(vec![DomainEvent::TransferShipped {
                        tenant_id: tenant,
                        transfer_id: transfer.id,
                        from_location_id: transfer.from_location_id,
                        to_location_id: transfer.to_location_id,
                        units: transfer.lines.iter().map(|l| l.quantity).sum(),
                        at: now,
                    }])
                    .await;
                Ok(transfer)
            })
            .await
    }

    /// Records units that arrived; partial receipts allowed, over-receipt refused.
    pub async fn receive(
        &self,
        actor: &Actor,
        id: &TransferId,
        lines: Vec<LineRequest>,
        idem: Option<Idempotency<Transfer>>,
    ) -> Result<Outcome<Transfer>, DomainError> {
        actor.require(Action::ReceiveTransfers)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let current = self.get(actor, id).await?;
                let now = self.deps.clock.now();
                let transition = current.receive(&lines, actor.user_id, now)?;
                let units = transition.changes.iter().map(|c| c.delta).sum();
                let transfer = self.write(actor, &current, transition, scope).await?;
                self.deps
                    .publish(vec![DomainEvent::TransferReceived {
                        tenant_id: tenant,
                        transfer_id: transfer.id,
                        from_location_id: transfer.from_location_id,
                        to_location_id: transfer.to_location_id,
                        units,
                        status: transfer.status.as_str(),
                        at: now,
                    }])
                    .await;
                Ok(transfer)
            })
            .await
    }

    /// DRAFT → CANCELLED.
    pub async fn cancel(
        &self,
        actor: &Actor,
        id: &TransferId,
        idem: Option<Idempotency<Transfer>>,
    ) -> Result<Outcome<Transfer>, DomainError> {
        actor.require(Action::WriteTransfers)?;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let current = self.get(actor, id).await?;
                let transition = current.cancel(self.deps.clock.now())?;
                self.write(actor, &current, transition, scope).await
            })
            .await
    }

    /// Writes a transition of `current` in one ledger transaction, guarded by its version.
    async fn write(
        &self,
        actor: &Actor,
        current: &Transfer,
        transition: TransferTransition,
        scope: Option<IdemScope<Transfer>>,
    ) -> Result<Transfer, DomainError> {
        let TransferTransition { next, changes } = transition;
        let document = DocumentWrite::UpdateTransfer {
            transfer: next.clone(),
            expected_version: current.version,
        };
        self.deps
            .commit_transition(
                &actor.tenant_id,
                changes,
                document,
                next,
                scope,
                ("transfer", current.id.to_string()),
            )
            .await
    }

    /// 422 naming the field when a location is missing, inactive or another tenant's, when
    /// source and destination are the same, when there are no lines, or when a line's variant
    /// is unknown or listed twice.
    async fn check(
        &self,
        tenant: &TenantId,
        from: LocationId,
        to: LocationId,
        lines: Option<&[LineRequest]>,
    ) -> Result<(), DomainError> {
        let mut errors = FieldErrors::new();
        for (field, id) in [("fromLocationId", from), ("toLocationId", to)] {
            match resolve(&self.deps, tenant, Some(id), field).await {
                Ok(_) => {}
                Err(DomainError::Validation(found)) => {
                    for f in found {
                        errors.add(f.field, f.message);
                    }
                }
                Err(other) => return Err(other),
            }
        }
        if from == to {
            errors.add("toLocationId", "must differ from fromLocationId");
        }
        if let Some(lines) = lines {
            let ids: Vec<VariantId> = lines.iter().map(|l| l.variant_id).collect();
            self.deps
                .check_variant_lines(tenant, &ids, &mut errors)
                .await?;
        }
        errors.finish()
    }
}
