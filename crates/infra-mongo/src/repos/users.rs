//! Users, unique by email within a tenant.
//!
//! A change that must leave the tenant an active OWNER runs as a transaction that first bumps a
//! counter on the tenant's document, then writes the user, then counts the active owners and
//! aborts if none is left. Snapshot isolation alone would let two owners demoting each other
//! both see the other still an owner; writing the one tenant document makes such transactions
//! collide (a write conflict), so one runs again after the other committed and sees its result.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::auth::models::{Role, User};
use domain::auth::ports::{UserRepository, UserWrite};
use domain::idempotency::IdempotencyWrite;
use domain::ids::{TenantId, UserId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::values::{EmailAddress, PasswordHash};
use domain::StoreError;
use mongodb::bson::doc;

use crate::documents::{bson_time, version_time, UserDoc};
use crate::errors::{unmatched_edit, StoreResult};
use crate::paging::read_page;
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

#[async_trait]
impl UserRepository for MongoStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        user: &User,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError> {
        let mut doc = UserDoc::from(user);
        doc.tenant_id = tenant.to_string();
        self.insert_with_idempotency(self.users(), doc, tenant, idempotency, "creating a user")
            .await
    }

    async fn find_by_email(
        &self,
        tenant: &TenantId,
        email: &EmailAddress,
    ) -> Result<Option<User>, StoreError> {
        self.users()
            .find_one(doc! { "tenantId": tenant.to_string(), "email": email.as_str() })
            .await
            .store("finding a user by email")?
            .map(User::try_from)
            .transpose()
    }

    async fn get(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError> {
        self.users()
            .find_one(doc! { "_id": id.to_string(), "tenantId": tenant.to_string() })
            .await
            .store("reading a user")?
            .map(User::try_from)
            .transpose()
    }

    async fn list(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<User>, StoreError> {
        read_page(
            &self.users(),
            doc! { "tenantId": tenant.to_string() },
            page,
            Direction::Ascending,
            User::try_from,
            |u| u.id.to_string(),
        )
        .await
    }

    async fn update(
        &self,
        tenant: &TenantId,
        user: &User,
        write: UserWrite,
    ) -> Result<(), StoreError> {
        let key = doc! { "_id": user.id.to_string(), "tenantId": tenant.to_string() };
        let mut filter = key.clone();
        if let Some(version) = write.expected_version {
            // `updatedAt` in milliseconds, matched in the same write as the change.
            filter.insert("updatedAt", version_time(version));
        }
        let mut change = doc! { "$set": {
            "role": user.role.as_str(),
            "active": user.active,
            "name": user.name.as_str(),
            "updatedAt": bson_time(user.updated_at),
        }};
        if write.end_sessions {
            change.insert("$inc", doc! { "tokenVersion": 1_i64 });
        }
        if !write.keep_an_owner {
            let result = self
                .users()
                .update_one(filter, change)
                .await
                .store("updating a user")?;
            if result.matched_count == 0 {
                return Err(unmatched_edit(&self.users(), key, "user").await);
            }
            return Ok(());
        }
        let tenant = tenant.to_string();
        self.in_transaction(move |session| {
            let (store, tenant) = (self.clone(), tenant.clone());
            let (key, filter, change) = (key.clone(), filter.clone(), change.clone());
            Box::pin(async move {
                store
                    .tenants()
                    .update_one(
                        doc! { "_id": &tenant },
                        doc! { "$inc": { "ownerWrites": 1_i64 } },
                    )
                    .session(&mut *session)
                    .await
                    .or_abort("serialising the owners' changes of a tenant")?;
                let result = store
                    .users()
                    .update_one(filter, change)
                    .session(&mut *session)
                    .await
                    .or_abort("updating a user")?;
                if result.matched_count == 0 {
                    let exists = store
                        .users()
                        .count_documents(key)
                        .session(&mut *session)
                        .await
                        .or_abort("reading the version of the user to update")?;
                    return Err(Abort::Refuse(if exists > 0 {
                        StoreError::VersionConflict
                    } else {
                        StoreError::NotFound
                    }));
                }
                let owners = store
                    .users()
                    .count_documents(doc! {
                        "tenantId": &tenant,
                        "role": Role::Owner.as_str(),
                        "active": true,
                    })
                    .session(&mut *session)
                    .await
                    .or_abort("counting a tenant's active owners")?;
                if owners == 0 {
                    return Err(Abort::Refuse(StoreError::InUse));
                }
                Ok(())
            })
        })
        .await
    }

    async fn replace_password(
        &self,
        tenant: &TenantId,
        id: &UserId,
        hash: &PasswordHash,
        updated_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = self
            .users()
            .update_one(
                doc! { "_id": id.to_string(), "tenantId": tenant.to_string() },
                doc! {
                    "$set": { "passwordHash": hash.as_str(), "updatedAt": bson_time(updated_at) },
                    "$inc": { "tokenVersion": 1_i64 },
                },
            )
            .await
            .store("replacing a password")?;
        if result.matched_count == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
