//! Variants: unique SKU per tenant, stock changed only by the ledger, `incoming` computed in SQL.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use domain::catalog::models::{Variant, VariantFilter};
use domain::catalog::ports::VariantRepository;
use domain::idempotency::IdempotencyWrite;
use domain::ids::{TenantId, VariantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::purchasing::models::PurchaseOrderStatus;
use domain::values::Attributes;
use domain::StoreError;
use rusqlite::{params, Row};

use super::idempotency;
use crate::error::SqlResultExt;
use crate::row::{id_list, millis, optional_row, RowExt, Select};
use crate::SqliteStore;

/// `'A', 'B'` for a fixed set of statuses taken from the domain (never from input).
pub(crate) fn status_list(statuses: &[PurchaseOrderStatus]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A variant row with its `incoming`: Σ (quantity − received) over the lines of this tenant's
/// purchase orders that are still expected (ORDERED, PARTIALLY_RECEIVED). Ends in a `WHERE`
/// on the tenant, so callers append conditions.
pub(crate) static SELECT_VARIANTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT v.id, v.tenant_id, v.product_id, v.sku, v.attributes, v.price, v.reorder_level,
                v.stock, v.created_at, v.updated_at,
                (SELECT COALESCE(SUM(l.quantity - l.received), 0)
                   FROM purchase_order_lines l
                   JOIN purchase_orders p ON p.id = l.purchase_order_id
                  WHERE l.tenant_id = v.tenant_id AND l.variant_id = v.id
                    AND p.tenant_id = v.tenant_id AND p.status IN ({})) AS incoming
           FROM variants v
          WHERE v.tenant_id = ?",
        status_list(&PurchaseOrderStatus::INCOMING)
    )
});

/// Positions of the columns of [`SELECT_VARIANTS`]. Variant pages are the most frequent read,
/// and reading by position skips a by-name lookup per column and row.
mod column {
    pub const ID: usize = 0;
    pub const TENANT_ID: usize = 1;
    pub const PRODUCT_ID: usize = 2;
    pub const SKU: usize = 3;
    pub const ATTRIBUTES: usize = 4;
    pub const PRICE: usize = 5;
    pub const REORDER_LEVEL: usize = 6;
    pub const STOCK: usize = 7;
    pub const CREATED_AT: usize = 8;
    pub const UPDATED_AT: usize = 9;
    pub const INCOMING: usize = 10;
}

/// A row of [`SELECT_VARIANTS`].
pub(crate) fn variant_from_row(row: &Row<'_>) -> rusqlite::Result<Variant> {
    Ok(Variant {
        id: row.id(column::ID)?,
        tenant_id: row.id(column::TENANT_ID)?,
        product_id: row.id(column::PRODUCT_ID)?,
        sku: row.sku(column::SKU)?,
        attributes: row.decode(column::ATTRIBUTES, |s: String| {
            let map: BTreeMap<String, String> =
                serde_json::from_str(&s).map_err(|e| e.to_string())?;
            Attributes::new(map).map_err(|e| e.to_string())
        })?,
        price: row.money(column::PRICE)?,
        reorder_level: row.level(column::REORDER_LEVEL)?,
        stock: row.get(column::STOCK)?,
        incoming: row.get(column::INCOMING)?,
        created_at: row.time(column::CREATED_AT)?,
        updated_at: row.time(column::UPDATED_AT)?,
    })
}

fn attributes_json(attributes: &Attributes) -> String {
    serde_json::Value::from_iter(
        attributes
            .as_map()
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))),
    )
    .to_string()
}

#[async_trait]
impl VariantRepository for SqliteStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        variant: &Variant,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError> {
        let (tenant, variant, record) = (*tenant, variant.clone(), idempotency);
        self.write("inserting a variant", move |tx| {
            if let Some(record) = &record {
                idempotency::store(tx, &tenant, record.into())?;
            }
            tx.execute(
                "INSERT INTO variants (id, tenant_id, product_id, sku, attributes, price,
                                       reorder_level, stock, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9)",
                params![
                    variant.id.to_string(),
                    tenant.to_string(),
                    variant.product_id.to_string(),
                    variant.sku.as_str(),
                    attributes_json(&variant.attributes),
                    variant.price.minor_units(),
                    variant.reorder_level.get(),
                    millis(&variant.created_at),
                    millis(&variant.updated_at),
                ],
            )
            .or_store("inserting a variant")?;
            Ok(())
        })
        .await
    }

    async fn get(&self, tenant: &TenantId, id: &VariantId) -> Result<Option<Variant>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.read("reading a variant", move |tx| {
            optional_row(
                tx,
                &format!("{} AND v.id = ?", *SELECT_VARIANTS),
                params![tenant, id],
                variant_from_row,
            )
        })
        .await
    }

    async fn get_many(
        &self,
        tenant: &TenantId,
        ids: &[VariantId],
    ) -> Result<Vec<Variant>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = Select::new(&SELECT_VARIANTS)
            .bind(tenant.to_string())
            .and("v.id IN (SELECT value FROM json_each(?))", id_list(ids));
        self.read("reading variants", move |tx| {
            query.rows(tx, variant_from_row)
        })
        .await
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &VariantFilter,
        page: &PageRequest,
    ) -> Result<Page<Variant>, StoreError> {
        let limit = page.limit;
        let mut query = Select::new(&SELECT_VARIANTS).bind(tenant.to_string());
        if let Some(product) = &filter.product_id {
            query = query.and("v.product_id = ?", product.to_string());
        }
        if let Some(sku) = &filter.sku {
            query = query.and("v.sku = ?", sku.as_str().to_owned());
        }
        if filter.low_stock {
            query = query.and_raw("v.stock <= v.reorder_level");
        }
        let query = query.page("v.id", page, Direction::Ascending);
        let rows = self
            .read("listing variants", move |tx| {
                query.rows(tx, variant_from_row)
            })
            .await?;
        Ok(Page::from_rows(rows, limit, |v| v.id.to_string()))
    }

    async fn update(&self, tenant: &TenantId, variant: &Variant) -> Result<(), StoreError> {
        let (tenant, variant) = (tenant.to_string(), variant.clone());
        self.write("updating a variant", move |tx| {
            let changed = tx
                .execute(
                    "UPDATE variants SET product_id = ?1, sku = ?2, attributes = ?3, price = ?4,
                                         reorder_level = ?5, updated_at = ?6
                     WHERE tenant_id = ?7 AND id = ?8",
                    params![
                        variant.product_id.to_string(),
                        variant.sku.as_str(),
                        attributes_json(&variant.attributes),
                        variant.price.minor_units(),
                        variant.reorder_level.get(),
                        millis(&variant.updated_at),
                        tenant,
                        variant.id.to_string(),
                    ],
                )
                .or_store("updating a variant")?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, tenant: &TenantId, id: &VariantId) -> Result<(), StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.write("deleting a variant", move |tx| {
            let deleted = tx
                .execute(
                    "DELETE FROM variants WHERE tenant_id = ?1 AND id = ?2 AND stock = 0",
                    params![tenant, id],
                )
                .or_store("deleting a variant")?;
            if deleted == 1 {
                return Ok(());
            }
            let exists = optional_row(
                tx,
                "SELECT 1 FROM variants WHERE tenant_id = ?1 AND id = ?2",
                params![tenant, id],
                |_| Ok(()),
            )
            .or_store("finding the variant to delete")?;
            Err(match exists {
                Some(()) => StoreError::InUse,
                None => StoreError::NotFound,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_positions_match_the_select() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::migrate::apply(&mut conn).unwrap();
        let statement = conn.prepare(&SELECT_VARIANTS).unwrap();
        let expected = [
            (column::ID, "id"),
            (column::TENANT_ID, "tenant_id"),
            (column::PRODUCT_ID, "product_id"),
            (column::SKU, "sku"),
            (column::ATTRIBUTES, "attributes"),
            (column::PRICE, "price"),
            (column::REORDER_LEVEL, "reorder_level"),
            (column::STOCK, "stock"),
            (column::CREATED_AT, "created_at"),
            (column::UPDATED_AT, "updated_at"),
            (column::INCOMING, "incoming"),
        ];
        assert_eq!(statement.column_count(), expected.len());
        for (index, name) in expected {
            assert_eq!(statement.column_name(index).unwrap(), name);
        }
    }
}
