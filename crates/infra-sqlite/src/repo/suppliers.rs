//! Suppliers. One cannot be deleted while it has purchase orders still open.

use std::sync::LazyLock;

use async_trait::async_trait;
use domain::idempotency::IdempotencyWrite;
use domain::ids::{SupplierId, TenantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::precondition::Version;
use domain::purchasing::models::{PurchaseOrderStatus, Supplier};
use domain::purchasing::ports::SupplierRepository;
use domain::values::EmailAddress;
use domain::StoreError;
use rusqlite::{params, Row};

use super::idempotency;
use super::variants::status_list;
use crate::error::SqlResultExt;
use crate::row::{millis, missing_or_moved, optional_row, RowExt, Select};
use crate::SqliteStore;

const COLUMNS: &str = "id, tenant_id, name, email, phone, lead_time_days, created_at, updated_at";

/// Finds one purchase order of the supplier that keeps it from being deleted.
static OPEN_ORDER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT 1 FROM purchase_orders
          WHERE tenant_id = ?1 AND supplier_id = ?2 AND status IN ({}) LIMIT 1",
        status_list(&PurchaseOrderStatus::OPEN)
    )
});

fn supplier_from_row(row: &Row<'_>) -> rusqlite::Result<Supplier> {
    Ok(Supplier {
        id: row.id("id")?,
        tenant_id: row.id("tenant_id")?,
        name: row.text("name")?,
        email: row.decode("email", |s: Option<String>| {
            s.map(|s| EmailAddress::new(&s)).transpose()
        })?,
        phone: row.opt_text("phone")?,
        lead_time_days: row.get("lead_time_days")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

#[async_trait]
impl SupplierRepository for SqliteStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        supplier: &Supplier,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError> {
        let (tenant, supplier, record) = (*tenant, supplier.clone(), idempotency);
        self.write("inserting a supplier", move |tx| {
            if let Some(record) = &record {
                idempotency::store(tx, &tenant, record.into())?;
            }
            tx.execute(
                "INSERT INTO suppliers (id, tenant_id, name, email, phone, lead_time_days,
                                        created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    supplier.id.to_string(),
                    tenant.to_string(),
                    supplier.name.as_str(),
                    supplier.email.as_ref().map(|e| e.as_str()),
                    supplier.phone.as_ref().map(|p| p.as_str()),
                    supplier.lead_time_days,
                    millis(&supplier.created_at),
                    millis(&supplier.updated_at),
                ],
            )
            .or_store("inserting a supplier")?;
            Ok(())
        })
        .await
    }

    async fn get(
        &self,
        tenant: &TenantId,
        id: &SupplierId,
    ) -> Result<Option<Supplier>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.read("reading a supplier", move |tx| {
            optional_row(
                tx,
                &format!("SELECT {COLUMNS} FROM suppliers WHERE tenant_id = ?1 AND id = ?2"),
                params![tenant, id],
                supplier_from_row,
            )
        })
        .await
    }

    async fn list(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> Result<Page<Supplier>, StoreError> {
        let limit = page.limit;
        let query = Select::new(&format!(
            "SELECT {COLUMNS} FROM suppliers WHERE tenant_id = ?"
        ))
        .bind(tenant.to_string())
        .page("id", page, Direction::Ascending);
        let rows = self
            .read("listing suppliers", move |tx| {
                query.rows(tx, supplier_from_row)
            })
            .await?;
        Ok(Page::from_rows(rows, limit, |s| s.id.to_string()))
    }

    async fn update(
        &self,
        tenant: &TenantId,
        supplier: &Supplier,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let (tenant, supplier) = (tenant.to_string(), supplier.clone());
        self.write("updating a supplier", move |tx| {
            let changed = tx
                .execute(
                    "UPDATE suppliers SET name = ?1, email = ?2, phone = ?3, lead_time_days = ?4,
                                          updated_at = ?5
                     WHERE tenant_id = ?6 AND id = ?7 AND (?8 IS NULL OR updated_at = ?8)",
                    params![
                        supplier.name.as_str(),
                        supplier.email.as_ref().map(|e| e.as_str()),
                        supplier.phone.as_ref().map(|p| p.as_str()),
                        supplier.lead_time_days,
                        millis(&supplier.updated_at),
                        tenant,
                        supplier.id.to_string(),
                        expected_version,
                    ],
                )
                .or_store("updating a supplier")?;
            if changed == 0 {
                return Err(missing_or_moved(
                    tx,
                    "suppliers",
                    &tenant,
                    &supplier.id.to_string(),
                ));
            }
            Ok(())
        })
        .await
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        id: &SupplierId,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.write("deleting a supplier", move |tx| {
            // Read under the write lock, so the version compared is the one deleted.
            let version: Option<i64> = optional_row(
                tx,
                "SELECT updated_at FROM suppliers WHERE tenant_id = ?1 AND id = ?2",
                params![tenant, id],
                |row| row.get(0),
            )
            .or_store("finding the supplier to delete")?;
            match (version, expected_version) {
                (None, _) => return Err(StoreError::NotFound),
                (Some(current), Some(expected)) if current != expected => {
                    return Err(StoreError::VersionConflict)
                }
                _ => {}
            }
            let open = optional_row(tx, &OPEN_ORDER, params![tenant, id], |_| Ok(()))
                .or_store("checking the supplier's purchase orders")?;
            if open.is_some() {
                return Err(StoreError::InUse);
            }
            tx.execute(
                "DELETE FROM suppliers WHERE tenant_id = ?1 AND id = ?2",
                params![tenant, id],
            )
            .or_store("deleting a supplier")?;
            Ok(())
        })
        .await
    }
}
