//! Purchase orders and their lines (a child table, which lets SQL sum a variant's `incoming`,
//! per destination location), written only through the ledger.

use std::collections::HashMap;

use async_trait::async_trait;
use domain::ids::{PurchaseOrderId, TenantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::purchasing::models::{
    PurchaseOrder, PurchaseOrderFilter, PurchaseOrderLine, PurchaseOrderStatus,
};
use domain::purchasing::ports::PurchaseOrderRepository;
use domain::StoreError;
use rusqlite::{params, Row, Transaction};

use crate::error::SqlResultExt;
use crate::row::{id_list, millis, optional_row, RowExt, Select};
use crate::SqliteStore;

const SELECT_PURCHASE_ORDERS: &str =
    "SELECT id, tenant_id, supplier_id, location_id, status, expected_at, created_by, created_at,
            updated_at, version
       FROM purchase_orders WHERE tenant_id = ?";

fn purchase_order_from_row(row: &Row<'_>) -> rusqlite::Result<PurchaseOrder> {
    Ok(PurchaseOrder {
        id: row.id("id")?,
        tenant_id: row.id("tenant_id")?,
        supplier_id: row.id("supplier_id")?,
        location_id: row.id("location_id")?,
        status: row.decode("status", |s: String| {
            PurchaseOrderStatus::parse(&s).ok_or("unknown purchase order status")
        })?,
        lines: Vec::new(),
        expected_at: row.opt_time("expected_at")?,
        created_by: row.id("created_by")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        version: row.get("version")?,
    })
}

fn line_from_row(row: &Row<'_>) -> rusqlite::Result<(String, PurchaseOrderLine)> {
    Ok((
        row.get("purchase_order_id")?,
        PurchaseOrderLine {
            variant_id: row.id("variant_id")?,
            quantity: row.get("quantity")?,
            unit_cost: row.money("unit_cost")?,
            received: row.get("received")?,
        },
    ))
}

/// Runs `query` (over [`SELECT_PURCHASE_ORDERS`]) and attaches every order's lines in order.
fn load(
    tx: &Transaction<'_>,
    tenant: &str,
    query: &Select,
) -> rusqlite::Result<Vec<PurchaseOrder>> {
    let mut orders = query.rows(tx, purchase_order_from_row)?;
    if orders.is_empty() {
        return Ok(orders);
    }
    let lines = Select::new(
        "SELECT purchase_order_id, variant_id, quantity, unit_cost, received
           FROM purchase_order_lines WHERE tenant_id = ?",
    )
    .bind(tenant.to_owned())
    .and(
        "purchase_order_id IN (SELECT value FROM json_each(?))",
        id_list(orders.iter().map(|o| o.id)),
    )
    .tail("ORDER BY purchase_order_id, position")
    .rows(tx, line_from_row)?;
    let mut by_order: HashMap<String, Vec<PurchaseOrderLine>> = HashMap::new();
    for (order_id, line) in lines {
        by_order.entry(order_id).or_default().push(line);
    }
    for order in &mut orders {
        order.lines = by_order.remove(&order.id.to_string()).unwrap_or_default();
    }
    Ok(orders)
}

fn insert_lines(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    po: &PurchaseOrder,
) -> Result<(), StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO purchase_order_lines (purchase_order_id, position, tenant_id, variant_id,
                                               quantity, unit_cost, received)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .or_store("preparing purchase order lines")?;
    for (position, line) in po.lines.iter().enumerate() {
        stmt.execute(params![
            po.id.to_string(),
            position as i64,
            tenant.to_string(),
            line.variant_id.to_string(),
            line.quantity,
            line.unit_cost.minor_units(),
            line.received,
        ])
        .or_store("inserting a purchase order line")?;
    }
    Ok(())
}

/// `NotFound` unless the tenant has the purchase order's supplier. Checked in the write's own
/// transaction, which holds the database's write lock: a supplier cannot be deleted between this
/// check and the commit, so a purchase order never outlives its supplier.
fn require_supplier(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    po: &PurchaseOrder,
) -> Result<(), StoreError> {
    optional_row(
        tx,
        "SELECT 1 FROM suppliers WHERE tenant_id = ?1 AND id = ?2",
        params![tenant.to_string(), po.supplier_id.to_string()],
        |_| Ok(()),
    )
    .or_store("checking the purchase order's supplier")?
    .ok_or(StoreError::NotFound)
}

/// Inserts a new purchase order and its lines under `tenant`; `NotFound` without its supplier.
pub(crate) fn insert(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    po: &PurchaseOrder,
) -> Result<(), StoreError> {
    require_supplier(tx, tenant, po)?;
    tx.execute(
        "INSERT INTO purchase_orders (id, tenant_id, supplier_id, location_id, status, expected_at,
                                      created_by, created_at, updated_at, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            po.id.to_string(),
            tenant.to_string(),
            po.supplier_id.to_string(),
            po.location_id.to_string(),
            po.status.as_str(),
            po.expected_at.as_ref().map(millis),
            po.created_by.to_string(),
            millis(&po.created_at),
            millis(&po.updated_at),
            po.version,
        ],
    )
    .or_store("inserting a purchase order")?;
    insert_lines(tx, tenant, po)
}

/// Replaces the purchase order if its stored version is `expected_version`, else
/// `VersionConflict` (also when it does not exist in `tenant`).
pub(crate) fn replace(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    po: &PurchaseOrder,
    expected_version: i64,
) -> Result<(), StoreError> {
    require_supplier(tx, tenant, po)?;
    let changed = tx
        .execute(
            "UPDATE purchase_orders SET supplier_id = ?1, location_id = ?2, status = ?3,
                                        expected_at = ?4, updated_at = ?5, version = ?6
             WHERE tenant_id = ?7 AND id = ?8 AND version = ?9",
            params![
                po.supplier_id.to_string(),
                po.location_id.to_string(),
                po.status.as_str(),
                po.expected_at.as_ref().map(millis),
                millis(&po.updated_at),
                po.version,
                tenant.to_string(),
                po.id.to_string(),
                expected_version,
            ],
        )
        .or_store("updating a purchase order")?;
    if changed == 0 {
        return Err(StoreError::VersionConflict);
    }
    tx.execute(
        "DELETE FROM purchase_order_lines WHERE tenant_id = ?1 AND purchase_order_id = ?2",
        params![tenant.to_string(), po.id.to_string()],
    )
    .or_store("replacing purchase order lines")?;
    insert_lines(tx, tenant, po)
}

#[async_trait]
impl PurchaseOrderRepository for SqliteStore {
    async fn get(
        &self,
        tenant: &TenantId,
        id: &PurchaseOrderId,
    ) -> Result<Option<PurchaseOrder>, StoreError> {
        let tenant = tenant.to_string();
        let query = Select::new(SELECT_PURCHASE_ORDERS)
            .bind(tenant.clone())
            .and("id = ?", id.to_string());
        let mut orders = self
            .read("reading a purchase order", move |tx| {
                load(tx, &tenant, &query)
            })
            .await?;
        Ok(orders.pop())
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &PurchaseOrderFilter,
        page: &PageRequest,
    ) -> Result<Page<PurchaseOrder>, StoreError> {
        let limit = page.limit;
        let tenant = tenant.to_string();
        let mut query = Select::new(SELECT_PURCHASE_ORDERS).bind(tenant.clone());
        if let Some(status) = filter.status {
            query = query.and("status = ?", status.as_str().to_owned());
        }
        if let Some(supplier) = &filter.supplier_id {
            query = query.and("supplier_id = ?", supplier.to_string());
        }
        let query = query.page("id", page, Direction::Descending);
        let rows = self
            .read("listing purchase orders", move |tx| {
                load(tx, &tenant, &query)
            })
            .await?;
        Ok(Page::from_rows(rows, limit, |o| o.id.to_string()))
    }
}
