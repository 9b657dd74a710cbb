//! Tenants: created together with their first user and their default location, unique by slug
//! across the platform.

use async_trait::async_trait;
use domain::auth::models::{Tenant, User};
use domain::auth::ports::TenantRepository;
use domain::ids::TenantId;
use domain::locations::models::Location;
use domain::values::TenantSlug;
use domain::StoreError;
use rusqlite::{params, Row};

use super::{locations, users};
use crate::error::SqlResultExt;
use crate::row::{millis, optional_row, RowExt};
use crate::SqliteStore;

const COLUMNS: &str = "id, name, slug, created_at";

fn tenant_from_row(row: &Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: row.id("id")?,
        name: row.text("name")?,
        slug: row.decode("slug", |s: String| TenantSlug::new(&s))?,
        created_at: row.time("created_at")?,
    })
}

#[async_trait]
impl TenantRepository for SqliteStore {
    async fn create_with_owner(
        &self,
        tenant: &Tenant,
        owner: &User,
        default_location: &Location,
    ) -> Result<(), StoreError> {
        let (tenant, owner) = (tenant.clone(), owner.clone());
        let location = Location {
            is_default: true,
            ..default_location.clone()
        };
        self.write("creating a tenant", move |tx| {
            tx.execute(
                "INSERT INTO tenants (id, name, slug, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    tenant.id.to_string(),
                    tenant.name.as_str(),
                    tenant.slug.as_str(),
                    millis(&tenant.created_at),
                ],
            )
            .or_store("inserting a tenant")?;
            users::insert_row(tx, &tenant.id, &owner)?;
            locations::insert_row(tx, &tenant.id, &location)
        })
        .await
    }

    async fn find_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        let slug = slug.as_str().to_owned();
        self.read("finding a tenant by slug", move |tx| {
            optional_row(
                tx,
                &format!("SELECT {COLUMNS} FROM tenants WHERE slug = ?1"),
                params![slug],
                tenant_from_row,
            )
        })
        .await
    }

    async fn get(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let id = id.to_string();
        self.read("reading a tenant", move |tx| {
            optional_row(
                tx,
                &format!("SELECT {COLUMNS} FROM tenants WHERE id = ?1"),
                params![id],
                tenant_from_row,
            )
        })
        .await
    }
}
