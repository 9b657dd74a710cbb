//! The body of a ledger transaction: conditional stock changes, movements, the document and the
//! idempotency record, in that order (see `LedgerRepository::commit`).
//!
//! Each change is ONE conditional `findOneAndUpdate` of the variant document, whose levels are
//! maps by location id, one per state (`levels` on hand, `committed`). The filter names the
//! variant in the tenant and asks, of the level before the change, what the domain's
//! [`StockChange::requirements`] ask: `levels.<loc>` at least the on hand the change takes (and
//! equal to the expected stock when given), `committed.<loc>` at least the committed units it
//! releases, and on hand less committed at least the available units it takes — a comparison of
//! two fields, so an `$expr`. The update is one `$inc` of the level's states and the variant's
//! totals by the same amounts (`levels.<loc>` and `stock` by the delta, `committed.<loc>` and
//! `committedTotal` by the committed units, `inTransit` by the units in transit), so the store
//! itself refuses to take any state or the units available below zero, and the level and the
//! totals move together in one document write; there is no read-then-write. A level the variant
//! never had is missing fields: it holds 0 of everything, so it meets no clause but "at least 0"
//! (no clause) and "expected 0" (`$or: [{$exists: false}, {$eq: 0}]`), and `$inc` creates it.
//! When a change matches nothing, the level's states are read inside the same transaction (0
//! when absent, `None` when the variant is) and handed to the domain's [`Application`], which
//! decides why (missing, stock mismatch, or a shortage — collected over every change so the
//! caller learns all of them at once) and builds the movements — one for each change that moved
//! on hand; a change of committed units alone records none. Any refusal aborts the whole
//! transaction.

use domain::ids::TenantId;
use domain::stock::apply::{Application, VariantAfter};
use domain::stock::models::{Committed, DocumentWrite, LedgerError, LedgerWrite, StockChange};
use domain::stock::state::{Requirements, StockState};
use domain::values::{Sku, StockLevel};
use domain::StoreError;
use mongodb::bson::{doc, Document};
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;

use super::catalog_variants::available_at;
use super::locations::{committed_path, level_path};
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
        // The document first: a transition decided from a stale version is a conflict, whatever
        // its stock changes would have found.
        self.apply_document(session, tenant, &write.document)
            .await?;
        let mut application = Application::new(tenant, write);
        for change in &write.changes {
            match self.conditional_update(session, tenant, change).await? {
                Some(after) => application.applied(change, after),
                None => {
                    let state = self.current_state(session, tenant, change).await?;
                    application.refused(change, state).map_err(Abort::Refuse)?;
                }
            }
        }
        let committed = application.finish().map_err(Abort::Refuse)?;

        let movements: Vec<MovementDoc> = committed
            .applied
            .iter()
            .filter_map(|a| a.movement.as_ref())
            .map(MovementDoc::from)
            .collect();
        if !movements.is_empty() {
            self.movements()
                .insert_many(movements)
                .session(&mut *session)
                .await
                .or_abort("recording movements")?;
        }

        if let Some(record) = write.idempotency_record(&committed) {
            self.store_idempotency(session, tenant, &record).await?;
        }
        Ok(committed)
    }

    /// The atomic conditional write: a `$inc` of the level's states and the variant's totals,
    /// matching only a variant of the tenant whose level meets the change's requirements and
    /// holds the expected stock when one is given. `None` when it matched nothing.
    async fn conditional_update(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        change: &StockChange,
    ) -> Result<Option<VariantAfter>, Abort<LedgerError>> {
        let location = change.location_id.to_string();
        let mut filter = variant_key(tenant, change);
        filter.extend(level_condition(
            &location,
            &change.requirements(),
            change.expected_stock,
        ));
        let mut inc = doc! { level_path(&location): change.delta, "stock": change.delta };
        let committed = change.claims.committed;
        if committed != 0 {
            inc.insert(committed_path(&location), committed);
            inc.insert("committedTotal", committed);
        }
        if change.in_transit_delta != 0 {
            inc.insert("inTransit", change.in_transit_delta);
        }
        let updated = self
            .variants()
            .find_one_and_update(filter, doc! { "$inc": inc })
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await
            .or_abort("changing stock")?;
        let Some(doc) = updated else {
            return Ok(None);
        };
        Ok(Some(VariantAfter {
            level: doc.state_at(&location),
            total: doc.total(),
            sku: valid(Sku::new(&doc.sku), "variant SKU")?,
            reorder_level: valid(StockLevel::new(doc.reorder_level), "variant reorder level")?
                .get(),
        }))
    }

    /// The states of a change's level, read in the transaction: all 0 when the variant has no
    /// level there, `None` when the variant is missing.
    async fn current_state(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        change: &StockChange,
    ) -> Result<Option<StockState>, Abort<LedgerError>> {
        let current = self
            .variants()
            .find_one(variant_key(tenant, change))
            .session(&mut *session)
            .await
            .or_abort("reading a variant's stock")?;
        Ok(current.map(|v| v.state_at(&change.location_id.to_string())))
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

/// The filter clauses that let a change apply to the level at `location`: on hand at least
/// `need.on_hand` and exactly `expected` when given, committed at least `need.claims.committed`,
/// and on hand less committed at least `need.available`. A missing field counts as 0, so it
/// passes "at least 0" (no clause) and "exactly 0" (`$exists: false` or 0), and fails anything
/// more; inside `$expr` it is made 0 with `$ifNull`.
pub(crate) fn level_condition(
    location: &str,
    need: &Requirements,
    expected: Option<i64>,
) -> Document {
    let on_hand = level_path(location);
    let committed = committed_path(location);
    let mut clauses = match expected {
        Some(0) if need.on_hand == 0 => doc! {
            "$or": [ { &on_hand: { "$exists": false } }, { &on_hand: 0_i64 } ],
        },
        Some(expected) => doc! { &on_hand: { "$gte": need.on_hand, "$eq": expected } },
        None if need.on_hand > 0 => doc! { &on_hand: { "$gte": need.on_hand } },
        None => Document::new(),
    };
    if need.claims.committed > 0 {
        clauses.insert(&committed, doc! { "$gte": need.claims.committed });
    }
    if need.available > 0 {
        clauses.insert(
            "$expr",
            doc! { "$gte": [available_at(location), need.available] },
        );
    }
    clauses
}

/// The filter naming a change's variant within the tenant.
fn variant_key(tenant: &TenantId, change: &StockChange) -> Document {
    doc! {
        "_id": change.variant_id.to_string(),
        "tenantId": tenant.to_string(),
    }
}
