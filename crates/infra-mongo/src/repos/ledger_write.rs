//! The body of a ledger transaction: conditional stock changes, movements, the document and the
//! idempotency record, in that order (see `LedgerRepository::commit`).
//!
//! Each change is a conditional `$inc` — `{_id, tenantId, stock: {$gte: required}}` — so the store
//! itself refuses to take stock below zero; there is no read-then-write. When a change matches
//! nothing, the variant's stock is read inside the same transaction and handed to the domain's
//! [`Application`], which decides why (missing, stock mismatch, or a shortage — collected over
//! every change so the caller learns all of them at once) and builds the movements; any refusal
//! aborts the whole transaction.

use domain::ids::TenantId;
use domain::stock::apply::{Application, VariantAfter};
use domain::stock::models::{Committed, DocumentWrite, LedgerError, LedgerWrite, StockChange};
use domain::values::{Sku, StockLevel};
use domain::StoreError;
use mongodb::bson::{doc, Document};
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;

use crate::documents::{valid, MovementDoc, OrderDoc, PurchaseOrderDoc};
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

impl MongoStore {
    /// The body of a ledger transaction; see [`LedgerRepository::commit`]. The domain's
    /// [`Application`] decides what each outcome means; this only reads and writes.
    pub(crate) async fn apply_ledger_write(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        write: &LedgerWrite,
    ) -> Result<Committed, Abort<LedgerError>> {
        let mut application = Application::new(tenant, write);
        for change in &write.changes {
            match self.conditional_update(session, tenant, change).await? {
                Some(after) => application.applied(change, after),
                None => {
                    let stock = self.current_stock(session, tenant, change).await?;
                    application.refused(change, stock).map_err(Abort::Refuse)?;
                }
            }
        }
        let committed = application.finish().map_err(Abort::Refuse)?;

        if !committed.applied.is_empty() {
            let movements: Vec<MovementDoc> = committed
                .applied
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

        if let Some(record) = write.idempotency_record(&committed) {
            self.store_idempotency(session, tenant, &record).await?;
        }
        Ok(committed)
    }

    /// The atomic conditional write: a `$inc` matching only a variant of the tenant at the
    /// expected stock (when one is given) holding at least the change's required stock. `None`
    /// when it matched nothing.
    async fn conditional_update(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        change: &StockChange,
    ) -> Result<Option<VariantAfter>, Abort<LedgerError>> {
        let mut filter = variant_key(tenant, change);
        let mut condition = doc! { "$gte": change.required_stock() };
        if let Some(expected) = change.expected_stock {
            condition.insert("$eq", expected);
        }
        filter.insert("stock", condition);
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
        let Some(doc) = updated else {
            return Ok(None);
        };
        Ok(Some(VariantAfter {
            stock: doc.stock,
            sku: valid(Sku::new(&doc.sku), "variant SKU")?,
            reorder_level: valid(StockLevel::new(doc.reorder_level), "variant reorder level")?
                .get(),
        }))
    }

    /// The stock of a change's variant, read in the transaction; `None` when it is missing.
    async fn current_stock(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        change: &StockChange,
    ) -> Result<Option<i64>, Abort<LedgerError>> {
        let current = self
            .variants()
            .find_one(variant_key(tenant, change))
            .session(&mut *session)
            .await
            .or_abort("reading a variant's stock")?;
        Ok(current.map(|v| v.stock))
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

/// The filter naming a change's variant within the tenant.
fn variant_key(tenant: &TenantId, change: &StockChange) -> Document {
    doc! {
        "_id": change.variant_id.to_string(),
        "tenantId": tenant.to_string(),
    }
}
