//! Products. Deleting one removes its variants, their levels and their expired holds in the
//! same transaction, and is refused while any of them holds stock, a live hold or units in
//! transit; movements stay.

use std::sync::LazyLock;

use async_trait::async_trait;
use domain::catalog::models::Product;
use domain::catalog::ports::ProductRepository;
use domain::idempotency::IdempotencyWrite;
use domain::ids::{ProductId, TenantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::precondition::Version;
use domain::StoreError;
use rusqlite::{params, Row};

use super::idempotency;
use super::variants::{read_instant, HOLDS_STOCK};
use crate::error::SqlResultExt;
use crate::row::{millis, missing_or_moved, optional_row, RowExt, Select};
use crate::SqliteStore;

/// Finds one variant of the product that keeps it from being deleted (binds: the instant of the
/// write in milliseconds, at which holds are judged live; the tenant; the product).
static HELD_VARIANT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT 1 FROM variants v
          WHERE v.tenant_id = ?2 AND v.product_id = ?3 AND (v.in_transit <> 0 OR {HOLDS_STOCK})
          LIMIT 1"
    )
});

const COLUMNS: &str = "id, tenant_id, name, description, created_at, updated_at";

fn product_from_row(row: &Row<'_>) -> rusqlite::Result<Product> {
    Ok(Product {
        id: row.id("id")?,
        tenant_id: row.id("tenant_id")?,
        name: row.text("name")?,
        description: row.opt_text("description")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

#[async_trait]
impl ProductRepository for SqliteStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        product: &Product,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError> {
        let (tenant, product, record) = (*tenant, product.clone(), idempotency);
        self.write("inserting a product", move |tx| {
            if let Some(record) = &record {
                idempotency::store(tx, &tenant, record.into())?;
            }
            tx.execute(
                "INSERT INTO products (id, tenant_id, name, description, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    product.id.to_string(),
                    tenant.to_string(),
                    product.name.as_str(),
                    product.description.as_ref().map(|d| d.as_str()),
                    millis(&product.created_at),
                    millis(&product.updated_at),
                ],
            )
            .or_store("inserting a product")?;
            Ok(())
        })
        .await
    }

    async fn get(&self, tenant: &TenantId, id: &ProductId) -> Result<Option<Product>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.read("reading a product", move |tx| {
            optional_row(
                tx,
                &format!("SELECT {COLUMNS} FROM products WHERE tenant_id = ?1 AND id = ?2"),
                params![tenant, id],
                product_from_row,
            )
        })
        .await
    }

    async fn list(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> Result<Page<Product>, StoreError> {
        let limit = page.limit;
        let query = Select::new(&format!(
            "SELECT {COLUMNS} FROM products WHERE tenant_id = ?"
        ))
        .bind(tenant.to_string())
        .page("id", page, Direction::Ascending);
        let rows = self
            .read("listing products", move |tx| {
                query.rows(tx, product_from_row)
            })
            .await?;
        Ok(Page::from_rows(rows, limit, |p| p.id.to_string()))
    }

    async fn update(
        &self,
        tenant: &TenantId,
        product: &Product,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let (tenant, product) = (tenant.to_string(), product.clone());
        self.write("updating a product", move |tx| {
            // The version is the stored `updated_at` in milliseconds: compared in the UPDATE
            // itself, so of two writers expecting the same version exactly one changes a row.
            let changed = tx
                .execute(
                    "UPDATE products SET name = ?1, description = ?2, updated_at = ?3
                     WHERE tenant_id = ?4 AND id = ?5 AND (?6 IS NULL OR updated_at = ?6)",
                    params![
                        product.name.as_str(),
                        product.description.as_ref().map(|d| d.as_str()),
                        millis(&product.updated_at),
                        tenant,
                        product.id.to_string(),
                        expected_version,
                    ],
                )
                .or_store("updating a product")?;
            if changed == 0 {
                return Err(missing_or_moved(
                    tx,
                    "products",
                    &tenant,
                    &product.id.to_string(),
                ));
            }
            Ok(())
        })
        .await
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        id: &ProductId,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.write("deleting a product", move |tx| {
            // Read under the write lock, so the version compared is the one deleted.
            let version: Option<i64> = optional_row(
                tx,
                "SELECT updated_at FROM products WHERE tenant_id = ?1 AND id = ?2",
                params![tenant, id],
                |row| row.get(0),
            )
            .or_store("finding the product to delete")?;
            match (version, expected_version) {
                (None, _) => return Err(StoreError::NotFound),
                (Some(current), Some(expected)) if current != expected => {
                    return Err(StoreError::VersionConflict)
                }
                _ => {}
            }
            let held = optional_row(
                tx,
                &HELD_VARIANT,
                params![read_instant(), tenant, id],
                |_| Ok(()),
            )
            .or_store("checking the product's stock")?;
            if held.is_some() {
                return Err(StoreError::InUse);
            }
            tx.execute(
                "DELETE FROM stock_levels
                  WHERE tenant_id = ?1
                    AND variant_id IN (SELECT id FROM variants
                                        WHERE tenant_id = ?1 AND product_id = ?2)",
                params![tenant, id],
            )
            .or_store("deleting the levels of the product's variants")?;
            // Only expired holds can be left (a live one keeps the product): they go with the
            // levels they were at.
            tx.execute(
                "DELETE FROM holds
                  WHERE tenant_id = ?1
                    AND variant_id IN (SELECT id FROM variants
                                        WHERE tenant_id = ?1 AND product_id = ?2)",
                params![tenant, id],
            )
            .or_store("deleting the expired holds of the product's variants")?;
            tx.execute(
                "DELETE FROM variants WHERE tenant_id = ?1 AND product_id = ?2",
                params![tenant, id],
            )
            .or_store("deleting the product's variants")?;
            tx.execute(
                "DELETE FROM products WHERE tenant_id = ?1 AND id = ?2",
                params![tenant, id],
            )
            .or_store("deleting a product")?;
            Ok(())
        })
        .await
    }
}
