//! Reading purchase orders; they are written only by the ledger, whose purchase-order writes
//! also move the units incoming their variants keep (see `incoming`).

use async_trait::async_trait;
use domain::ids::{PurchaseOrderId, TenantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::purchasing::models::{PurchaseOrder, PurchaseOrderFilter};
use domain::purchasing::ports::PurchaseOrderRepository;
use domain::StoreError;
use mongodb::bson::doc;

use crate::errors::StoreResult;
use crate::paging::read_page;
use crate::store::MongoStore;

#[async_trait]
impl PurchaseOrderRepository for MongoStore {
    async fn get(
        &self,
        tenant: &TenantId,
        id: &PurchaseOrderId,
    ) -> Result<Option<PurchaseOrder>, StoreError> {
        self.purchase_orders()
            .find_one(doc! { "_id": id.to_string(), "tenantId": tenant.to_string() })
            .await
            .store("reading a purchase order")?
            .map(PurchaseOrder::try_from)
            .transpose()
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &PurchaseOrderFilter,
        page: &PageRequest,
    ) -> Result<Page<PurchaseOrder>, StoreError> {
        let mut query = doc! { "tenantId": tenant.to_string() };
        if let Some(status) = filter.status {
            query.insert("status", status.as_str());
        }
        if let Some(supplier) = &filter.supplier_id {
            query.insert("supplierId", supplier.to_string());
        }
        read_page(
            &self.purchase_orders(),
            query,
            page,
            Direction::Descending,
            PurchaseOrder::try_from,
            |p| p.id.to_string(),
        )
        .await
    }
}
