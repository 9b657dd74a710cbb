//! The body of a ledger transaction: conditional stock changes, movements, the document and the
//! idempotency record, in that order (see `LedgerRepository::commit`).
//!
//! Each change is a conditional `$inc` — `{_id, tenantId, stock: {$gte: -delta}}` for a decrement
//! — so the store itself refuses to take stock below zero; there is no read-then-write. A change
//! that matches nothing is then explained by reading the variant inside the same transaction
//! (missing, stock mismatch, or a shortage). Shortages are collected over every change so the
//! caller learns all of them at once, and then the whole transaction is aborted.

use domain::error::Shortage;
use domain::idempotency::IdempotencyWrite;
use domain::ids::TenantId;
use domain::stock::models::{
    AppliedChange, Committed, DocumentWrite, LedgerError, LedgerWrite, StockChange,
};
use domain::values::{Sku, StockLevel};
use domain::StoreError;
use mongodb::bson::{doc, Document};
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;

use crate::documents::{movement_of, valid, MovementDoc, OrderDoc, PurchaseOrderDoc};
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

/// What one change did, or why it could not.
enum ChangeOutcome {
    Applied(AppliedChange),
    Short(Shortage),
}

impl MongoStore {
    /// The body of a ledger transaction; see [`LedgerRepository::commit`].
    pub(crate) async fn apply_ledger_write(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        write: &LedgerWrite,
    ) -> Result<Committed, Abort<LedgerError>> {
        let mut applied = Vec::with_capacity(write.changes.len());
        let mut shortages = Vec::new();
        for change in &write.changes {
            match self.apply_change(session, tenant, change).await? {
                ChangeOutcome::Applied(a) => applied.push(a),
                ChangeOutcome::Short(s) => shortages.push(s),
            }
        }
        if !shortages.is_empty() {
            return Err(Abort::Refuse(LedgerError::Insufficient(shortages)));
        }

        if !applied.is_empty() {
            let movements: Vec<MovementDoc> = applied
                .iter()
                .map(|a| MovementDoc::from(&a.movement))
                .collect();
            self.movements()
                .insert_many(movements)
                .session(&mut *session)
                .await
                .or_abort("recording movements")?;
        }

        self.apply_document(session, tenant, &write.document)
            .await?;

        let committed = Committed { applied };
        if let Some(idem) = &write.idempotency {
            let record = IdempotencyWrite {
                key: idem.key.clone(),
                fingerprint: idem.fingerprint.clone(),
                response: (idem.render)(&committed),
                created_at: idem.created_at,
                expires_at: idem.expires_at,
            };
            self.store_idempotency(session, tenant, &record).await?;
        }
        Ok(committed)
    }

    /// Applies one conditional stock change, or explains why it matched nothing.
    async fn apply_change(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        change: &StockChange,
    ) -> Result<ChangeOutcome, Abort<LedgerError>> {
        let variant = doc! {
            "_id": change.variant_id.to_string(),
            "tenantId": tenant.to_string(),
        };
        let mut condition = Document::new();
        if let Some(expected) = change.expected_stock {
            condition.insert("$eq", expected);
        }
        if change.delta < 0 {
            condition.insert("$gte", -change.delta);
        }
        let mut filter = variant.clone();
        if !condition.is_empty() {
            filter.insert("stock", condition);
        }
        let updated = self
            .variants()
            .find_one_and_update(
                filter,
                doc! {
                    "$inc": { "stock": change.delta },
                    "$set": { "updatedAt": crate::documents::bson_time(change.at) },
                },
            )
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await
            .or_abort("changing stock")?;
        if let Some(doc) = updated {
            let stock_after = doc.stock;
            return Ok(ChangeOutcome::Applied(AppliedChange {
                movement: movement_of(tenant, change, stock_after),
                sku: valid(Sku::new(&doc.sku), "variant SKU")?,
                reorder_level: valid(StockLevel::new(doc.reorder_level), "variant reorder level")?
                    .get(),
                stock_before: stock_after - change.delta,
            }));
        }

        let current = self
            .variants()
            .find_one(variant)
            .session(&mut *session)
            .await
            .or_abort("reading a variant's stock")?;
        let Some(current) = current else {
            return Err(Abort::Refuse(LedgerError::VariantMissing(
                change.variant_id,
            )));
        };
        match change.expected_stock {
            Some(expected) if expected != current.stock => {
                Err(Abort::Refuse(LedgerError::StockMismatch {
                    variant_id: change.variant_id,
                    expected,
                    actual: current.stock,
                }))
            }
            _ if current.stock + change.delta < 0 => Ok(ChangeOutcome::Short(Shortage {
                variant_id: change.variant_id,
                requested: -change.delta,
                available: current.stock,
            })),
            // The conditional update and this read see the same snapshot, so this cannot
            // happen; refuse rather than guess.
            _ => Err(Abort::Refuse(LedgerError::Store(StoreError::Other(
                anyhow::anyhow!(
                    "stock change of variant {} matched nothing although its stock {} allows it",
                    change.variant_id,
                    current.stock
                ),
            )))),
        }
    }

    /// Inserts the order or purchase order, or replaces it if its version is still the expected
    /// one (else `VersionConflict`).
    async fn apply_document(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        document: &DocumentWrite,
    ) -> Result<(), Abort<LedgerError>> {
        let tenant_id = tenant.to_string();
        let replaced = match document {
            DocumentWrite::None => return Ok(()),
            DocumentWrite::InsertOrder(order) => {
                let mut doc = OrderDoc::from(order);
                doc.tenant_id = tenant_id;
                self.orders()
                    .insert_one(doc)
                    .session(&mut *session)
                    .await
                    .or_abort("inserting an order")?;
                return Ok(());
            }
            DocumentWrite::InsertPurchaseOrder(po) => {
                let mut doc = PurchaseOrderDoc::from(po);
                doc.tenant_id = tenant_id;
                self.purchase_orders()
                    .insert_one(doc)
                    .session(&mut *session)
                    .await
                    .or_abort("inserting a purchase order")?;
                return Ok(());
            }
            DocumentWrite::UpdateOrder {
                order,
                expected_version,
            } => {
                let mut doc = OrderDoc::from(order);
                doc.tenant_id = tenant_id.clone();
                self.orders()
                    .replace_one(
                        doc! { "_id": &doc.id, "tenantId": &tenant_id, "version": *expected_version },
                        doc,
                    )
                    .session(&mut *session)
                    .await
                    .or_abort("updating an order")?
            }
            DocumentWrite::UpdatePurchaseOrder {
                purchase_order,
                expected_version,
            } => {
                let mut doc = PurchaseOrderDoc::from(purchase_order);
                doc.tenant_id = tenant_id.clone();
                self.purchase_orders()
                    .replace_one(
                        doc! { "_id": &doc.id, "tenantId": &tenant_id, "version": *expected_version },
                        doc,
                    )
                    .session(&mut *session)
                    .await
                    .or_abort("updating a purchase order")?
            }
        };
        if replaced.matched_count == 0 {
            return Err(Abort::Refuse(LedgerError::Store(
                StoreError::VersionConflict,
            )));
        }
        Ok(())
    }
}

impl From<StoreError> for Abort<LedgerError> {
    fn from(e: StoreError) -> Self {
        Abort::Refuse(LedgerError::Store(e))
    }
}
