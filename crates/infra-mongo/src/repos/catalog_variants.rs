//! Variants, unique by SKU within a tenant. Their stock and levels (on hand and each kept claim,
//! with the totals of each, and the reservations' holds) are written only by the ledger; what is
//! available (on hand less every claim, the holds live at the instant of the read included) is
//! derived, and the low-stock filter compares it with the reorder level in an `$expr`;
//! their `incoming` (units still due on open purchase orders, per destination) is kept in the
//! document by every purchase-order write (see `incoming`), and `in_transit` (units shipped on
//! transfers, not yet received) by the ledger's transfer movements — so reading a variant is one
//! `find` of its document, and a list one `find` of a page.

use async_trait::async_trait;
use chrono::Utc;
use domain::catalog::models::{Variant, VariantFilter};
use domain::catalog::ports::VariantRepository;
use domain::idempotency::IdempotencyWrite;
use domain::ids::{TenantId, VariantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::precondition::Version;
use domain::StoreError;
use futures::TryStreamExt;
use mongodb::bson::{self, doc, Bson, Document};

use crate::documents::{
    attributes_bson, bson_time, level_path, version_time, KeptClaim, VariantDoc,
};
use crate::errors::{corrupt, unmatched_edit, StoreResult};
use crate::paging::read_page;
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

impl MongoStore {
    /// Runs `pipeline` on `collection` and collects its (small, aggregated) rows.
    pub(crate) async fn aggregate_rows<T: Send + Sync>(
        &self,
        collection: mongodb::Collection<T>,
        pipeline: Vec<Document>,
        doing: &str,
    ) -> Result<Vec<Document>, StoreError> {
        collection
            .aggregate(pipeline)
            .await
            .store(doing)?
            .try_collect()
            .await
            .store(doing)
    }
}

/// Domain variants from their documents as they are at `now` (their live holds and the units
/// incoming they keep).
pub(crate) fn with_details(
    docs: Vec<VariantDoc>,
    now: bson::DateTime,
) -> Result<Vec<Variant>, StoreError> {
    docs.into_iter().map(|d| d.into_variant(now)).collect()
}

/// `$<path>`, or 0 where the document has no such field.
fn field_or_zero(path: &str) -> Bson {
    Bson::Document(doc! { "$ifNull": [format!("${path}"), 0_i64] })
}

/// The expression of Σ units of a variant document's holds live at `now` — `e` after it — at
/// `location`, or at every level when `None`.
pub(crate) fn live_reserved(location: Option<&str>, now: bson::DateTime) -> Document {
    let mut live = vec![Bson::Document(doc! { "$gt": ["$$this.e", now] })];
    if let Some(location) = location {
        live.push(Bson::Document(doc! { "$eq": ["$$this.l", location] }));
    }
    doc! { "$reduce": {
        "input": { "$ifNull": ["$holds", []] },
        "initialValue": 0_i64,
        "in": { "$add": ["$$value", { "$cond": [{ "$and": live }, "$$this.q", 0_i64] }] },
    }}
}

/// The expression of a variant document's units available in total at `now`: on hand less
/// every kept claim's total and the live holds (a missing total: none of it).
pub(crate) fn available_total(now: bson::DateTime) -> Document {
    let mut claims: Vec<Bson> = KeptClaim::ALL
        .iter()
        .map(|c| field_or_zero(c.total_field()))
        .collect();
    claims.push(Bson::Document(live_reserved(None, now)));
    doc! { "$subtract": ["$stock", { "$add": claims }] }
}

/// The expression of a variant document's units available at `location` at `now`: on hand less
/// every kept claim and the live holds there, each 0 where the level has no entry.
pub(crate) fn available_at(location: &str, now: bson::DateTime) -> Document {
    let mut claims: Vec<Bson> = KeptClaim::ALL
        .iter()
        .map(|c| field_or_zero(&c.path(location)))
        .collect();
    claims.push(Bson::Document(live_reserved(Some(location), now)));
    doc! { "$subtract": [field_or_zero(&level_path(location)), { "$add": claims }] }
}

/// The instant reads and writes judge holds at: now, at the store's millisecond precision.
pub(crate) fn instant() -> bson::DateTime {
    bson_time(Utc::now())
}

/// A numeric aggregation result as i64, whichever integer width the server chose.
pub(crate) fn integer(value: Option<&Bson>, what: &str) -> Result<i64, StoreError> {
    match value {
        Some(Bson::Int64(n)) => Ok(*n),
        Some(Bson::Int32(n)) => Ok(i64::from(*n)),
        None => Ok(0),
        Some(other) => Err(corrupt(what, other)),
    }
}

#[async_trait]
impl VariantRepository for MongoStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        variant: &Variant,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError> {
        let mut doc = VariantDoc::new_variant(variant);
        doc.tenant_id = tenant.to_string();
        let (tenant, product) = (*tenant, variant.product_id.to_string());
        // Always a transaction: the product is claimed in it, so a deletion racing this insert
        // conflicts with it instead of leaving the variant orphaned (see `claim_parent`).
        self.in_transaction(move |session| {
            let store = self.clone();
            let (doc, record, product) = (doc.clone(), idempotency.clone(), product.clone());
            Box::pin(async move {
                store
                    .claim_parent(
                        session,
                        &store.products(),
                        &tenant,
                        &product,
                        "claiming the variant's product",
                    )
                    .await?;
                store
                    .variants()
                    .insert_one(doc)
                    .session(&mut *session)
                    .await
                    .or_abort("creating a variant")?;
                match record {
                    Some(record) => store.store_idempotency(session, &tenant, &record).await,
                    None => Ok(()),
                }
            })
        })
        .await
    }

    async fn get(&self, tenant: &TenantId, id: &VariantId) -> Result<Option<Variant>, StoreError> {
        let now = instant();
        self.variants()
            .find_one(doc! { "_id": id.to_string(), "tenantId": tenant.to_string() })
            .await
            .store("reading a variant")?
            .map(|d| d.into_variant(now))
            .transpose()
    }

    async fn get_many(
        &self,
        tenant: &TenantId,
        ids: &[VariantId],
    ) -> Result<Vec<Variant>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let now = instant();
        let docs: Vec<VariantDoc> = self
            .variants()
            .find(doc! { "_id": { "$in": ids }, "tenantId": tenant.to_string() })
            .await
            .store("reading variants")?
            .try_collect()
            .await
            .store("reading variants")?;
        with_details(docs, now)
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &VariantFilter,
        page: &PageRequest,
    ) -> Result<Page<Variant>, StoreError> {
        let now = instant();
        let mut query = doc! { "tenantId": tenant.to_string() };
        if let Some(product) = &filter.product_id {
            query.insert("productId", product.to_string());
        }
        if let Some(sku) = &filter.sku {
            query.insert("sku", sku.as_str());
        }
        if filter.low_stock {
            query.insert(
                "$expr",
                doc! { "$lte": [available_total(now), "$reorderLevel"] },
            );
        }
        let docs = read_page(
            &self.variants(),
            query,
            page,
            Direction::Ascending,
            Ok,
            |d: &VariantDoc| d.id.clone(),
        )
        .await?;
        let next_cursor = docs.next_cursor;
        let items = with_details(docs.items, now)?;
        Ok(Page { items, next_cursor })
    }

    async fn update(
        &self,
        tenant: &TenantId,
        variant: &Variant,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let attributes = attributes_bson(&variant.attributes)?;
        let mut filter = doc! { "_id": variant.id.to_string(), "tenantId": tenant.to_string() };
        if let Some(version) = expected_version {
            // `updatedAt` in milliseconds (the ledger never sets it), matched in the write.
            filter.insert("updatedAt", version_time(version));
        }
        let result = self
            .variants()
            .update_one(
                filter,
                doc! { "$set": {
                    "productId": variant.product_id.to_string(),
                    "sku": variant.sku.as_str(),
                    "attributes": attributes,
                    "price": variant.price.minor_units(),
                    "reorderLevel": variant.reorder_level.get(),
                    "updatedAt": bson_time(variant.updated_at),
                }},
            )
            .await
            .store("updating a variant")?;
        if result.matched_count == 0 {
            let key = doc! { "_id": variant.id.to_string(), "tenantId": tenant.to_string() };
            return Err(unmatched_edit(&self.variants(), key, "variant").await);
        }
        Ok(())
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        id: &VariantId,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let tenant = tenant.to_string();
        let id = id.to_string();
        self.in_transaction(move |session| {
            let store = self.clone();
            let tenant = tenant.clone();
            let id = id.clone();
            Box::pin(async move {
                let variant = doc! { "_id": &id, "tenantId": &tenant };
                let now = instant();
                let found = store
                    .variants()
                    .find_one(variant.clone())
                    .session(&mut *session)
                    .await
                    .or_abort("reading the variant to delete")?;
                let Some(found) = found else {
                    return Err(Abort::Refuse(StoreError::NotFound));
                };
                if expected_version.is_some_and(|v| found.updated_at.timestamp_millis() != v) {
                    return Err(Abort::Refuse(StoreError::VersionConflict));
                }
                // Units in transit are the ledger's counter on the document itself, and so are
                // its committed units and holds; a hold that has expired holds nothing.
                if found.stock != 0
                    || found.in_transit != 0
                    || found.committed_total != 0
                    || found.holds.iter().any(|h| h.is_live(now))
                {
                    return Err(Abort::Refuse(StoreError::InUse));
                }
                // Conditional on what was read: a stock change racing this delete either
                // collides with it (and one of them is retried) or finds no variant. Its levels
                // and expired holds are inside the document and go with it.
                let mut empty = variant;
                empty.insert("stock", 0_i64);
                // And on the version read: an edit in between leaves the variant standing.
                empty.insert("updatedAt", found.updated_at);
                empty.insert(
                    "holds",
                    doc! { "$not": { "$elemMatch": { "e": { "$gt": now } } } },
                );
                let deleted = store
                    .variants()
                    .delete_one(empty)
                    .session(&mut *session)
                    .await
                    .or_abort("deleting a variant")?;
                if deleted.deleted_count == 0 {
                    return Err(Abort::Refuse(StoreError::InUse));
                }
                Ok(())
            })
        })
        .await
    }
}
