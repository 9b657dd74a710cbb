//! Products. Deleting one deletes its variants (and so their levels and expired holds) in the
//! same transaction, and only when none of them holds stock, has units in transit or committed,
//! or has a live hold.

use async_trait::async_trait;
use domain::catalog::models::Product;
use domain::catalog::ports::ProductRepository;
use domain::idempotency::IdempotencyWrite;
use domain::ids::{ProductId, TenantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::precondition::Version;
use domain::StoreError;
use mongodb::bson::doc;

use super::catalog_variants::instant;
use crate::documents::{bson_time, version_time, ProductDoc};
use crate::errors::{unmatched_edit, StoreResult};
use crate::paging::read_page;
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

#[async_trait]
impl ProductRepository for MongoStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        product: &Product,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError> {
        let mut doc = ProductDoc::from(product);
        doc.tenant_id = tenant.to_string();
        self.insert_with_idempotency(
            self.products(),
            doc,
            tenant,
            idempotency,
            "creating a product",
        )
        .await
    }

    async fn get(&self, tenant: &TenantId, id: &ProductId) -> Result<Option<Product>, StoreError> {
        self.products()
            .find_one(doc! { "_id": id.to_string(), "tenantId": tenant.to_string() })
            .await
            .store("reading a product")?
            .map(Product::try_from)
            .transpose()
    }

    async fn list(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> Result<Page<Product>, StoreError> {
        read_page(
            &self.products(),
            doc! { "tenantId": tenant.to_string() },
            page,
            Direction::Ascending,
            Product::try_from,
            |p| p.id.to_string(),
        )
        .await
    }

    async fn update(
        &self,
        tenant: &TenantId,
        product: &Product,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let mut filter = doc! { "_id": product.id.to_string(), "tenantId": tenant.to_string() };
        if let Some(version) = expected_version {
            // The version is `updatedAt` in milliseconds, BSON's own precision: matched in the
            // same single-document write, so of two writers expecting it exactly one lands.
            filter.insert("updatedAt", version_time(version));
        }
        let result = self
            .products()
            .update_one(
                filter,
                doc! { "$set": {
                    "name": product.name.as_str(),
                    "description": product.description.as_ref().map(|d| d.as_str()),
                    "updatedAt": bson_time(product.updated_at),
                }},
            )
            .await
            .store("updating a product")?;
        if result.matched_count == 0 {
            let key = doc! { "_id": product.id.to_string(), "tenantId": tenant.to_string() };
            return Err(unmatched_edit(&self.products(), key, "product").await);
        }
        Ok(())
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        id: &ProductId,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let tenant = tenant.to_string();
        let id = id.to_string();
        self.in_transaction(move |session| {
            let store = self.clone();
            let tenant = tenant.clone();
            let id = id.clone();
            Box::pin(async move {
                let product = doc! { "_id": &id, "tenantId": &tenant };
                let found = store
                    .products()
                    .find_one(product.clone())
                    .session(&mut *session)
                    .await
                    .or_abort("reading the product to delete")?;
                let Some(found) = found else {
                    return Err(Abort::Refuse(StoreError::NotFound));
                };
                // Read in the transaction that deletes: a concurrent edit collides with it.
                if expected_version.is_some_and(|v| found.updated_at.timestamp_millis() != v) {
                    return Err(Abort::Refuse(StoreError::VersionConflict));
                }
                // A variant holding stock, with units in transit or committed (the ledger's
                // counters on its document), or with a live hold keeps the product.
                let held = store
                    .variants()
                    .count_documents(doc! {
                        "tenantId": &tenant, "productId": &id,
                        "$or": [
                            { "stock": { "$ne": 0_i64 } },
                            { "inTransit": { "$gt": 0_i64 } },
                            { "committedTotal": { "$gt": 0_i64 } },
                            { "holds": { "$elemMatch": { "e": { "$gt": instant() } } } },
                        ],
                    })
                    .session(&mut *session)
                    .await
                    .or_abort("checking the product's stock")?;
                if held > 0 {
                    return Err(Abort::Refuse(StoreError::InUse));
                }
                // Deleting the variants also makes a concurrent stock change to one of them
                // collide with this transaction, so stock cannot appear behind the check.
                store
                    .variants()
                    .delete_many(doc! { "tenantId": &tenant, "productId": &id })
                    .session(&mut *session)
                    .await
                    .or_abort("deleting the product's variants")?;
                store
                    .products()
                    .delete_one(product)
                    .session(&mut *session)
                    .await
                    .or_abort("deleting a product")?;
                Ok(())
            })
        })
        .await
    }
}
