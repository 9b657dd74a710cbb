//! Ports for tenants, users, password hashing and the announcement of changed sessions.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::models::{Tenant, User};
use crate::error::StoreError;
use crate::events::FanoutSubscription;
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

    /// Saves role, active, name and `updated_at`; with `write.end_sessions` also adds one to the
    /// stored token version (an increment, never the version `user` carries, so that two such
    /// writes never cancel out). MUST return `NotFound` if absent in this tenant.
    ///
    /// With `write.expected_version`, writes only if the stored user's version (its `updated_at`
    /// in milliseconds) is still that one, decided in the same conditional write, and otherwise
    /// MUST return `VersionConflict` writing nothing.
    ///
    /// With `write.keep_an_owner`, MUST return `InUse` and write nothing when after the write the
    /// tenant would have no active OWNER, decided inside the write itself: of two writes racing
    /// to demote or deactivate the last two owners, at most one may succeed.
    async fn update(
        &self,
        tenant: &TenantId,
        user: &User,
        write: UserWrite,
    ) -> Result<(), StoreError>;

    /// Replaces the user's password hash, sets `updated_at` and adds one to the stored token
    /// version, ending every session issued before. MUST return `NotFound` if absent in this
    /// tenant.
    async fn replace_password(
        &self,
        tenant: &TenantId,
        id: &UserId,
        hash: &PasswordHash,
        updated_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// What [`UserRepository::update`] must do besides saving the user's fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserWrite {
    /// Add one to the stored token version: every token issued so far stops working.
    pub end_sessions: bool,
    /// Refuse the write (`InUse`) if the tenant would be left with no active OWNER.
    pub keep_an_owner: bool,
    /// Write only if the stored user is still at this version (`VersionConflict` otherwise).
    pub expected_version: Option<crate::precondition::Version>,
}

/// Hashes and verifies passwords (argon2id in production).
///
/// Hashing is deliberately slow and memory-hungry, so an adapter bounds how many run at once;
/// a call that cannot start within the adapter's wait MUST fail with [`HashError::Busy`] (never
/// queue without bound, and never answer a wrong-password `false` for a password it did not
/// check).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError>;
    /// `Ok(false)` for a wrong password or a malformed hash.
    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError>;
}

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing slot stayed taken for the adapter's whole wait: retry shortly.
    #[error("password hashing is busy")]
    Busy,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<HashError> for crate::error::DomainError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => Self::Unavailable("password hashing is busy".into()),
            HashError::Other(e) => Self::Unknown(e),
        }
    }
}

/// Why an invalidation could not be announced.
#[derive(Debug, thiserror::Error)]
pub enum InvalidationError {
    /// The channel between instances cannot be reached or did not answer in time.
    #[error("session invalidation unavailable: {0}")]
    Unavailable(String),
}

/// Where a subscription to the [`SessionInvalidation`] channel hands what it hears, and what
/// else wants to hear of a changed session (the Socket.IO server closes the sockets of a user
/// whose session ended: see `AuthService::on_session_change`).
pub trait SessionSink: Send + Sync {
    /// Forgets whatever is kept of `user` in `tenant`. Called for every announcement heard, this
    /// instance's own included; must be quick (it runs on the subscription's task).
    fn forget(&self, tenant: &TenantId, user: &UserId);
}

/// The channel on which instances announce that a user's session changed (role, active flag),
/// so that every instance forgets what it kept of that user (see [`super::cache`]).
///
/// Announcements are best effort: one made while an instance is not subscribed is lost to it,
/// which is why an instance that is not subscribed trusts what it keeps for one second only.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionInvalidation: Send + Sync {
    /// Tells every subscribed instance, this one included, to forget `user` in `tenant`.
    ///
    /// MUST return `Unavailable` within the adapter's own timeout, never hang, when the channel
    /// cannot take the announcement.
    async fn publish(&self, tenant: &TenantId, user: &UserId) -> Result<(), InvalidationError>;

    /// Starts handing every announcement of the channel to `sink` until the returned
    /// subscription is dropped.
    ///
    /// MUST return at once (subscribing happens in the background), MUST re-subscribe by itself
    /// after losing the channel, and MUST keep the subscription's state current: `true` only
    /// while announcements published now would be heard. Must be called within a Tokio runtime.
    fn subscribe(&self, sink: Arc<dyn SessionSink>) -> FanoutSubscription;
}
