//! Suppliers. One with an open purchase order (DRAFT, ORDERED or PARTIALLY_RECEIVED) is never
//! deleted; the check and the delete run in one transaction.

use async_trait::async_trait;
use domain::idempotency::IdempotencyWrite;
use domain::ids::{SupplierId, TenantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::precondition::Version;
use domain::purchasing::models::{PurchaseOrderStatus, Supplier};
use domain::purchasing::ports::SupplierRepository;
use domain::StoreError;
use mongodb::bson::doc;

use crate::documents::{bson_time, version_time, SupplierDoc};
use crate::errors::{unmatched_edit, StoreResult};
use crate::paging::read_page;
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

#[async_trait]
impl SupplierRepository for MongoStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        supplier: &Supplier,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError> {
        let mut doc = SupplierDoc::from(supplier);
        doc.tenant_id = tenant.to_string();
        self.insert_with_idempotency(
            self.suppliers(),
            doc,
            tenant,
            idempotency,
            "creating a supplier",
        )
        .await
    }

    async fn get(
        &self,
        tenant: &TenantId,
        id: &SupplierId,
    ) -> Result<Option<Supplier>, StoreError> {
        self.suppliers()
            .find_one(doc! { "_id": id.to_string(), "tenantId": tenant.to_string() })
            .await
            .store("reading a supplier")?
            .map(Supplier::try_from)
            .transpose()
    }

    async fn list(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> Result<Page<Supplier>, StoreError> {
        read_page(
            &self.suppliers(),
            doc! { "tenantId": tenant.to_string() },
            page,
            Direction::Ascending,
            Supplier::try_from,
            |s| s.id.to_string(),
        )
        .await
    }

    async fn update(
        &self,
        tenant: &TenantId,
        supplier: &Supplier,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let key = doc! { "_id": supplier.id.to_string(), "tenantId": tenant.to_string() };
        let mut filter = key.clone();
        if let Some(version) = expected_version {
            // `updatedAt` in milliseconds, matched in the same single-document write.
            filter.insert("updatedAt", version_time(version));
        }
        let result = self
            .suppliers()
            .update_one(
                filter,
                doc! { "$set": {
                    "name": supplier.name.as_str(),
                    "email": supplier.email.as_ref().map(|e| e.as_str()),
                    "phone": supplier.phone.as_ref().map(|p| p.as_str()),
                    "leadTimeDays": supplier.lead_time_days,
                    "updatedAt": bson_time(supplier.updated_at),
                }},
            )
            .await
            .store("updating a supplier")?;
        if result.matched_count == 0 {
            return Err(unmatched_edit(&self.suppliers(), key, "supplier").await);
        }
        Ok(())
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        id: &SupplierId,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let tenant = tenant.to_string();
        let id = id.to_string();
        self.in_transaction(move |session| {
            let store = self.clone();
            let tenant = tenant.clone();
            let id = id.clone();
            Box::pin(async move {
                let supplier = doc! { "_id": &id, "tenantId": &tenant };
                let found = store
                    .suppliers()
                    .find_one(supplier.clone())
                    .session(&mut *session)
                    .await
                    .or_abort("reading the supplier to delete")?;
                let Some(found) = found else {
                    return Err(Abort::Refuse(StoreError::NotFound));
                };
                // Read in the transaction that deletes: a concurrent edit collides with it.
                if expected_version.is_some_and(|v| found.updated_at.timestamp_millis() != v) {
                    return Err(Abort::Refuse(StoreError::VersionConflict));
                }
                let open: Vec<&str> = PurchaseOrderStatus::OPEN
                    .iter()
                    .map(|s| s.as_str())
                    .collect();
                let open_orders = store
                    .purchase_orders()
                    .count_documents(doc! {
                        "tenantId": &tenant, "supplierId": &id, "status": { "$in": open },
                    })
                    .session(&mut *session)
                    .await
                    .or_abort("checking the supplier's purchase orders")?;
                if open_orders > 0 {
                    return Err(Abort::Refuse(StoreError::InUse));
                }
                store
                    .suppliers()
                    .delete_one(supplier)
                    .session(&mut *session)
                    .await
                    .or_abort("deleting a supplier")?;
                Ok(())
            })
        })
        .await
    }
}
