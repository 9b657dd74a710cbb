//! The location port.

use async_trait::async_trait;

use super::models::{Holdings, LevelFilter, Location, LocationLevel};
use crate::error::StoreError;
use crate::idempotency::IdempotencyWrite;
use crate::ids::{LocationId, TenantId};
use crate::pagination::{Page, PageRequest};

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LocationRepository: Send + Sync {
    /// Inserts a location that is not the default. MUST return `Duplicate` if the code is taken
    /// in this tenant and `IdempotencyKeyTaken` if the key is stored; either way nothing is
    /// written.
    async fn insert(
        &self,
        tenant: &TenantId,
        location: &Location,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError>;

    async fn get(&self, tenant: &TenantId, id: &LocationId)
        -> Result<Option<Location>, StoreError>;

    /// Every location of the tenant, oldest first (tenants have few).
    async fn all(&self, tenant: &TenantId) -> Result<Vec<Location>, StoreError>;

    /// Locations of the tenant, oldest first.
    async fn list(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> Result<Page<Location>, StoreError>;

    /// Saves name, active, priority and `updated_at` — never `is_default`. MUST return
    /// `NotFound` if absent in this tenant. With `expected_version`, writes only if the stored
    /// location's version (its `updated_at` in milliseconds) is still that one, in the same
    /// conditional write, and otherwise MUST return `VersionConflict` writing nothing.
    async fn update(
        &self,
        tenant: &TenantId,
        location: &Location,
        expected_version: Option<crate::precondition::Version>,
    ) -> Result<(), StoreError>;

    /// Makes `id` the tenant's default and the previous default an ordinary location, in one
    /// atomic write, so no reader ever sees two defaults or none. MUST return `NotFound`
    /// (changing nothing) if `id` is absent in this tenant or inactive. Each location it changes
    /// gets `updated_at` = the later of `at` and one millisecond after its own, so its version
    /// moves.
    async fn make_default(
        &self,
        tenant: &TenantId,
        id: &LocationId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError>;

    /// The levels held at the location (every variant that ever had stock or incoming units
    /// there), ordered by variant id.
    async fn levels(
        &self,
        tenant: &TenantId,
        id: &LocationId,
        filter: &LevelFilter,
        page: &PageRequest,
    ) -> Result<Page<LocationLevel>, StoreError>;

    /// What the location holds or expects (see [`Holdings`]).
    async fn holdings(&self, tenant: &TenantId, id: &LocationId) -> Result<Holdings, StoreError>;
}
