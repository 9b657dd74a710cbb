//! Users: unique by email within their tenant.
//!
//! A change that must leave the tenant an active OWNER is one conditional `UPDATE` whose
//! condition looks for another active owner: SQLite runs writes one at a time, so two owners
//! demoting each other cannot both find the other still in place.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::auth::models::{Role, User};
use domain::auth::ports::{UserRepository, UserWrite};
use domain::idempotency::IdempotencyWrite;
use domain::ids::{TenantId, UserId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::values::{EmailAddress, PasswordHash};
use domain::StoreError;
use rusqlite::{params, Row, Transaction};

use super::idempotency;
use crate::error::SqlResultExt;
use crate::row::{millis, optional_row, RowExt, Select};
use crate::SqliteStore;

const COLUMNS: &str =
    "id, tenant_id, email, name, role, active, password_hash, token_version, created_at, updated_at";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.id("id")?,
        tenant_id: row.id("tenant_id")?,
        email: row.decode("email", |s: String| EmailAddress::new(&s))?,
        name: row.text("name")?,
        role: row.decode("role", |s: String| Role::parse(&s).ok_or("unknown role"))?,
        active: row.get("active")?,
        password_hash: PasswordHash::from_phc(row.get("password_hash")?),
        token_version: row.decode("token_version", |v: i64| {
            u32::try_from(v).map_err(|_| "token version out of range")
        })?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// Inserts `user` under `tenant`; `Duplicate` if the email is taken there.
pub(crate) fn insert_row(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    user: &User,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO users (id, tenant_id, email, name, role, active, password_hash, created_at, updated_at, token_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            user.id.to_string(),
            tenant.to_string(),
            user.email.as_str(),
            user.name.as_str(),
            user.role.as_str(),
            user.active,
            user.password_hash.as_str(),
            millis(&user.created_at),
            millis(&user.updated_at),
            i64::from(user.token_version),
        ],
    )
    .or_store("inserting a user")?;
    Ok(())
}

#[async_trait]
impl UserRepository for SqliteStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        user: &User,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError> {
        let (tenant, user, record) = (*tenant, user.clone(), idempotency);
        self.write("inserting a user", move |tx| {
            // The key first: a repeat of the same request is then refused as a repeat.
            if let Some(record) = &record {
                idempotency::store(tx, &tenant, record.into())?;
            }
            insert_row(tx, &tenant, &user)
        })
        .await
    }

    async fn find_by_email(
        &self,
        tenant: &TenantId,
        email: &EmailAddress,
    ) -> Result<Option<User>, StoreError> {
        let (tenant, email) = (tenant.to_string(), email.as_str().to_owned());
        self.read("finding a user by email", move |tx| {
            optional_row(
                tx,
                &format!("SELECT {COLUMNS} FROM users WHERE tenant_id = ?1 AND email = ?2"),
                params![tenant, email],
                user_from_row,
            )
        })
        .await
    }

    async fn get(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.read("reading a user", move |tx| {
            optional_row(
                tx,
                &format!("SELECT {COLUMNS} FROM users WHERE tenant_id = ?1 AND id = ?2"),
                params![tenant, id],
                user_from_row,
            )
        })
        .await
    }

    async fn list(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<User>, StoreError> {
        let limit = page.limit;
        let query = Select::new(&format!("SELECT {COLUMNS} FROM users WHERE tenant_id = ?"))
            .bind(tenant.to_string())
            .page("id", page, Direction::Ascending);
        let rows = self
            .read("listing users", move |tx| query.rows(tx, user_from_row))
            .await?;
        Ok(Page::from_rows(rows, limit, |u| u.id.to_string()))
    }

    async fn update(
        &self,
        tenant: &TenantId,
        user: &User,
        write: UserWrite,
    ) -> Result<(), StoreError> {
        let (tenant, user) = (tenant.to_string(), user.clone());
        self.write("updating a user", move |tx| {
            let changed = tx
                .execute(
                    "UPDATE users SET name = ?1, role = ?2, active = ?3, updated_at = ?4,
                         token_version = token_version + ?7
                     WHERE tenant_id = ?5 AND id = ?6
                       AND (?9 IS NULL OR updated_at = ?9)
                       AND (?8 = 0 OR EXISTS (
                           SELECT 1 FROM users AS other
                           WHERE other.tenant_id = ?5 AND other.id <> ?6
                             AND other.role = 'OWNER' AND other.active = 1))",
                    params![
                        user.name.as_str(),
                        user.role.as_str(),
                        user.active,
                        millis(&user.updated_at),
                        tenant,
                        user.id.to_string(),
                        i64::from(write.end_sessions),
                        write.keep_an_owner,
                        write.expected_version,
                    ],
                )
                .or_store("updating a user")?;
            if changed == 1 {
                return Ok(());
            }
            // Why nothing was written, read in the same transaction: gone, moved on, or the
            // last active OWNER.
            let stored: Option<i64> = optional_row(
                tx,
                "SELECT updated_at FROM users WHERE tenant_id = ?1 AND id = ?2",
                params![tenant, user.id.to_string()],
                |row| row.get(0),
            )
            .or_store("reading a user")?;
            Err(match stored {
                None => StoreError::NotFound,
                Some(at) if write.expected_version.is_some_and(|v| v != at) => {
                    StoreError::VersionConflict
                }
                Some(_) => StoreError::InUse,
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
        let (tenant, id, hash) = (tenant.to_string(), id.to_string(), hash.clone());
        self.write("replacing a password", move |tx| {
            let changed = tx
                .execute(
                    "UPDATE users SET password_hash = ?1, updated_at = ?2,
                         token_version = token_version + 1
                     WHERE tenant_id = ?3 AND id = ?4",
                    params![hash.as_str(), millis(&updated_at), tenant, id],
                )
                .or_store("replacing a password")?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }
}
