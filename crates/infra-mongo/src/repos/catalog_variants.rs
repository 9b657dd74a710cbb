//! Variants, unique by SKU within a tenant. Their stock and levels (on hand and committed, with
//! the totals of each) are written only by the ledger; what is available (on hand less committed)
//! is derived, and the low-stock filter compares it with the reorder level in an `$expr`;
//! their `incoming` (units still due on open purchase orders, per destination) and `in_transit`
//! (units shipped on transfers, not yet received) are computed by the server on every read — one
//! aggregation each per request, however many variants it reads.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use domain::catalog::models::{Variant, VariantFilter};
use domain::catalog::ports::VariantRepository;
use domain::idempotency::IdempotencyWrite;
use domain::ids::{TenantId, VariantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::purchasing::models::PurchaseOrderStatus;
use domain::StoreError;
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};

use super::locations::{committed_path, level_path};
use crate::documents::{attributes_bson, bson_time, VariantDoc};
use crate::errors::{corrupt, StoreResult};
use crate::paging::read_page;
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

/// Units per variant id and location id.
pub(crate) type ByLevel = HashMap<String, BTreeMap<String, i64>>;

impl MongoStore {
    /// Σ (quantity − received) per variant and destination location over this tenant's purchase
    /// orders that are ORDERED or PARTIALLY_RECEIVED, for the variants `ids` (every variant when
    /// `None`) and, when given, bound for `location` only; absent variants have none incoming.
    /// Variant reads, level listings and the low-stock report all count it here, with one
    /// aggregation however many variants are read.
    pub(crate) async fn incoming(
        &self,
        tenant: &TenantId,
        ids: Option<&[String]>,
        location: Option<&str>,
    ) -> Result<ByLevel, StoreError> {
        if ids.is_some_and(<[String]>::is_empty) {
            return Ok(HashMap::new());
        }
        let open: Vec<&str> = PurchaseOrderStatus::INCOMING
            .iter()
            .map(|s| s.as_str())
            .collect();
        let mut orders = doc! { "tenantId": tenant.to_string(), "status": { "$in": open } };
        if let Some(location) = location {
            orders.insert("locationId", location);
        }
        if let Some(ids) = ids {
            orders.insert("lines.variantId", doc! { "$in": ids });
        }
        let mut pipeline = vec![doc! { "$match": orders }, doc! { "$unwind": "$lines" }];
        if let Some(ids) = ids {
            pipeline.push(doc! { "$match": { "lines.variantId": { "$in": ids } } });
        }
        pipeline.push(doc! { "$group": {
            "_id": { "variant": "$lines.variantId", "location": "$locationId" },
            "incoming": { "$sum": { "$subtract": ["$lines.quantity", "$lines.received"] } },
        }});
        let rows = self
            .aggregate_rows(self.purchase_orders(), pipeline, "computing incoming stock")
            .await?;
        let mut incoming = ByLevel::new();
        for row in rows {
            let key = row
                .get_document("_id")
                .map_err(|e| corrupt("incoming stock row", e))?;
            let text = |field: &str| {
                key.get_str(field)
                    .map(str::to_owned)
                    .map_err(|e| corrupt("incoming stock row", e))
            };
            let units = integer(row.get("incoming"), "incoming stock")?;
            if units != 0 {
                incoming
                    .entry(text("variant")?)
                    .or_default()
                    .insert(text("location")?, units);
            }
        }
        Ok(incoming)
    }

    /// Domain variants from their documents, each with its incoming units per location: one
    /// aggregation for all of them.
    pub(crate) async fn with_details(
        &self,
        tenant: &TenantId,
        docs: Vec<VariantDoc>,
    ) -> Result<Vec<Variant>, StoreError> {
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
        let incoming = self.incoming(tenant, Some(&ids), None).await?;
        let none = BTreeMap::new();
        docs.into_iter()
            .map(|d| {
                let incoming = incoming.get(&d.id).unwrap_or(&none);
                d.into_variant(incoming)
            })
            .collect()
    }

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

/// The expression of a variant document's units available in total: on hand less committed
/// (no `committedTotal`: nothing committed).
pub(crate) fn available_total() -> Document {
    doc! { "$subtract": ["$stock", { "$ifNull": ["$committedTotal", 0_i64] }] }
}

/// The expression of a variant document's units available at `location`: on hand less committed
/// there, each 0 where the level has no entry.
pub(crate) fn available_at(location: &str) -> Document {
    doc! { "$subtract": [
        { "$ifNull": [format!("${}", level_path(location)), 0_i64] },
        { "$ifNull": [format!("${}", committed_path(location)), 0_i64] },
    ]}
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
        self.insert_with_idempotency(
            self.variants(),
            doc,
            tenant,
            idempotency,
            "creating a variant",
        )
        .await
    }

    async fn get(&self, tenant: &TenantId, id: &VariantId) -> Result<Option<Variant>, StoreError> {
        let found = self
            .variants()
            .find_one(doc! { "_id": id.to_string(), "tenantId": tenant.to_string() })
            .await
            .store("reading a variant")?;
        Ok(self
            .with_details(tenant, found.into_iter().collect())
            .await?
            .pop())
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
        let docs: Vec<VariantDoc> = self
            .variants()
            .find(doc! { "_id": { "$in": ids }, "tenantId": tenant.to_string() })
            .await
            .store("reading variants")?
            .try_collect()
            .await
            .store("reading variants")?;
        self.with_details(tenant, docs).await
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &VariantFilter,
        page: &PageRequest,
    ) -> Result<Page<Variant>, StoreError> {
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
                doc! { "$lte": [available_total(), "$reorderLevel"] },
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
        let items = self.with_details(tenant, docs.items).await?;
        Ok(Page { items, next_cursor })
    }

    async fn update(&self, tenant: &TenantId, variant: &Variant) -> Result<(), StoreError> {
        let attributes = attributes_bson(&variant.attributes)?;
        let result = self
            .variants()
            .update_one(
                doc! { "_id": variant.id.to_string(), "tenantId": tenant.to_string() },
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
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete(&self, tenant: &TenantId, id: &VariantId) -> Result<(), StoreError> {
        let tenant = tenant.to_string();
        let id = id.to_string();
        self.in_transaction(move |session| {
            let store = self.clone();
            let tenant = tenant.clone();
            let id = id.clone();
            Box::pin(async move {
                let variant = doc! { "_id": &id, "tenantId": &tenant };
                let found = store
                    .variants()
                    .find_one(variant.clone())
                    .session(&mut *session)
                    .await
                    .or_abort("reading the variant to delete")?;
                let Some(found) = found else {
                    return Err(Abort::Refuse(StoreError::NotFound));
                };
                // Units in transit are the ledger's counter on the document itself.
                if found.stock != 0 || found.in_transit != 0 {
                    return Err(Abort::Refuse(StoreError::InUse));
                }
                // Conditional on the stock read: a stock change racing this delete either
                // collides with it (and one of them is retried) or finds no variant. Its levels
                // are inside the document and go with it.
                let mut empty = variant;
                empty.insert("stock", 0_i64);
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
