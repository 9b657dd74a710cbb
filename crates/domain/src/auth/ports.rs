//! Ports for tenants, users and password hashing.

use async_trait::async_trait;

use super::models::{Tenant, User};
use crate::error::StoreError;
use crate::idempotency::IdempotencyWrite;
use crate::ids::{TenantId, UserId};
use crate::locations::models::Location;
use crate::pagination::{Page, PageRequest};
use crate::values::{EmailAddress, Password, PasswordHash, TenantSlug};

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// Creates the tenant, its first user and its default location in one transaction.
    /// MUST return `Duplicate` if the slug is taken (and then write nothing).
    async fn create_with_owner(
        &self,
        tenant: &Tenant,
        owner: &User,
        default_location: &Location,
    ) -> Result<(), StoreError>;

    async fn find_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError>;

    async fn get(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// MUST return `Duplicate` if the email is taken in this tenant, `IdempotencyKeyTaken` if the
    /// key of `idempotency` is already stored; either way nothing is written.
    async fn insert(
        &self,
        tenant: &TenantId,
        user: &User,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError>;

    async fn find_by_email(
        &self,
        tenant: &TenantId,
        email: &EmailAddress,
    ) -> Result<Option<User>, StoreError>;

    async fn get(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError>;

    /// Users of the tenant, oldest first.
    async fn list(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<User>, StoreError>;

    /// Saves role, active, name and `updated_at`. MUST return `NotFound` if absent in this tenant.
    async fn update(&self, tenant: &TenantId, user: &User) -> Result<(), StoreError>;
}

/// Hashes and verifies passwords (argon2id in production).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash>;
    /// `false` for a wrong password or a malformed hash.
    async fn verify(&self, password: &Password, hash: &PasswordHash) -> bool;
}
