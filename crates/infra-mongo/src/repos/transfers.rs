//! Reading transfers; they are written only by the ledger, together with their movements.

use async_trait::async_trait;
use domain::ids::{TenantId, TransferId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::transfers::models::{Transfer, TransferFilter};
use domain::transfers::ports::TransferRepository;
use domain::StoreError;
use mongodb::bson::doc;

use crate::errors::StoreResult;
use crate::paging::read_page;
use crate::store::MongoStore;

#[async_trait]
impl TransferRepository for MongoStore {
    async fn get(
        &self,
        tenant: &TenantId,
        id: &TransferId,
    ) -> Result<Option<Transfer>, StoreError> {
        self.transfers()
            .find_one(doc! { "_id": id.to_string(), "tenantId": tenant.to_string() })
            .await
            .store("reading a transfer")?
            .map(Transfer::try_from)
            .transpose()
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &TransferFilter,
        page: &PageRequest,
    ) -> Result<Page<Transfer>, StoreError> {
        let mut query = doc! { "tenantId": tenant.to_string() };
        if let Some(status) = filter.status {
            query.insert("status", status.as_str());
        }
        if let Some(from) = &filter.from_location_id {
            query.insert("fromLocationId", from.to_string());
        }
        if let Some(to) = &filter.to_location_id {
            query.insert("toLocationId", to.to_string());
        }
        read_page(
            &self.transfers(),
            query,
            page,
            Direction::Descending,
            Transfer::try_from,
            |t| t.id.to_string(),
        )
        .await
    }
}
