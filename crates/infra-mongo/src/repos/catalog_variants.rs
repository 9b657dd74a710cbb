//! Variants, unique by SKU within a tenant. Their stock is written only by the ledger; their
//! `incoming` (units still due on open purchase orders) is computed by the server on every read.

use std::collections::HashMap;

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

use crate::documents::{attributes_bson, bson_time, VariantDoc};
use crate::errors::{corrupt, StoreResult};
use crate::paging::read_page;
use crate::store::MongoStore;

impl MongoStore {
    /// Σ (quantity − received) per variant over this tenant's purchase orders that are ORDERED or
    /// PARTIALLY_RECEIVED, for the variants `ids` (every variant when `None`); absent variants
    /// have none incoming. Variant reads and the low-stock report both count it here.
    pub(crate) async fn incoming(
        &self,
        tenant: &TenantId,
        ids: Option<&[String]>,
    ) -> Result<HashMap<String, i64>, StoreError> {
        if ids.is_some_and(<[String]>::is_empty) {
            return Ok(HashMap::new());
        }
        let open: Vec<&str> = PurchaseOrderStatus::INCOMING
            .iter()
            .map(|s| s.as_str())
            .collect();
        let mut orders = doc! { "tenantId": tenant.to_string(), "status": { "$in": open } };
        if let Some(ids) = ids {
            orders.insert("lines.variantId", doc! { "$in": ids });
        }
        let mut pipeline = vec![doc! { "$match": orders }, doc! { "$unwind": "$lines" }];
        if let Some(ids) = ids {
            pipeline.push(doc! { "$match": { "lines.variantId": { "$in": ids } } });
        }
        pipeline.push(doc! { "$group": {
            "_id": "$lines.variantId",
            "incoming": { "$sum": { "$subtract": ["$lines.quantity", "$lines.received"] } },
        }});
        let rows: Vec<Document> = self
            .purchase_orders()
            .aggregate(pipeline)
            .await
            .store("computing incoming stock")?
            .try_collect()
            .await
            .store("computing incoming stock")?;
        rows.into_iter()
            .map(|row| {
                let id = row
                    .get_str("_id")
                    .map_err(|e| corrupt("incoming stock row", e))?
                    .to_owned();
                Ok((id, integer(row.get("incoming"), "incoming stock")?))
            })
            .collect()
    }

    /// Domain variants from their documents, each with its `incoming`.
    async fn with_incoming(
        &self,
        tenant: &TenantId,
        docs: Vec<VariantDoc>,
    ) -> Result<Vec<Variant>, StoreError> {
        let ids: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
        let incoming = self.incoming(tenant, Some(&ids)).await?;
        docs.into_iter()
            .map(|d| {
                let units = incoming.get(&d.id).copied().unwrap_or(0);
                d.into_variant(units)
            })
            .collect()
    }
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
            .with_incoming(tenant, found.into_iter().collect())
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
        self.with_incoming(tenant, docs).await
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
            query.insert("$expr", doc! { "$lte": ["$stock", "$reorderLevel"] });
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
        let items = self.with_incoming(tenant, docs.items).await?;
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
        let variant = doc! { "_id": id.to_string(), "tenantId": tenant.to_string() };
        // One conditional delete: a variant that holds stock is never removed, even if its
        // stock changes between a check and the delete.
        let mut empty = variant.clone();
        empty.insert("stock", 0_i64);
        let deleted = self
            .variants()
            .delete_one(empty)
            .await
            .store("deleting a variant")?;
        if deleted.deleted_count == 1 {
            return Ok(());
        }
        let exists = self
            .variants()
            .count_documents(variant)
            .await
            .store("checking a variant")?;
        Err(if exists > 0 {
            StoreError::InUse
        } else {
            StoreError::NotFound
        })
    }
}
