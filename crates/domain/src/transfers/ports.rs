//! The transfer port. Transfers are written through the ledger (`DocumentWrite::InsertTransfer`
//! and `UpdateTransfer`), together with the movements a transition writes; this port reads them.

use async_trait::async_trait;

use super::models::{Transfer, TransferFilter};
use crate::error::StoreError;
use crate::ids::{TenantId, TransferId};
use crate::pagination::{Page, PageRequest};

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TransferRepository: Send + Sync {
    async fn get(&self, tenant: &TenantId, id: &TransferId)
        -> Result<Option<Transfer>, StoreError>;

    /// Transfers matching `filter`, newest first.
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &TransferFilter,
        page: &PageRequest,
    ) -> Result<Page<Transfer>, StoreError>;
}
