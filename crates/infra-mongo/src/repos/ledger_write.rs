//! The body of a ledger transaction: conditional stock changes, movements, the document and the
//! idempotency record, in that order (see `LedgerRepository::commit`).
//!
//! Each change is ONE conditional `findOneAndUpdate` of the variant document, whose levels are a
//! map by location id: the filter `{_id, tenantId, "levels.<loc>": {$gte: required}}` (plus the
//! expected stock when given) and the update `{$inc: {"levels.<loc>": delta, stock: delta}}`, so
//! the store itself refuses to take a level below zero and the level and the variant's total move
//! together in one document write; there is no read-then-write. A level the variant never had is
//! a missing field: it satisfies "at least 0" and "expected 0" (so no condition, or
//! `$or: [{$exists: false}, {$eq: 0}]`), and `$inc` creates it. When a change matches nothing, the
//! level is read inside the same transaction (0 when absent, `None` when the variant is) and
//! handed to the domain's [`Application`], which decides why (missing, stock mismatch, or a
//! shortage — collected over every change so the caller learns all of them at once) and builds
//! the movements; any refusal aborts the whole transaction.

use domain::ids::TenantId;
use domain::stock::apply::{Application, VariantAfter};
use domain::stock::models::{Committed, DocumentWrite, LedgerError, LedgerWrite, StockChange};
use domain::values::{Sku, StockLevel};
use domain::StoreError;
use mongodb::bson::{doc, Document};
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;

use crate::documents::{valid, MovementDoc, OrderDoc, PurchaseOrderDoc, TransferDoc};
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

    /// The atomic conditional write: a `$inc` of the level and the total, matching only a
    /// variant of the tenant whose level holds at least the change's required stock and equals
    /// the expected stock when one is given. `None` when it matched nothing.
    async fn conditional_update(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        change: &StockChange,
    ) -> Result<Option<VariantAfter>, Abort<LedgerError>> {
        let level = level_field(change);
        let mut filter = variant_key(tenant, change);
        filter.extend(level_condition(
            &level,
            change.required_stock(),
            change.expected_stock,
        ));
        let mut inc = doc! { &level: change.delta, "stock": change.delta };
        if change.in_transit_delta != 0 {
            inc.insert("inTransit", change.in_transit_delta);
        }
        let updated = self
            .variants()
            .find_one_and_update(
                filter,
                doc! { "$inc": inc },
            )
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await
            .or_abort("changing stock")?;
        let Some(doc) = updated else {
            return Ok(None);
        };
        let stock = level_of(&doc.levels, change);
        Ok(Some(VariantAfter {
            stock,
            total: doc.stock,
            sku: valid(Sku::new(&doc.sku), "variant SKU")?,
            reorder_level: valid(StockLevel::new(doc.reorder_level), "variant reorder level")?
                .get(),
        }))
    }

    /// The stock of a change's level, read in the transaction: 0 when the variant has no level
    /// there, `None` when the variant is missing.
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
        Ok(current.map(|v| level_of(&v.levels, change)))
    }

    /// Inserts the order, purchase order or transfer, or replaces it if its version is still the
    /// expected one (else `VersionConflict`).
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
            DocumentWrite::InsertTransfer(transfer) => {
                self.transfers()
                    .insert_one(TransferDoc::of(tenant, transfer))
                    .session(&mut *session)
                    .await
                    .or_abort("inserting a transfer")?;
                return Ok(());
            }
            DocumentWrite::UpdateTransfer {
                transfer,
                expected_version,
            } => {
                let doc = TransferDoc::of(tenant, transfer);
                self.transfers()
                    .replace_one(
                        doc! { "_id": &doc.id, "tenantId": &tenant_id, "version": *expected_version },
                        doc,
                    )
                    .session(&mut *session)
                    .await
                    .or_abort("updating a transfer")?
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

/// The field path of a change's level inside the variant document.
fn level_field(change: &StockChange) -> String {
    format!("levels.{}", change.location_id)
}

/// A change's level as stored in `levels` (0 when the variant has none there).
fn level_of(levels: &std::collections::BTreeMap<String, i64>, change: &StockChange) -> i64 {
    levels
        .get(&change.location_id.to_string())
        .copied()
        .unwrap_or(0)
}

/// The filter clause that lets a change apply to the level at `field`: at least `required`
/// units, and exactly `expected` when given. A missing level counts as 0, so it passes "at least
/// 0" (no clause) and "exactly 0" (`$exists: false` or 0), and fails anything more.
pub(crate) fn level_condition(field: &str, required: i64, expected: Option<i64>) -> Document {
    match expected {
        Some(0) if required == 0 => doc! {
            "$or": [ { field: { "$exists": false } }, { field: 0_i64 } ],
        },
        Some(expected) => doc! { field: { "$gte": required, "$eq": expected } },
        None if required > 0 => doc! { field: { "$gte": required } },
        None => Document::new(),
    }
}

/// The filter naming a change's variant within the tenant.
fn variant_key(tenant: &TenantId, change: &StockChange) -> Document {
    doc! {
        "_id": change.variant_id.to_string(),
        "tenantId": tenant.to_string(),
    }
}
