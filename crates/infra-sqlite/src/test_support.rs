//! What tests need of this store beyond the ports (feature `test-support`; never in the server).
//!
//! - [`SqliteStore::legacy_fixture`] writes a database file as a build from before locations
//!   left it (schema version 1), with the rows of [`LegacyRows`] inserted by SQL. Opening a
//!   [`SqliteStore`] on that file afterwards applies the later migrations, which is how the
//!   contract suite checks that existing data comes through the locations migration intact.
//! - [`SET_LEVEL_SQL`] sets one level's stock behind the ledger, for the audit's cases: run by
//!   [`SqliteStore::set_stock_behind_the_ledger`] on a memory database, or on a connection of
//!   the test's own to a database file, as another process would.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use domain::ids::{MovementId, ProductId, TenantId, UserId, VariantId};
use domain::stock::models::MovementKind;
use rusqlite::{params, Connection, Transaction};

use crate::migrate;
use crate::row::millis;
use crate::SqliteStore;

/// Sets the stock of the level (`?2` variant, `?3` location) of tenant `?1` to `?4`, creating
/// the level if the variant has none there; the variant's total is left alone. Writes one row,
/// or none when the variant does not exist in the tenant.
pub const SET_LEVEL_SQL: &str =
    "INSERT INTO stock_levels (tenant_id, variant_id, location_id, stock)
     SELECT tenant_id, id, ?3, ?4 FROM variants WHERE tenant_id = ?1 AND id = ?2
     ON CONFLICT (tenant_id, variant_id, location_id) DO UPDATE SET stock = excluded.stock";

/// The schema version of a store from before locations.
const PRE_LOCATIONS: i64 = 1;

/// One tenant's rows in a store from before locations: the tenant, its owner, its products,
/// and its variants with their stock and movements. Plain data, written as given: values are not
/// validated, so they should be what the domain would have stored (a slug, an email, an SKU that
/// pass their constructors; a stock equal to the sum of the variant's movements unless a test
/// wants drift). Each product must come before the variants that name it.
#[derive(Debug, Clone)]
pub struct LegacyRows {
    pub tenant: LegacyTenant,
    pub owner: LegacyOwner,
    pub products: Vec<LegacyProduct>,
    pub variants: Vec<LegacyVariant>,
}

#[derive(Debug, Clone)]
pub struct LegacyTenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    /// Also the creation time of the default location the migration gives the tenant.
    pub created_at: DateTime<Utc>,
}

/// The tenant's first user.
#[derive(Debug, Clone)]
pub struct LegacyOwner {
    pub id: UserId,
    pub email: String,
    pub name: String,
    /// `OWNER`, `MANAGER` or `STAFF`, as stored.
    pub role: String,
    pub active: bool,
    /// A PHC string, as stored (the fixture never hashes).
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct LegacyProduct {
    pub id: ProductId,
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A variant with its stock as the one number the old schema had, and its movements.
#[derive(Debug, Clone)]
pub struct LegacyVariant {
    pub id: VariantId,
    /// One of [`LegacyRows::products`].
    pub product_id: ProductId,
    pub sku: String,
    pub attributes: BTreeMap<String, String>,
    /// Minor units.
    pub price: i64,
    pub reorder_level: i64,
    pub stock: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub movements: Vec<LegacyMovement>,
}

/// A movement of the pre-location ledger. Its kind must be one that schema knew: PURCHASE,
/// SALE, ADJUSTMENT or RETURN (the fixture fails on a transfer kind). It carries no reason,
/// reference or unit cost (all NULL).
#[derive(Debug, Clone)]
pub struct LegacyMovement {
    pub id: MovementId,
    pub kind: MovementKind,
    /// Signed, as the ledger stores it.
    pub quantity: i64,
    /// The variant's stock after the movement.
    pub stock_after: i64,
    pub actor: UserId,
    pub created_at: DateTime<Utc>,
}

impl SqliteStore {
    /// Writes `rows` into the database file at `path` as a build from before locations would
    /// have: the file (and its folder) is created if missing and brought to schema version 1
    /// only, then the rows are inserted by SQL in one transaction. Call it again on the same
    /// path to add another tenant. Fails if the file's schema is already newer than version 1.
    ///
    /// Nothing is migrated here: open the store on the file afterwards
    /// (`SqliteStore::open(&format!("sqlite://{}", path.display()))`) and migration 0002 gives
    /// the tenant its default location and moves its stock, movements, purchase orders and
    /// orders there. Blocking (plain file I/O); quick enough to call from an async test.
    pub fn legacy_fixture(path: &Path, rows: &LegacyRows) -> anyhow::Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the folder {}", parent.display()))?;
        }
        let mut conn = Connection::open(path)
            .with_context(|| format!("opening the database {}", path.display()))?;
        migrate::apply_through(&mut conn, PRE_LOCATIONS)?;
        let version = migrate::version(&conn)?;
        if version != PRE_LOCATIONS {
            bail!(
                "the database {} is at schema version {version}, not {PRE_LOCATIONS}",
                path.display()
            );
        }
        let tx = conn.transaction()?;
        insert_legacy(&tx, rows).context("inserting the pre-location rows")?;
        tx.commit()?;
        Ok(())
    }
}

/// Inserts `rows` with the statements of schema version 1.
pub(crate) fn insert_legacy(tx: &Transaction<'_>, rows: &LegacyRows) -> rusqlite::Result<()> {
    let tenant = &rows.tenant;
    let tenant_id = tenant.id.to_string();
    tx.execute(
        "INSERT INTO tenants (id, name, slug, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            tenant_id,
            tenant.name,
            tenant.slug,
            millis(&tenant.created_at)
        ],
    )?;
    let owner = &rows.owner;
    tx.execute(
        "INSERT INTO users (id, tenant_id, email, name, role, active, password_hash, created_at,
                            updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            owner.id.to_string(),
            tenant_id,
            owner.email,
            owner.name,
            owner.role,
            owner.active,
            owner.password_hash,
            millis(&owner.created_at),
            millis(&owner.updated_at),
        ],
    )?;
    for product in &rows.products {
        tx.execute(
            "INSERT INTO products (id, tenant_id, name, description, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                product.id.to_string(),
                tenant_id,
                product.name,
                product.description,
                millis(&product.created_at),
                millis(&product.updated_at),
            ],
        )?;
    }
    for variant in &rows.variants {
        let attributes = serde_json::Value::from_iter(
            variant
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))),
        )
        .to_string();
        tx.execute(
            "INSERT INTO variants (id, tenant_id, product_id, sku, attributes, price,
                                   reorder_level, stock, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                variant.id.to_string(),
                tenant_id,
                variant.product_id.to_string(),
                variant.sku,
                attributes,
                variant.price,
                variant.reorder_level,
                variant.stock,
                millis(&variant.created_at),
                millis(&variant.updated_at),
            ],
        )?;
        for m in &variant.movements {
            tx.execute(
                "INSERT INTO stock_movements (id, tenant_id, variant_id, kind, quantity,
                                              stock_after, actor, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    m.id.to_string(),
                    tenant_id,
                    variant.id.to_string(),
                    m.kind.as_str(),
                    m.quantity,
                    m.stock_after,
                    m.actor.to_string(),
                    millis(&m.created_at),
                ],
            )?;
        }
    }
    Ok(())
}
