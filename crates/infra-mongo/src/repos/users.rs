//! Users, unique by email within a tenant.

use async_trait::async_trait;
use domain::auth::models::User;
use domain::auth::ports::UserRepository;
use domain::idempotency::IdempotencyWrite;
use domain::ids::{TenantId, UserId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::values::EmailAddress;
use domain::StoreError;
use mongodb::bson::doc;

use crate::documents::{bson_time, UserDoc};
use crate::errors::StoreResult;
use crate::paging::read_page;
use crate::store::MongoStore;

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

    async fn update(&self, tenant: &TenantId, user: &User) -> Result<(), StoreError> {
        let result = self
            .users()
            .update_one(
                doc! { "_id": user.id.to_string(), "tenantId": tenant.to_string() },
                doc! { "$set": {
                    "role": user.role.as_str(),
                    "active": user.active,
                    "name": user.name.as_str(),
                    "updatedAt": bson_time(user.updated_at),
                }},
            )
            .await
            .store("updating a user")?;
        if result.matched_count == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
