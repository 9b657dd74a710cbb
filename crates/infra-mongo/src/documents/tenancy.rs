//! Tenants and users as stored.

use domain::auth::models::{Role, Tenant, User};
use domain::values::{EmailAddress, PasswordHash, TenantSlug};
use domain::StoreError;
use mongodb::bson;
use serde::{Deserialize, Serialize};

use super::{bson_time, domain_time, parse, text, valid};
use crate::errors::corrupt;

/// A tenant; its `_id` is the tenant id, so it carries no separate `tenantId`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TenantDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub slug: String,
    pub created_at: bson::DateTime,
}

impl From<&Tenant> for TenantDoc {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.as_str().to_owned(),
            slug: t.slug.as_str().to_owned(),
            created_at: bson_time(t.created_at),
        }
    }
}

impl TryFrom<TenantDoc> for Tenant {
    type Error = StoreError;

    fn try_from(d: TenantDoc) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: parse(&d.id, "tenant id")?,
            name: text(d.name, "tenant name")?,
            slug: valid(TenantSlug::new(&d.slug), "tenant slug")?,
            created_at: domain_time(d.created_at)?,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub password_hash: String,
    /// Absent on users stored before token versions existed: they are at 0.
    #[serde(default)]
    pub token_version: i64,
    pub created_at: bson::DateTime,
    pub updated_at: bson::DateTime,
}

impl From<&User> for UserDoc {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            tenant_id: u.tenant_id.to_string(),
            email: u.email.as_str().to_owned(),
            name: u.name.as_str().to_owned(),
            role: u.role.as_str().to_owned(),
            active: u.active,
            password_hash: u.password_hash.as_str().to_owned(),
            token_version: i64::from(u.token_version),
            created_at: bson_time(u.created_at),
            updated_at: bson_time(u.updated_at),
        }
    }
}

impl TryFrom<UserDoc> for User {
    type Error = StoreError;

    fn try_from(d: UserDoc) -> Result<Self, StoreError> {
        Ok(User {
            id: parse(&d.id, "user id")?,
            tenant_id: parse(&d.tenant_id, "user tenant id")?,
            email: valid(EmailAddress::new(&d.email), "user email")?,
            name: text(d.name, "user name")?,
            role: Role::parse(&d.role).ok_or_else(|| corrupt("user role", &d.role))?,
            active: d.active,
            password_hash: PasswordHash::from_phc(d.password_hash),
            token_version: u32::try_from(d.token_version)
                .map_err(|_| corrupt("user token version", d.token_version))?,
            created_at: domain_time(d.created_at)?,
            updated_at: domain_time(d.updated_at)?,
        })
    }
}
