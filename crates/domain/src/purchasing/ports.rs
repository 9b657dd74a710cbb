//! Ports for suppliers and purchase orders. Purchase orders are written through the ledger.

use async_trait::async_trait;

use super::models::{PurchaseOrder, PurchaseOrderFilter, Supplier};
use crate::error::StoreError;
use crate::idempotency::IdempotencyWrite;
use crate::ids::{PurchaseOrderId, SupplierId, TenantId};
use crate::pagination::{Page, PageRequest};
use crate::precondition::Version;

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SupplierRepository: Send + Sync {
    /// MUST return `IdempotencyKeyTaken` (writing nothing) if the key is already stored.
    async fn insert(
        &self,
        tenant: &TenantId,
        supplier: &Supplier,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError>;

    async fn get(&self, tenant: &TenantId, id: &SupplierId)
        -> Result<Option<Supplier>, StoreError>;

    /// Suppliers of the tenant, oldest first.
    async fn list(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> Result<Page<Supplier>, StoreError>;

    /// MUST return `NotFound` if absent. With `expected_version`, writes only if the stored
    /// supplier's version (its `updated_at` in milliseconds) is still that one, in the same
    /// conditional write, and otherwise MUST return `VersionConflict` writing nothing.
    async fn update(
        &self,
        tenant: &TenantId,
        supplier: &Supplier,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError>;

    /// MUST return `NotFound` if absent and `InUse` (deleting nothing) if a purchase order of
    /// this supplier is DRAFT, ORDERED or PARTIALLY_RECEIVED. With `expected_version`, MUST
    /// return `VersionConflict` (deleting nothing) unless the stored supplier is at that version,
    /// checked in the same transaction as the delete.
    async fn delete(
        &self,
        tenant: &TenantId,
        id: &SupplierId,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PurchaseOrderRepository: Send + Sync {
    async fn get(
        &self,
        tenant: &TenantId,
        id: &PurchaseOrderId,
    ) -> Result<Option<PurchaseOrder>, StoreError>;

    /// Purchase orders matching `filter`, newest first.
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &PurchaseOrderFilter,
        page: &PageRequest,
    ) -> Result<Page<PurchaseOrder>, StoreError>;
}
