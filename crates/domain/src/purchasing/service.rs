//! Supplier and purchase-order use cases. Receiving writes PURCHASE movements and the updated
//! purchase order in one ledger transaction, so stock and "received" can never disagree.

use std::sync::Arc;

use super::aggregate::PurchaseOrderTransition;
use super::models::{
    NewPurchaseOrder, NewSupplier, PurchaseLineRequest, PurchaseOrder, PurchaseOrderFilter,
    PurchaseOrderPatch, Supplier, SupplierPatch,
};
use crate::auth::models::{Action, Actor};
use crate::error::{DomainError, FieldErrors, StoreError};
use crate::events::DomainEvent;
use crate::idempotency::{Idempotency, Outcome};
use crate::ids::{PurchaseOrderId, SupplierId, TenantId, VariantId};
use crate::locations::service::resolve;
use crate::orders::models::LineRequest;
use crate::pagination::{Page, PageRequest};
use crate::precondition::{
    delete_guard, lost_race, next_edit_time, refused_if_named, retries, Precondition, EDIT_ATTEMPTS,
};
use crate::services::Deps;
use crate::stock::models::{DocumentWrite, LedgerError, LedgerWrite};
use crate::stock::reserve::ledger_error;

#[derive(Clone)]
pub struct PurchasingService {
    pub(super) deps: Arc<Deps>,
}

impl PurchasingService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    pub async fn create_supplier(
        &self,
        actor: &Actor,
        new: NewSupplier,
        idem: Option<Idempotency<Supplier>>,
    ) -> Result<Outcome<Supplier>, DomainError> {
        actor.require(Action::WritePurchasing)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let now = self.deps.clock.now();
                let supplier = Supplier {
                    id: SupplierId::new(),
                    tenant_id: tenant,
                    name: new.name,
                    email: new.email,
                    phone: new.phone,
                    lead_time_days: new.lead_time_days,
                    created_at: now,
                    updated_at: now,
                };
                let record = scope.map(|s| s.record(&supplier));
                self.deps
                    .suppliers
                    .insert(&tenant, &supplier, record)
                    .await?;
                Ok(supplier)
            })
            .await
    }

    pub async fn get_supplier(
        &self,
        actor: &Actor,
        id: &SupplierId,
    ) -> Result<Supplier, DomainError> {
        actor.require(Action::ReadPurchasing)?;
        self.deps
            .suppliers
            .get(&actor.tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("supplier"))
    }

    pub async fn list_suppliers(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<Supplier>, DomainError> {
        actor.require(Action::ReadPurchasing)?;
        Ok(self.deps.suppliers.list(&actor.tenant_id, page).await?)
    }

    /// Applies `patch` if `precondition` admits the supplier's current version; the write is
    /// conditional on the version read (see [`crate::precondition`]).
    pub async fn update_supplier(
        &self,
        actor: &Actor,
        id: &SupplierId,
        patch: SupplierPatch,
        precondition: Option<Precondition>,
    ) -> Result<Supplier, DomainError> {
        actor.require(Action::WritePurchasing)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut supplier = self.get_supplier(actor, id).await?;
            let read = supplier.version();
            Precondition::check(precondition.as_ref(), "supplier", read)?;
            if let Some(name) = patch.name.clone() {
                supplier.name = name;
            }
            if let Some(email) = patch.email.clone() {
                supplier.email = email;
            }
            if let Some(phone) = patch.phone.clone() {
                supplier.phone = phone;
            }
            if let Some(days) = patch.lead_time_days {
                supplier.lead_time_days = days;
            }
            supplier.updated_at = next_edit_time(supplier.updated_at, self.deps.clock.now());
            match self
                .deps
                .suppliers
                .update(&actor.tenant_id, &supplier, Some(read))
                .await
            {
                Ok(()) => return Ok(supplier),
                Err(StoreError::NotFound) => return Err(DomainError::NotFound("supplier")),
                Err(StoreError::VersionConflict)
                    if retries(precondition.as_ref()) && attempt < EDIT_ATTEMPTS => {}
                Err(StoreError::VersionConflict) => {
                    return Err(lost_race(precondition.as_ref(), "supplier", id.to_string()))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Deletes a supplier without open purchase orders; with a `precondition` naming versions,
    /// conditional on the current one.
    pub async fn delete_supplier(
        &self,
        actor: &Actor,
        id: &SupplierId,
        precondition: Option<Precondition>,
    ) -> Result<(), DomainError> {
        actor.require(Action::WritePurchasing)?;
        let current = match precondition {
            Some(Precondition::OneOf(_)) => Some(self.get_supplier(actor, id).await?.version()),
            _ => None,
        };
        let expected = delete_guard(precondition.as_ref(), "supplier", current)?;
        match self
            .deps
            .suppliers
            .delete(&actor.tenant_id, id, expected)
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(DomainError::NotFound("supplier")),
            Err(StoreError::VersionConflict) => {
                Err(DomainError::PreconditionFailed { entity: "supplier" })
            }
            Err(StoreError::InUse) => Err(DomainError::Conflict(
                "the supplier has open purchase orders; receive, cancel or close them first".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn create_purchase_order(
        &self,
        actor: &Actor,
        new: NewPurchaseOrder,
        idem: Option<Idempotency<PurchaseOrder>>,
    ) -> Result<Outcome<PurchaseOrder>, DomainError> {
        actor.require(Action::WritePurchasing)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                self.check_references(&tenant, Some(&new.supplier_id), Some(&new.lines))
                    .await?;
                let destination =
                    resolve(&self.deps, &tenant, new.location_id, "locationId").await?;
                let po = PurchaseOrder::draft(actor, new, destination.id, self.deps.clock.now())?;
                let written = po.clone();
                let write = LedgerWrite {
                    changes: Vec::new(),
                    document: DocumentWrite::InsertPurchaseOrder(po.clone()),
                    idempotency: scope.map(|s| s.ledger(move |_| written.clone())),
                };
                match self.deps.commit_stock(&tenant, write).await? {
                    Ok(_) => Ok(po),
                    // Deleted since it was read: the store checks it inside the write.
                    Err(LedgerError::Store(StoreError::NotFound)) => {
                        Err(DomainError::invalid("supplierId", "no such supplier"))
                    }
                    Err(e) => Err(ledger_error(e)),
                }
            })
            .await
    }

    pub async fn get_purchase_order(
        &self,
        actor: &Actor,
        id: &PurchaseOrderId,
    ) -> Result<PurchaseOrder, DomainError> {
        actor.require(Action::ReadPurchasing)?;
        self.deps
            .purchase_orders
            .get(&actor.tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("purchase order"))
    }

    pub async fn list_purchase_orders(
        &self,
        actor: &Actor,
        filter: &PurchaseOrderFilter,
        page: &PageRequest,
    ) -> Result<Page<PurchaseOrder>, DomainError> {
        actor.require(Action::ReadPurchasing)?;
        Ok(self
            .deps
            .purchase_orders
            .list(&actor.tenant_id, filter, page)
            .await?)
    }

    /// Edits a DRAFT purchase order.
    pub async fn update_purchase_order(
        &self,
        actor: &Actor,
        id: &PurchaseOrderId,
        patch: PurchaseOrderPatch,
        precondition: Option<Precondition>,
    ) -> Result<PurchaseOrder, DomainError> {
        actor.require(Action::WritePurchasing)?;
        let tenant = actor.tenant_id;
        let current = self.get_purchase_order(actor, id).await?;
        // `If-Match` names a version; the ledger write below is guarded by the one read.
        Precondition::check(precondition.as_ref(), "purchase order", current.version)?;
        current.require_editable()?;
        self.check_references(&tenant, patch.supplier_id.as_ref(), patch.lines.as_deref())
            .await?;
        if patch.location_id.is_some() {
            resolve(&self.deps, &tenant, patch.location_id, "locationId").await?;
        }
        let transition = current.edit(patch, self.deps.clock.now())?;
        self.write(actor, &current, transition, None)
            .await
            .map_err(|e| refused_if_named(precondition.as_ref(), e))
    }

    /// DRAFT → ORDERED.
    pub async fn submit(
        &self,
        actor: &Actor,
        id: &PurchaseOrderId,
        idem: Option<Idempotency<PurchaseOrder>>,
    ) -> Result<Outcome<PurchaseOrder>, DomainError> {
        actor.require(Action::WritePurchasing)?;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let current = self.get_purchase_order(actor, id).await?;
                let transition = current.submit(self.deps.clock.now())?;
                self.write(actor, &current, transition, scope).await
            })
            .await
    }

    /// DRAFT or ORDERED → CANCELLED; PARTIALLY_RECEIVED → CLOSED (the rest will not come).
    pub async fn cancel(
        &self,
        actor: &Actor,
        id: &PurchaseOrderId,
        idem: Option<Idempotency<PurchaseOrder>>,
    ) -> Result<Outcome<PurchaseOrder>, DomainError> {
        actor.require(Action::WritePurchasing)?;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let current = self.get_purchase_order(actor, id).await?;
                let transition = current.cancel(self.deps.clock.now())?;
                self.write(actor, &current, transition, scope).await
            })
            .await
    }

    /// Receives goods: one PURCHASE movement per line. Receiving more than ordered − received
    /// on any line refuses the whole receipt.
    pub async fn receive(
        &self,
        actor: &Actor,
        id: &PurchaseOrderId,
        lines: Vec<LineRequest>,
        idem: Option<Idempotency<PurchaseOrder>>,
    ) -> Result<Outcome<PurchaseOrder>, DomainError> {
        actor.require(Action::ReceivePurchaseOrders)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let current = self.get_purchase_order(actor, id).await?;
                let now = self.deps.clock.now();
                let transition = current.receive(&lines, actor.user_id, now)?;
                let po = self.write(actor, &current, transition, scope).await?;
                self.deps
                    .publish(vec![DomainEvent::PurchaseOrderReceived {
                        tenant_id: tenant,
                        purchase_order_id: po.id,
                        location_id: po.location_id,
                        status: po.status.as_str(),
                        at: now,
                    }])
                    .await;
                Ok(po)
            })
            .await
    }

    /// Writes a transition of `current` in one ledger transaction, guarded by its version.
    async fn write(
        &self,
        actor: &Actor,
        current: &PurchaseOrder,
        transition: PurchaseOrderTransition,
        scope: Option<crate::idempotency::IdemScope<PurchaseOrder>>,
    ) -> Result<PurchaseOrder, DomainError> {
        let PurchaseOrderTransition { next, changes } = transition;
        let document = DocumentWrite::UpdatePurchaseOrder {
            purchase_order: next.clone(),
            expected_version: current.version,
        };
        self.deps
            .commit_transition(
                &actor.tenant_id,
                changes,
                document,
                next,
                scope,
                ("purchase order", current.id.to_string()),
            )
            .await
    }

    /// 422 when the supplier or a line's variant does not exist in the tenant, or a variant is
    /// listed twice.
    async fn check_references(
        &self,
        tenant: &TenantId,
        supplier: Option<&SupplierId>,
        lines: Option<&[PurchaseLineRequest]>,
    ) -> Result<(), DomainError> {
        let mut errors = FieldErrors::new();
        if let Some(supplier) = supplier {
            if self.deps.suppliers.get(tenant, supplier).await?.is_none() {
                errors.add("supplierId", "no such supplier");
            }
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
