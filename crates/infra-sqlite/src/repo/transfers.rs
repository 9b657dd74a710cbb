//! Transfers and their lines (a child table, which lets SQL sum a variant's units in transit),
//! written only through the ledger, together with the movements of a shipment or a receipt.

use std::collections::HashMap;

use async_trait::async_trait;
use domain::ids::{TenantId, TransferId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::transfers::models::{Transfer, TransferFilter, TransferLine, TransferStatus};
use domain::transfers::ports::TransferRepository;
use domain::StoreError;
use rusqlite::{params, Row, Transaction};

use crate::error::SqlResultExt;
use crate::row::{id_list, millis, RowExt, Select};
use crate::SqliteStore;

const SELECT_TRANSFERS: &str =
    "SELECT id, tenant_id, from_location_id, to_location_id, status, created_by, created_at,
            updated_at, shipped_at, version
       FROM transfers WHERE tenant_id = ?";

fn transfer_from_row(row: &Row<'_>) -> rusqlite::Result<Transfer> {
    Ok(Transfer {
        id: row.id("id")?,
        tenant_id: row.id("tenant_id")?,
        from_location_id: row.id("from_location_id")?,
        to_location_id: row.id("to_location_id")?,
        status: row.decode("status", |s: String| {
            TransferStatus::parse(&s).ok_or("unknown transfer status")
        })?,
        lines: Vec::new(),
        created_by: row.id("created_by")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        shipped_at: row.opt_time("shipped_at")?,
        version: row.get("version")?,
    })
}

fn line_from_row(row: &Row<'_>) -> rusqlite::Result<(String, TransferLine)> {
    Ok((
        row.get("transfer_id")?,
        TransferLine {
            variant_id: row.id("variant_id")?,
            quantity: row.get("quantity")?,
            received: row.get("received")?,
        },
    ))
}

/// Runs `query` (over [`SELECT_TRANSFERS`]) and attaches every transfer's lines in order.
fn load(tx: &Transaction<'_>, tenant: &str, query: &Select) -> rusqlite::Result<Vec<Transfer>> {
    let mut transfers = query.rows(tx, transfer_from_row)?;
    if transfers.is_empty() {
        return Ok(transfers);
    }
    let lines = Select::new(
        "SELECT transfer_id, variant_id, quantity, received
           FROM transfer_lines WHERE tenant_id = ?",
    )
    .bind(tenant.to_owned())
    .and(
        "transfer_id IN (SELECT value FROM json_each(?))",
        id_list(transfers.iter().map(|t| t.id)),
    )
    .tail("ORDER BY transfer_id, position")
    .rows(tx, line_from_row)?;
    let mut by_transfer: HashMap<String, Vec<TransferLine>> = HashMap::new();
    for (transfer_id, line) in lines {
        by_transfer.entry(transfer_id).or_default().push(line);
    }
    for transfer in &mut transfers {
        transfer.lines = by_transfer
            .remove(&transfer.id.to_string())
            .unwrap_or_default();
    }
    Ok(transfers)
}

fn insert_lines(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    transfer: &Transfer,
) -> Result<(), StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO transfer_lines (transfer_id, position, tenant_id, variant_id, quantity,
                                         received)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .or_store("preparing transfer lines")?;
    for (position, line) in transfer.lines.iter().enumerate() {
        stmt.execute(params![
            transfer.id.to_string(),
            position as i64,
            tenant.to_string(),
            line.variant_id.to_string(),
            line.quantity,
            line.received,
        ])
        .or_store("inserting a transfer line")?;
    }
    Ok(())
}

/// Inserts a new transfer and its lines under `tenant`.
pub(crate) fn insert(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    transfer: &Transfer,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO transfers (id, tenant_id, from_location_id, to_location_id, status,
                                created_by, created_at, updated_at, shipped_at, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            transfer.id.to_string(),
            tenant.to_string(),
            transfer.from_location_id.to_string(),
            transfer.to_location_id.to_string(),
            transfer.status.as_str(),
            transfer.created_by.to_string(),
            millis(&transfer.created_at),
            millis(&transfer.updated_at),
            transfer.shipped_at.as_ref().map(millis),
            transfer.version,
        ])
    })
    .or_store("inserting a transfer")?;
    insert_lines(tx, tenant, transfer)
}

/// Replaces the transfer if its stored version is `expected_version`, else `VersionConflict`
/// (also when it does not exist in `tenant`).
pub(crate) fn replace(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    transfer: &Transfer,
    expected_version: i64,
) -> Result<(), StoreError> {
    let changed = tx
        .prepare_cached(
            "UPDATE transfers SET from_location_id = ?1, to_location_id = ?2, status = ?3,
                                  updated_at = ?4, shipped_at = ?5, version = ?6
             WHERE tenant_id = ?7 AND id = ?8 AND version = ?9",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                transfer.from_location_id.to_string(),
                transfer.to_location_id.to_string(),
                transfer.status.as_str(),
                millis(&transfer.updated_at),
                transfer.shipped_at.as_ref().map(millis),
                transfer.version,
                tenant.to_string(),
                transfer.id.to_string(),
                expected_version,
            ])
        })
        .or_store("updating a transfer")?;
    if changed == 0 {
        return Err(StoreError::VersionConflict);
    }
    tx.execute(
        "DELETE FROM transfer_lines WHERE tenant_id = ?1 AND transfer_id = ?2",
        params![tenant.to_string(), transfer.id.to_string()],
    )
    .or_store("replacing transfer lines")?;
    insert_lines(tx, tenant, transfer)
}

#[async_trait]
impl TransferRepository for SqliteStore {
    async fn get(
        &self,
        tenant: &TenantId,
        id: &TransferId,
    ) -> Result<Option<Transfer>, StoreError> {
        let tenant = tenant.to_string();
        let query = Select::new(SELECT_TRANSFERS)
            .bind(tenant.clone())
            .and("id = ?", id.to_string());
        let mut transfers = self
            .read("reading a transfer", move |tx| load(tx, &tenant, &query))
            .await?;
        Ok(transfers.pop())
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &TransferFilter,
        page: &PageRequest,
    ) -> Result<Page<Transfer>, StoreError> {
        let limit = page.limit;
        let tenant = tenant.to_string();
        let mut query = Select::new(SELECT_TRANSFERS).bind(tenant.clone());
        if let Some(status) = filter.status {
            query = query.and("status = ?", status.as_str().to_owned());
        }
        if let Some(from) = &filter.from_location_id {
            query = query.and("from_location_id = ?", from.to_string());
        }
        if let Some(to) = &filter.to_location_id {
            query = query.and("to_location_id = ?", to.to_string());
        }
        let query = query.page("id", page, Direction::Descending);
        let rows = self
            .read("listing transfers", move |tx| load(tx, &tenant, &query))
            .await?;
        Ok(Page::from_rows(rows, limit, |t| t.id.to_string()))
    }
}
