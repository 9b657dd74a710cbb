//! Units incoming — still due on open purchase orders — kept on the variant document, so that a
//! variant read is one `find` and never an aggregation over purchase orders.
//!
//! A variant document's `incoming` is a map by location id of Σ (quantity − received) over the
//! lines of its tenant's purchase orders whose status counts as incoming
//! ([`PurchaseOrderStatus::INCOMING`]) bound for that location. Every purchase-order write
//! changes it inside the same transaction: the write computes the order's contribution before
//! (the document it replaces, returned by the version-guarded replace itself) and after, and
//! `$inc`s each variant whose contribution changed by the difference. So creating, ordering,
//! editing lines, receiving, cancelling and closing all move it, and a concurrent write to the
//! same order or variant conflicts with this one and is retried, as any ledger transaction.
//!
//! An entry that drops to 0 stays in the map (an `$inc` cannot remove it); readers skip it.
//! [`MongoStore::recount_incoming`] computes one variant's map from the purchase orders, for the
//! migration of documents written before the map existed.

use std::collections::{BTreeMap, BTreeSet};

use domain::ids::TenantId;
use domain::purchasing::models::{PurchaseOrder, PurchaseOrderStatus};
use domain::stock::models::LedgerError;
use domain::StoreError;
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;

use super::catalog_variants::integer;
use crate::documents::PurchaseOrderDoc;
use crate::errors::corrupt;
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

/// Units due per variant id and location id.
type Due = BTreeMap<(String, String), i64>;

/// The field path of a location's incoming units inside a variant document.
pub(crate) fn incoming_path(location: &str) -> String {
    format!("incoming.{location}")
}

/// The statuses counted as incoming, as stored.
pub(crate) fn incoming_statuses() -> Vec<&'static str> {
    PurchaseOrderStatus::INCOMING
        .iter()
        .map(|s| s.as_str())
        .collect()
}

/// What a purchase order contributes to its variants' incoming units: quantity − received of
/// each line at its destination while its status counts as incoming, nothing otherwise.
fn contribution(po: &PurchaseOrderDoc) -> Due {
    let mut due = Due::new();
    let counted = PurchaseOrderStatus::parse(&po.status)
        .is_some_and(|s| PurchaseOrderStatus::INCOMING.contains(&s));
    if !counted {
        return due;
    }
    for line in &po.lines {
        *due.entry((line.variant_id.clone(), po.location_id.clone()))
            .or_default() += line.quantity - line.received;
    }
    due
}

/// The change of each variant's incoming units, by location id, from `before` to `after`
/// (`None`: no such order); variants whose units do not change are left out.
fn changes(
    before: Option<&PurchaseOrderDoc>,
    after: &PurchaseOrderDoc,
) -> BTreeMap<String, Document> {
    let mut delta = contribution(after);
    if let Some(before) = before {
        for (key, units) in contribution(before) {
            *delta.entry(key).or_default() -= units;
        }
    }
    let mut by_variant: BTreeMap<String, Document> = BTreeMap::new();
    for ((variant, location), units) in delta {
        if units != 0 {
            by_variant
                .entry(variant)
                .or_default()
                .insert(incoming_path(&location), units);
        }
    }
    by_variant
}

impl MongoStore {
    /// Inserts a purchase order and counts what it has due (if its status counts) into its
    /// variants' incoming units, in the caller's transaction.
    pub(crate) async fn insert_purchase_order(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        po: &PurchaseOrder,
    ) -> Result<(), Abort<LedgerError>> {
        // Claimed in this transaction, so a deletion racing this insert conflicts with it
        // instead of leaving the purchase order without its supplier (see `claim_parent`).
        self.claim_parent(
            session,
            &self.suppliers(),
            tenant,
            &po.supplier_id.to_string(),
            "claiming the purchase order's supplier",
        )
        .await?;
        let mut doc = PurchaseOrderDoc::from(po);
        doc.tenant_id = tenant.to_string();
        let changes = changes(None, &doc);
        self.purchase_orders()
            .insert_one(doc)
            .session(&mut *session)
            .await
            .or_abort("inserting a purchase order")?;
        self.move_incoming(session, tenant, changes).await
    }

    /// Replaces a purchase order if its version is still `expected_version` (else
    /// `VersionConflict`) and moves its variants' incoming units by the difference between what
    /// the replaced document and the new one have due, in the caller's transaction.
    pub(crate) async fn replace_purchase_order(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        po: &PurchaseOrder,
        expected_version: i64,
    ) -> Result<(), Abort<LedgerError>> {
        let mut doc = PurchaseOrderDoc::from(po);
        doc.tenant_id = tenant.to_string();
        let guarded = doc! {
            "_id": &doc.id, "tenantId": tenant.to_string(), "version": expected_version,
        };
        let before = self
            .purchase_orders()
            .find_one_and_replace(guarded, &doc)
            .return_document(ReturnDocument::Before)
            .session(&mut *session)
            .await
            .or_abort("updating a purchase order")?;
        let Some(before) = before else {
            return Err(Abort::Refuse(LedgerError::Store(
                StoreError::VersionConflict,
            )));
        };
        if before.supplier_id != doc.supplier_id {
            // Moved to another supplier: claimed like a new purchase order's.
            self.claim_parent(
                session,
                &self.suppliers(),
                tenant,
                &doc.supplier_id,
                "claiming the purchase order's supplier",
            )
            .await?;
        }
        let changes = changes(Some(&before), &doc);
        self.move_incoming(session, tenant, changes).await
    }

    /// One `$inc` per variant of its incoming units by location. A variant that is gone has
    /// nothing to count (a variant on an open purchase order cannot be deleted while it is due
    /// stock only by a race the delete's own transaction conflicts with).
    async fn move_incoming(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        changes: BTreeMap<String, Document>,
    ) -> Result<(), Abort<LedgerError>> {
        for (variant, inc) in changes {
            self.variants()
                .update_one(
                    doc! { "_id": variant, "tenantId": tenant.to_string() },
                    doc! { "$inc": inc },
                )
                .session(&mut *session)
                .await
                .or_abort("counting a variant's incoming units")?;
        }
        Ok(())
    }

    /// Sets one variant's incoming units from its tenant's purchase orders, read in one
    /// transaction with the write: a purchase-order write that lands in between conflicts with
    /// it and one of them is retried, so the map is exact when it commits.
    pub(crate) async fn recount_incoming(
        &self,
        tenant: &str,
        variant: &str,
    ) -> Result<(), StoreError> {
        let tenant = tenant.to_owned();
        let variant = variant.to_owned();
        self.in_transaction(move |session| {
            let store = self.clone();
            let tenant = tenant.clone();
            let variant = variant.clone();
            Box::pin(async move {
                let pipeline = vec![
                    doc! { "$match": {
                        "tenantId": &tenant,
                        "status": { "$in": incoming_statuses() },
                        "lines.variantId": &variant,
                    }},
                    doc! { "$unwind": "$lines" },
                    doc! { "$match": { "lines.variantId": &variant } },
                    doc! { "$group": {
                        "_id": "$locationId",
                        "incoming": { "$sum": { "$subtract": ["$lines.quantity", "$lines.received"] } },
                    }},
                ];
                let rows: Vec<Document> = store
                    .purchase_orders()
                    .aggregate(pipeline)
                    .session(&mut *session)
                    .await
                    .or_abort("counting a variant's incoming units")?
                    .stream(&mut *session)
                    .try_collect()
                    .await
                    .or_abort("counting a variant's incoming units")?;
                let mut incoming = Document::new();
                for row in rows {
                    let location = row
                        .get_str("_id")
                        .map_err(|e| Abort::Refuse(corrupt("incoming units row", e)))?;
                    let units =
                        integer(row.get("incoming"), "incoming units").map_err(Abort::Refuse)?;
                    if units != 0 {
                        incoming.insert(location, units);
                    }
                }
                store
                    .variants()
                    .update_one(
                        doc! { "_id": &variant, "tenantId": &tenant },
                        doc! { "$set": { "incoming": incoming } },
                    )
                    .session(&mut *session)
                    .await
                    .or_abort("setting a variant's incoming units")?;
                Ok::<(), Abort<StoreError>>(())
            })
        })
        .await
    }

    /// Every (tenant id, variant id) whose incoming units may be wrong before the migration: the
    /// variants named on a purchase order whose status counts, then those whose map has an entry
    /// (an instance counting them may have moved them from nothing; a variant created with an
    /// empty map has had nothing counted, and has nothing to correct unless an order names it). Read in that order, a
    /// variant whose purchase orders stop counting between the two reads has the map by then.
    pub(crate) async fn variants_to_recount(
        &self,
    ) -> Result<BTreeSet<(String, String)>, StoreError> {
        let doing = "listing variants with incoming units";
        let rows = self
            .aggregate_rows(
                self.purchase_orders(),
                vec![
                    doc! { "$match": { "status": { "$in": incoming_statuses() } } },
                    doc! { "$unwind": "$lines" },
                    doc! { "$group": {
                        "_id": { "tenant": "$tenantId", "variant": "$lines.variantId" },
                    }},
                ],
                doing,
            )
            .await?;
        let mut found = BTreeSet::new();
        for row in rows {
            let key = row.get_document("_id").map_err(|e| corrupt(doing, e))?;
            let text = |field: &str| {
                key.get_str(field)
                    .map(str::to_owned)
                    .map_err(|e| corrupt(doing, e))
            };
            found.insert((text("tenant")?, text("variant")?));
        }
        let mut kept = self
            .raw(crate::store::collections::VARIANTS)
            .find(doc! { "incoming": { "$exists": true, "$ne": {} } })
            .projection(doc! { "_id": 1, "tenantId": 1 })
            .await
            .map_err(|e| StoreError::Other(anyhow::Error::new(e).context(doing)))?;
        while let Some(v) = kept
            .try_next()
            .await
            .map_err(|e| StoreError::Other(anyhow::Error::new(e).context(doing)))?
        {
            let text = |field: &str| match v.get(field) {
                Some(Bson::String(s)) => Ok(s.clone()),
                other => Err(corrupt(doing, format!("{other:?}"))),
            };
            found.insert((text("tenantId")?, text("_id")?));
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn po(status: &str, location: &str, lines: &[(&str, i64, i64)]) -> PurchaseOrderDoc {
        let lines: Vec<Document> = lines
            .iter()
            .map(|(v, quantity, received)| {
                doc! {
                    "variantId": *v, "quantity": *quantity, "unitCost": 100_i64,
                    "received": *received,
                }
            })
            .collect();
        let at = mongodb::bson::DateTime::from_millis(0);
        mongodb::bson::from_document(doc! {
            "_id": "po", "tenantId": "t", "supplierId": "s", "locationId": location,
            "status": status, "lines": lines, "expectedAt": Bson::Null, "createdBy": "u",
            "createdAt": at, "updatedAt": at, "version": 1_i64,
        })
        .expect("a purchase order document")
    }

    #[test]
    fn a_draft_counts_nothing_and_ordering_counts_every_line() {
        let draft = po("DRAFT", "a", &[("v", 5, 0), ("w", 2, 0)]);
        assert!(changes(None, &draft).is_empty());
        let ordered = po("ORDERED", "a", &[("v", 5, 0), ("w", 2, 0)]);
        let moved = changes(Some(&draft), &ordered);
        assert_eq!(moved["v"], doc! { "incoming.a": 5_i64 });
        assert_eq!(moved["w"], doc! { "incoming.a": 2_i64 });
    }

    #[test]
    fn a_receipt_moves_only_the_lines_it_received() {
        let ordered = po("ORDERED", "a", &[("v", 5, 0), ("w", 2, 0)]);
        let partial = po("PARTIALLY_RECEIVED", "a", &[("v", 5, 3), ("w", 2, 0)]);
        let moved = changes(Some(&ordered), &partial);
        assert_eq!(moved.len(), 1);
        assert_eq!(moved["v"], doc! { "incoming.a": -3_i64 });
    }

    #[test]
    fn cancelling_a_partly_received_order_takes_back_what_was_still_due() {
        let partial = po("PARTIALLY_RECEIVED", "a", &[("v", 5, 3), ("w", 2, 0)]);
        for status in ["CANCELLED", "CLOSED", "RECEIVED"] {
            let ended = po(status, "a", &[("v", 5, 3), ("w", 2, 0)]);
            let moved = changes(Some(&partial), &ended);
            assert_eq!(moved["v"], doc! { "incoming.a": -2_i64 }, "{status}");
            assert_eq!(moved["w"], doc! { "incoming.a": -2_i64 }, "{status}");
        }
    }

    #[test]
    fn a_line_edit_moves_the_difference_and_a_new_destination_moves_it_all() {
        let ordered = po("ORDERED", "a", &[("v", 5, 0), ("w", 2, 0)]);
        let edited = po("ORDERED", "a", &[("v", 8, 0), ("x", 1, 0)]);
        let moved = changes(Some(&ordered), &edited);
        assert_eq!(moved["v"], doc! { "incoming.a": 3_i64 });
        assert_eq!(moved["w"], doc! { "incoming.a": -2_i64 });
        assert_eq!(moved["x"], doc! { "incoming.a": 1_i64 });
        let elsewhere = po("ORDERED", "b", &[("v", 5, 0)]);
        let moved = changes(Some(&po("ORDERED", "a", &[("v", 5, 0)])), &elsewhere);
        assert_eq!(
            moved["v"],
            doc! { "incoming.a": -5_i64, "incoming.b": 5_i64 }
        );
    }
}
