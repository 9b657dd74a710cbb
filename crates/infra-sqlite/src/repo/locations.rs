//! Locations, and what they hold: their levels (`stock_levels` joined with the variants) and
//! the transfers and purchase orders that name them.
//!
//! The default is a flag on the row, moved by one `UPDATE` that sets `is_default = (id = ?)`
//! over the tenant's rows, so no reader ever sees two defaults or none.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::idempotency::IdempotencyWrite;
use domain::ids::{LocationId, TenantId};
use domain::locations::models::{Holdings, LevelFilter, Location, LocationLevel};
use domain::locations::ports::LocationRepository;
use domain::pagination::{Direction, Page, PageRequest};
use domain::purchasing::models::PurchaseOrderStatus;
use domain::stock::state::{Claims, StockState, Unavailable};
use domain::transfers::models::TransferStatus;
use domain::values::{LocationCode, LocationPriority};
use domain::StoreError;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Row, Transaction};

use super::idempotency;
use super::variants::{read_instant, status_list, transfer_status_list};
use crate::error::SqlResultExt;
use crate::row::{millis, optional_row, RowExt, Select};
use crate::SqliteStore;

const COLUMNS: &str =
    "id, tenant_id, name, code, is_default, active, priority, created_at, updated_at";

fn location_from_row(row: &Row<'_>) -> rusqlite::Result<Location> {
    Ok(Location {
        id: row.id("id")?,
        tenant_id: row.id("tenant_id")?,
        name: row.text("name")?,
        code: row.decode("code", |s: String| LocationCode::new(&s))?,
        is_default: row.get("is_default")?,
        active: row.get("active")?,
        priority: row.decode("priority", LocationPriority::new)?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// Inserts `location` under `tenant`, default or not as it says; `Duplicate` if its code is
/// taken there. Also used when a tenant is created with its default location.
pub(crate) fn insert_row(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    location: &Location,
) -> Result<(), StoreError> {
    tx.execute(
        &format!("INSERT INTO locations ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
        params![
            location.id.to_string(),
            tenant.to_string(),
            location.name.as_str(),
            location.code.as_str(),
            location.is_default,
            location.active,
            location.priority.get(),
            millis(&location.created_at),
            millis(&location.updated_at),
        ],
    )
    .or_store("inserting a location")?;
    Ok(())
}

/// A page of the levels at one location (binds: tenant, location, the cursor or NULL, the row
/// limit, the instant of the read in milliseconds, at which holds are judged live), ordered by
/// variant id: every variant with a level row there or units on open
/// purchase orders bound for it. `{low}` is replaced by the low-stock condition or nothing.
/// The cursor is applied inside both branches, so each is a range of its index, and the
/// `CROSS JOIN` keeps SQLite from driving the query by a scan of the tenant's variants instead.
static LEVELS_PAGE: LazyLock<String> = LazyLock::new(|| {
    let incoming = status_list(&PurchaseOrderStatus::INCOMING);
    let reserved = RESERVED_HERE;
    format!(
        "WITH held(variant_id) AS (
             SELECT variant_id FROM stock_levels
              WHERE tenant_id = ?1 AND location_id = ?2 AND variant_id > COALESCE(?3, '')
             UNION
             SELECT l.variant_id
               FROM purchase_orders p
               JOIN purchase_order_lines l ON l.purchase_order_id = p.id
              WHERE p.tenant_id = ?1 AND p.location_id = ?2 AND p.status IN ({incoming})
                AND l.variant_id > COALESCE(?3, '')
              GROUP BY l.variant_id
             HAVING SUM(l.quantity - l.received) > 0)
         SELECT h.variant_id, v.sku, v.reorder_level, COALESCE(s.stock, 0) AS stock,
                COALESCE(s.committed, 0) AS committed, COALESCE(s.damaged, 0) AS damaged,
                COALESCE(s.quality_control, 0) AS quality_control,
                COALESCE(s.safety_stock, 0) AS safety_stock,
                {reserved} AS reserved,
                (SELECT COALESCE(SUM(l.quantity - l.received), 0)
                   FROM purchase_order_lines l
                   JOIN purchase_orders p ON p.id = l.purchase_order_id
                  WHERE l.tenant_id = ?1 AND l.variant_id = h.variant_id
                    AND p.tenant_id = ?1 AND p.location_id = ?2
                    AND p.status IN ({incoming})) AS incoming
           FROM held h
           CROSS JOIN variants v ON v.tenant_id = ?1 AND v.id = h.variant_id
           LEFT JOIN stock_levels s
                  ON s.tenant_id = ?1 AND s.variant_id = h.variant_id AND s.location_id = ?2
          WHERE 1 = 1 {{low}}
          ORDER BY h.variant_id
          LIMIT ?4"
    )
});

/// The units of the live holds (at `?5`) of the variant `h.variant_id` at the location `?2`.
const RESERVED_HERE: &str = "(SELECT COALESCE(SUM(r.quantity), 0) FROM holds r
                               WHERE r.tenant_id = ?1 AND r.variant_id = h.variant_id
                                 AND r.location_id = ?2 AND r.expires_at > ?5)";

/// The low-stock condition of [`LEVELS_PAGE`]: available here (on hand less every claim, reserved
/// counted at the instant of the read) at or below the reorder level.
static LOW_HERE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "AND COALESCE(s.stock - s.committed - s.damaged - s.quality_control - s.safety_stock, 0)
                 - {RESERVED_HERE} <= v.reorder_level"
    )
});

/// What keeps a location from being deactivated, in one statement (one snapshot).
static HOLDINGS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT
           (SELECT COALESCE(SUM(stock), 0) FROM stock_levels
             WHERE tenant_id = ?1 AND location_id = ?2),
           (SELECT COALESCE(SUM(l.quantity - l.received), 0)
              FROM transfers t JOIN transfer_lines l ON l.transfer_id = t.id
             WHERE t.tenant_id = ?1 AND t.to_location_id = ?2 AND t.status IN ({in_transit})),
           (SELECT count(*) FROM purchase_orders
             WHERE tenant_id = ?1 AND location_id = ?2 AND status IN ({open})),
           (SELECT count(*) FROM transfers
             WHERE tenant_id = ?1 AND status = 'DRAFT'
               AND (from_location_id = ?2 OR to_location_id = ?2))",
        in_transit = transfer_status_list(&TransferStatus::IN_TRANSIT),
        open = status_list(&PurchaseOrderStatus::OPEN),
    )
});

#[async_trait]
impl LocationRepository for SqliteStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        location: &Location,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError> {
        let (tenant, record) = (*tenant, idempotency);
        // Never the default: a tenant's default is created with it and moved by `make_default`.
        let location = Location {
            is_default: false,
            ..location.clone()
        };
        self.write("inserting a location", move |tx| {
            if let Some(record) = &record {
                idempotency::store(tx, &tenant, record.into())?;
            }
            insert_row(tx, &tenant, &location)
        })
        .await
    }

    async fn get(
        &self,
        tenant: &TenantId,
        id: &LocationId,
    ) -> Result<Option<Location>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.read("reading a location", move |tx| {
            optional_row(
                tx,
                &format!("SELECT {COLUMNS} FROM locations WHERE tenant_id = ?1 AND id = ?2"),
                params![tenant, id],
                location_from_row,
            )
        })
        .await
    }

    async fn all(&self, tenant: &TenantId) -> Result<Vec<Location>, StoreError> {
        let query = Select::new(&format!(
            "SELECT {COLUMNS} FROM locations WHERE tenant_id = ?"
        ))
        .bind(tenant.to_string())
        .tail("ORDER BY id");
        self.read("reading every location", move |tx| {
            query.rows(tx, location_from_row)
        })
        .await
    }

    async fn list(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> Result<Page<Location>, StoreError> {
        let limit = page.limit;
        let query = Select::new(&format!(
            "SELECT {COLUMNS} FROM locations WHERE tenant_id = ?"
        ))
        .bind(tenant.to_string())
        .page("id", page, Direction::Ascending);
        let rows = self
            .read("listing locations", move |tx| {
                query.rows(tx, location_from_row)
            })
            .await?;
        Ok(Page::from_rows(rows, limit, |l| l.id.to_string()))
    }

    async fn update(
        &self,
        tenant: &TenantId,
        location: &Location,
        expected_version: Option<domain::precondition::Version>,
    ) -> Result<(), StoreError> {
        let (tenant, location) = (tenant.to_string(), location.clone());
        self.write("updating a location", move |tx| {
            // The version (`updated_at` in milliseconds) is compared in the UPDATE itself.
            let changed = tx
                .execute(
                    "UPDATE locations SET name = ?1, active = ?2, priority = ?3, updated_at = ?4
                     WHERE tenant_id = ?5 AND id = ?6 AND (?7 IS NULL OR updated_at = ?7)",
                    params![
                        location.name.as_str(),
                        location.active,
                        location.priority.get(),
                        millis(&location.updated_at),
                        tenant,
                        location.id.to_string(),
                        expected_version,
                    ],
                )
                .or_store("updating a location")?;
            if changed == 0 {
                return Err(crate::row::missing_or_moved(
                    tx,
                    "locations",
                    &tenant,
                    &location.id.to_string(),
                ));
            }
            Ok(())
        })
        .await
    }

    async fn make_default(
        &self,
        tenant: &TenantId,
        id: &LocationId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (tenant, id, at) = (tenant.to_string(), id.to_string(), millis(&at));
        self.write("making a location the default", move |tx| {
            // One statement over the rows whose flag changes (the old default and the new),
            // guarded by the target being an active location of the tenant.
            let changed = tx
                .execute(
                    "UPDATE locations SET is_default = (id = ?2), updated_at = MAX(?3, updated_at + 1)
                      WHERE tenant_id = ?1 AND (is_default = 1 OR id = ?2)
                        AND EXISTS (SELECT 1 FROM locations
                                     WHERE tenant_id = ?1 AND id = ?2 AND active = 1)",
                    params![tenant, id, at],
                )
                .or_store("making a location the default")?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn levels(
        &self,
        tenant: &TenantId,
        id: &LocationId,
        filter: &LevelFilter,
        page: &PageRequest,
    ) -> Result<Page<LocationLevel>, StoreError> {
        let limit = page.limit;
        let sql = LEVELS_PAGE.replace(
            "{low}",
            if filter.low_stock {
                LOW_HERE.as_str()
            } else {
                ""
            },
        );
        let binds = params_from_iter([
            Value::from(tenant.to_string()),
            Value::from(id.to_string()),
            page.after
                .map_or(Value::Null, |c| Value::from(c.hyphenated().to_string())),
            Value::from(i64::from(limit) + 1),
            Value::from(read_instant()),
        ]);
        let rows = self
            .read("listing a location's levels", move |tx| {
                let mut stmt = tx.prepare_cached(&sql)?;
                let rows = stmt.query_map(binds, |row| {
                    let state = StockState::new(
                        row.get(3)?,
                        Claims {
                            committed: row.get(4)?,
                            reserved: row.get(8)?,
                            unavailable: Unavailable {
                                damaged: row.get(5)?,
                                quality_control: row.get(6)?,
                                safety_stock: row.get(7)?,
                            },
                        },
                    );
                    Ok(LocationLevel::new(
                        row.id(0)?,
                        row.sku(1)?,
                        state,
                        row.get(9)?,
                        row.get(2)?,
                    ))
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        Ok(Page::from_rows(rows, limit, |l| l.variant_id.to_string()))
    }

    async fn holdings(&self, tenant: &TenantId, id: &LocationId) -> Result<Holdings, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.read("reading what a location holds", move |tx| {
            tx.prepare_cached(&HOLDINGS)?
                .query_row(params![tenant, id], |r| {
                    Ok(Holdings {
                        units: r.get(0)?,
                        in_transit_to: r.get(1)?,
                        open_purchase_orders: r.get(2)?,
                        draft_transfers: r.get(3)?,
                    })
                })
        })
        .await
    }
}
