//! Orders and their lines (a child table), written only through the ledger.
//!
//! An order is read with its lines in the same read transaction: one query for the orders, one
//! for all their lines, so a page costs two statements whatever its size. A line's allocations
//! (where its units were taken from) are a JSON array in the line's row: they are only ever
//! read and written with the line.

use std::collections::HashMap;

use async_trait::async_trait;
use domain::ids::{OrderId, TenantId};
use domain::orders::models::{Allocation, Customer, Order, OrderFilter, OrderLine, OrderStatus};
use domain::orders::ports::OrderRepository;
use domain::pagination::{Direction, Page, PageRequest};
use domain::values::EmailAddress;
use domain::StoreError;
use rusqlite::{params, Row, Transaction};

use crate::error::SqlResultExt;
use crate::row::{id_list, millis, RowExt, Select};
use crate::SqliteStore;

const SELECT_ORDERS: &str =
    "SELECT id, tenant_id, status, customer_name, customer_email, note, location_id,
            sold_at_placement, total, placed_by, created_at, updated_at, version
       FROM orders WHERE tenant_id = ?";

/// The JSON the `allocations` column holds.
fn allocations_json(allocations: &[Allocation]) -> String {
    serde_json::Value::from_iter(allocations.iter().map(|a| {
        serde_json::json!({
            "location_id": a.location_id.to_string(),
            "quantity": a.quantity,
            "returned": a.returned,
        })
    }))
    .to_string()
}

fn allocations_from_json(raw: String) -> Result<Vec<Allocation>, String> {
    let items: Vec<serde_json::Value> = serde_json::from_str(&raw).map_err(|e| e.to_string())?;
    items
        .iter()
        .map(|item| {
            let int = |field: &str| {
                item[field]
                    .as_i64()
                    .ok_or_else(|| format!("an allocation has no integer {field}"))
            };
            Ok(Allocation {
                location_id: item["location_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or("an allocation has no location id")?,
                quantity: int("quantity")?,
                returned: int("returned")?,
            })
        })
        .collect()
}

fn order_from_row(row: &Row<'_>) -> rusqlite::Result<Order> {
    let customer_name = row.opt_text("customer_name")?;
    let customer_email = row.decode("customer_email", |s: Option<String>| {
        s.map(|s| EmailAddress::new(&s)).transpose()
    })?;
    Ok(Order {
        id: row.id("id")?,
        tenant_id: row.id("tenant_id")?,
        status: row.decode("status", |s: String| {
            OrderStatus::parse(&s).ok_or("unknown order status")
        })?,
        lines: Vec::new(),
        customer: customer_name.map(|name| Customer {
            name,
            email: customer_email,
        }),
        note: row.opt_text("note")?,
        location_id: row.opt_id("location_id")?,
        sold_at_placement: row.get("sold_at_placement")?,
        total: row.money("total")?,
        placed_by: row.id("placed_by")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        version: row.get("version")?,
    })
}

fn line_from_row(row: &Row<'_>) -> rusqlite::Result<(String, OrderLine)> {
    Ok((
        row.get("order_id")?,
        OrderLine {
            variant_id: row.id("variant_id")?,
            sku: row.sku("sku")?,
            quantity: row.get("quantity")?,
            unit_price: row.money("unit_price")?,
            line_total: row.money("line_total")?,
            returned: row.get("returned")?,
            allocations: row.decode("allocations", allocations_from_json)?,
        },
    ))
}

/// Runs `query` (over [`SELECT_ORDERS`]) and attaches every order's lines, in their order.
fn load(tx: &Transaction<'_>, tenant: &str, query: &Select) -> rusqlite::Result<Vec<Order>> {
    let mut orders = query.rows(tx, order_from_row)?;
    if orders.is_empty() {
        return Ok(orders);
    }
    let lines = Select::new(
        "SELECT order_id, variant_id, sku, quantity, unit_price, line_total, returned,
                allocations
           FROM order_lines WHERE tenant_id = ?",
    )
    .bind(tenant.to_owned())
    .and(
        "order_id IN (SELECT value FROM json_each(?))",
        id_list(orders.iter().map(|o| o.id)),
    )
    .tail("ORDER BY order_id, position")
    .rows(tx, line_from_row)?;
    let mut by_order: HashMap<String, Vec<OrderLine>> = HashMap::new();
    for (order_id, line) in lines {
        by_order.entry(order_id).or_default().push(line);
    }
    for order in &mut orders {
        order.lines = by_order.remove(&order.id.to_string()).unwrap_or_default();
    }
    Ok(orders)
}

fn insert_lines(tx: &Transaction<'_>, tenant: &TenantId, order: &Order) -> Result<(), StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO order_lines (order_id, position, tenant_id, variant_id, sku, quantity,
                                      unit_price, line_total, returned, allocations)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .or_store("preparing order lines")?;
    for (position, line) in order.lines.iter().enumerate() {
        stmt.execute(params![
            order.id.to_string(),
            position as i64,
            tenant.to_string(),
            line.variant_id.to_string(),
            line.sku.as_str(),
            line.quantity,
            line.unit_price.minor_units(),
            line.line_total.minor_units(),
            line.returned,
            allocations_json(&line.allocations),
        ])
        .or_store("inserting an order line")?;
    }
    Ok(())
}

/// Inserts a new order and its lines under `tenant`.
pub(crate) fn insert(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    order: &Order,
) -> Result<(), StoreError> {
    // Cached: placing an order runs this inside the single writer's transaction, where
    // compiling the statement anew each time would lengthen every writer's turn.
    tx.prepare_cached(
        "INSERT INTO orders (id, tenant_id, status, customer_name, customer_email, note,
                             location_id, total, placed_by, created_at, updated_at, version,
                             sold_at_placement)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            order.id.to_string(),
            tenant.to_string(),
            order.status.as_str(),
            order.customer.as_ref().map(|c| c.name.as_str()),
            order
                .customer
                .as_ref()
                .and_then(|c| c.email.as_ref())
                .map(|e| e.as_str()),
            order.note.as_ref().map(|n| n.as_str()),
            order.location_id.map(|l| l.to_string()),
            order.total.minor_units(),
            order.placed_by.to_string(),
            millis(&order.created_at),
            millis(&order.updated_at),
            order.version,
            order.sold_at_placement,
        ])
    })
    .or_store("inserting an order")?;
    insert_lines(tx, tenant, order)
}

/// Replaces the order if its stored version is `expected_version`, else `VersionConflict`
/// (also when the order does not exist in `tenant`).
pub(crate) fn replace(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    order: &Order,
    expected_version: i64,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE orders SET status = ?1, customer_name = ?2, customer_email = ?3, note = ?4,
                               location_id = ?5, total = ?6, updated_at = ?7, version = ?8
             WHERE tenant_id = ?9 AND id = ?10 AND version = ?11",
            params![
                order.status.as_str(),
                order.customer.as_ref().map(|c| c.name.as_str()),
                order
                    .customer
                    .as_ref()
                    .and_then(|c| c.email.as_ref())
                    .map(|e| e.as_str()),
                order.note.as_ref().map(|n| n.as_str()),
                order.location_id.map(|l| l.to_string()),
                order.total.minor_units(),
                millis(&order.updated_at),
                order.version,
                tenant.to_string(),
                order.id.to_string(),
                expected_version,
            ],
        )
        .or_store("updating an order")?;
    if changed == 0 {
        return Err(StoreError::VersionConflict);
    }
    tx.execute(
        "DELETE FROM order_lines WHERE tenant_id = ?1 AND order_id = ?2",
        params![tenant.to_string(), order.id.to_string()],
    )
    .or_store("replacing order lines")?;
    insert_lines(tx, tenant, order)
}

#[async_trait]
impl OrderRepository for SqliteStore {
    async fn get(&self, tenant: &TenantId, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let tenant = tenant.to_string();
        let query = Select::new(SELECT_ORDERS)
            .bind(tenant.clone())
            .and("id = ?", id.to_string());
        let mut orders = self
            .read("reading an order", move |tx| load(tx, &tenant, &query))
            .await?;
        Ok(orders.pop())
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &OrderFilter,
        page: &PageRequest,
    ) -> Result<Page<Order>, StoreError> {
        let limit = page.limit;
        let tenant = tenant.to_string();
        let mut query = Select::new(SELECT_ORDERS).bind(tenant.clone());
        if let Some(status) = filter.status {
            query = query.and("status = ?", status.as_str().to_owned());
        }
        if let Some(from) = &filter.from {
            query = query.and("created_at >= ?", millis(from));
        }
        if let Some(to) = &filter.to {
            query = query.and("created_at < ?", millis(to));
        }
        let query = query.page("id", page, Direction::Descending);
        let rows = self
            .read("listing orders", move |tx| load(tx, &tenant, &query))
            .await?;
        Ok(Page::from_rows(rows, limit, |o| o.id.to_string()))
    }
}
