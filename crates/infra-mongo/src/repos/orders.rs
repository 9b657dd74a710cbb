//! Reading orders; they are written only by the ledger, together with their movements.

use async_trait::async_trait;
use domain::ids::{OrderId, TenantId};
use domain::orders::models::{Order, OrderFilter};
use domain::orders::ports::OrderRepository;
use domain::pagination::{Direction, Page, PageRequest};
use domain::StoreError;
use mongodb::bson::{doc, Document};

use crate::documents::bson_time;
use crate::errors::StoreResult;
use crate::paging::read_page;
use crate::store::MongoStore;

#[async_trait]
impl OrderRepository for MongoStore {
    async fn get(&self, tenant: &TenantId, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.orders()
            .find_one(doc! { "_id": id.to_string(), "tenantId": tenant.to_string() })
            .await
            .store("reading an order")?
            .map(Order::try_from)
            .transpose()
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &OrderFilter,
        page: &PageRequest,
    ) -> Result<Page<Order>, StoreError> {
        let mut query = doc! { "tenantId": tenant.to_string() };
        if let Some(status) = filter.status {
            query.insert("status", status.as_str());
        }
        let mut created = Document::new();
        if let Some(from) = filter.from {
            created.insert("$gte", bson_time(from));
        }
        if let Some(to) = filter.to {
            created.insert("$lt", bson_time(to));
        }
        if !created.is_empty() {
            query.insert("createdAt", created);
        }
        read_page(
            &self.orders(),
            query,
            page,
            Direction::Descending,
            Order::try_from,
            |o| o.id.to_string(),
        )
        .await
    }
}
