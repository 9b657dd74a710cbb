//! Tenants: created together with their first user and their default location, in one
//! transaction (a taken slug writes nothing).

use async_trait::async_trait;
use domain::auth::models::{Tenant, User};
use domain::auth::ports::TenantRepository;
use domain::ids::TenantId;
use domain::locations::models::Location;
use domain::values::TenantSlug;
use domain::StoreError;
use mongodb::bson::doc;

use crate::documents::{LocationDoc, TenantDoc, UserDoc};
use crate::errors::StoreResult;
use crate::store::MongoStore;
use crate::transaction::OrAbort;

#[async_trait]
impl TenantRepository for MongoStore {
    async fn create_with_owner(
        &self,
        tenant: &Tenant,
        owner: &User,
        default_location: &Location,
    ) -> Result<(), StoreError> {
        let tenant_doc = TenantDoc::from(tenant);
        let owner_doc = UserDoc::from(owner);
        let location_doc = LocationDoc::of(&tenant.id, default_location);
        self.in_transaction(move |session| {
            let store = self.clone();
            let tenant_doc = tenant_doc.clone();
            let owner_doc = owner_doc.clone();
            let location_doc = location_doc.clone();
            Box::pin(async move {
                store
                    .tenants()
                    .insert_one(tenant_doc)
                    .session(&mut *session)
                    .await
                    .or_abort("creating a tenant")?;
                store
                    .users()
                    .insert_one(owner_doc)
                    .session(&mut *session)
                    .await
                    .or_abort("creating a tenant's owner")?;
                store
                    .locations()
                    .insert_one(location_doc)
                    .session(&mut *session)
                    .await
                    .or_abort("creating a tenant's default location")?;
                Ok(())
            })
        })
        .await
    }

    async fn find_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        self.tenants()
            .find_one(doc! { "slug": slug.as_str() })
            .await
            .store("finding a tenant by slug")?
            .map(Tenant::try_from)
            .transpose()
    }

    async fn get(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        self.tenants()
            .find_one(doc! { "_id": id.to_string() })
            .await
            .store("reading a tenant")?
            .map(Tenant::try_from)
            .transpose()
    }
}
