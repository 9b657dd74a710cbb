//! Reading orders. Orders are written only through the ledger, together with their movements.

use async_trait::async_trait;

use super::models::{Order, OrderFilter};
use crate::error::StoreError;
use crate::ids::{OrderId, TenantId};
use crate::pagination::{Page, PageRequest};

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderRepository: Send + Sync {
    async fn get(&self, tenant: &TenantId, id: &OrderId) -> Result<Option<Order>, StoreError>;

    /// Orders matching `filter` (`from` inclusive, `to` exclusive on `created_at`), newest first.
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &OrderFilter,
        page: &PageRequest,
    ) -> Result<Page<Order>, StoreError>;
}
