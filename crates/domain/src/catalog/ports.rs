//! Ports for products and variants.

use async_trait::async_trait;

use super::models::{Product, Variant, VariantFilter};
use crate::error::StoreError;
use crate::idempotency::IdempotencyWrite;
use crate::ids::{ProductId, TenantId, VariantId};
use crate::pagination::{Page, PageRequest};
use crate::precondition::Version;

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// MUST return `IdempotencyKeyTaken` (writing nothing) if the key is already stored.
    async fn insert(
        &self,
        tenant: &TenantId,
        product: &Product,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError>;

    async fn get(&self, tenant: &TenantId, id: &ProductId) -> Result<Option<Product>, StoreError>;

    /// Products of the tenant, oldest first.
    async fn list(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> Result<Page<Product>, StoreError>;

    /// Saves name, description and `updated_at`. MUST return `NotFound` if absent. With
    /// `expected_version`, writes only if the stored product's version (its `updated_at` in
    /// milliseconds) is still that one, in the same conditional write, and otherwise MUST return
    /// `VersionConflict` writing nothing.
    async fn update(
        &self,
        tenant: &TenantId,
        product: &Product,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError>;

    /// Deletes the product and its variants (with their levels) in one transaction. MUST return
    /// `NotFound` if absent and `InUse` (deleting nothing) if any of its variants has stock ≠ 0
    /// or units in transit. Movements stay. With `expected_version`, MUST return
    /// `VersionConflict` (deleting nothing) unless the stored product is at that version, checked
    /// in the same transaction as the delete.
    async fn delete(
        &self,
        tenant: &TenantId,
        id: &ProductId,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VariantRepository: Send + Sync {
    /// Inserts with stock 0. MUST return `Duplicate` if the SKU is taken in this tenant,
    /// `IdempotencyKeyTaken` if the key is stored, and `NotFound` if the tenant has no such
    /// product — checked inside the write, so a product deleted at the same moment never keeps
    /// a variant; in every case nothing is written.
    async fn insert(
        &self,
        tenant: &TenantId,
        variant: &Variant,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError>;

    /// The variant with its current stock, `levels`, `incoming` and `in_transit`.
    async fn get(&self, tenant: &TenantId, id: &VariantId) -> Result<Option<Variant>, StoreError>;

    /// The variants among `ids` that exist in this tenant, in any order.
    async fn get_many(
        &self,
        tenant: &TenantId,
        ids: &[VariantId],
    ) -> Result<Vec<Variant>, StoreError>;

    /// Variants matching `filter`, oldest first.
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &VariantFilter,
        page: &PageRequest,
    ) -> Result<Page<Variant>, StoreError>;

    /// Saves product, SKU, attributes, price, reorder level and `updated_at` — never stock.
    /// MUST return `NotFound` if absent and `Duplicate` if the new SKU is taken. With
    /// `expected_version`, writes only if the stored variant's version (its `updated_at` in
    /// milliseconds, which stock changes never touch) is still that one, in the same conditional
    /// write, and otherwise MUST return `VersionConflict` writing nothing.
    async fn update(
        &self,
        tenant: &TenantId,
        variant: &Variant,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError>;

    /// MUST return `NotFound` if absent and `InUse` (deleting nothing) if its stock ≠ 0 or units
    /// of it are in transit. Its levels go with it; movements stay. With `expected_version`, MUST
    /// return `VersionConflict` (deleting nothing) unless the stored variant is at that version,
    /// checked in the same transaction as the delete.
    async fn delete(
        &self,
        tenant: &TenantId,
        id: &VariantId,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError>;
}
