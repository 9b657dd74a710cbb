//! Reservations, written only through the ledger (with the holds they place, take, drop or
//! extend) and read here.
//!
//! A reservation's lines never change once it is placed and are only ever read with it, so they
//! are a JSON array in its row (see migration 0005): placing one writes one row, and every
//! transition rewrites that row alone. The status is stored as the last transition left it; the
//! status a reader sees at an instant ([`Reservation::status_at`]) is what `list` filters on,
//! so an ACTIVE reservation whose expiry has passed is listed as EXPIRED before any sweep.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ids::{ReservationId, TenantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::reservations::models::{
    HoldAllocation, Reservation, ReservationFilter, ReservationLine, ReservationStatus,
};
use domain::reservations::ports::ReservationRepository;
use domain::values::Sku;
use domain::StoreError;
use rusqlite::{params, Row, Transaction};

use crate::error::SqlResultExt;
use crate::row::{millis, RowExt, Select};
use crate::SqliteStore;

const COLUMNS: &str = "id, tenant_id, status, lines, reference, expires_at, order_id, created_by,
                       created_at, updated_at, version";

/// The JSON the `lines` column holds.
fn lines_json(lines: &[ReservationLine]) -> String {
    serde_json::Value::from_iter(lines.iter().map(|line| {
        serde_json::json!({
            "variant_id": line.variant_id.to_string(),
            "sku": line.sku.as_str(),
            "quantity": line.quantity,
            "allocations": serde_json::Value::from_iter(line.allocations.iter().map(|a| {
                serde_json::json!({
                    "location_id": a.location_id.to_string(),
                    "quantity": a.quantity,
                })
            })),
        })
    }))
    .to_string()
}

fn lines_from_json(raw: String) -> Result<Vec<ReservationLine>, String> {
    let items: Vec<serde_json::Value> = serde_json::from_str(&raw).map_err(|e| e.to_string())?;
    let int = |item: &serde_json::Value, field: &str| {
        item[field]
            .as_i64()
            .ok_or_else(|| format!("a reservation line has no integer {field}"))
    };
    let id = |item: &serde_json::Value, field: &str| {
        item[field]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("a reservation line has no {field}"))
    };
    items
        .iter()
        .map(|item| {
            let allocations = item["allocations"]
                .as_array()
                .ok_or("a reservation line has no allocations")?
                .iter()
                .map(|a| {
                    Ok(HoldAllocation {
                        location_id: id(a, "location_id")?
                            .parse()
                            .map_err(|e| format!("an allocation's location id: {e}"))?,
                        quantity: int(a, "quantity")?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(ReservationLine {
                variant_id: id(item, "variant_id")?
                    .parse()
                    .map_err(|e| format!("a reservation line's variant id: {e}"))?,
                sku: Sku::new(&id(item, "sku")?).map_err(|e| e.to_string())?,
                quantity: int(item, "quantity")?,
                allocations,
            })
        })
        .collect()
}

fn reservation_from_row(row: &Row<'_>) -> rusqlite::Result<Reservation> {
    Ok(Reservation {
        id: row.id("id")?,
        tenant_id: row.id("tenant_id")?,
        status: row.decode("status", |s: String| {
            ReservationStatus::parse(&s).ok_or("unknown reservation status")
        })?,
        lines: row.decode("lines", lines_from_json)?,
        reference: row.opt_text("reference")?,
        expires_at: row.time("expires_at")?,
        order_id: row.opt_id("order_id")?,
        created_by: row.id("created_by")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        version: row.get("version")?,
    })
}

/// Inserts a new reservation under `tenant`.
pub(crate) fn insert(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    reservation: &Reservation,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO reservations (id, tenant_id, status, lines, reference, expires_at, order_id,
                                   created_by, created_at, updated_at, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            reservation.id.to_string(),
            tenant.to_string(),
            reservation.status.as_str(),
            lines_json(&reservation.lines),
            reservation.reference.as_ref().map(|r| r.as_str()),
            millis(&reservation.expires_at),
            reservation.order_id.map(|id| id.to_string()),
            reservation.created_by.to_string(),
            millis(&reservation.created_at),
            millis(&reservation.updated_at),
            reservation.version,
        ])
    })
    .or_store("inserting a reservation")?;
    Ok(())
}

/// Replaces the reservation if its stored version is `expected_version`, else `VersionConflict`
/// (also when the reservation does not exist in `tenant`).
pub(crate) fn replace(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    reservation: &Reservation,
    expected_version: i64,
) -> Result<(), StoreError> {
    let changed = tx
        .prepare_cached(
            "UPDATE reservations SET status = ?1, lines = ?2, reference = ?3, expires_at = ?4,
                                     order_id = ?5, created_by = ?6, created_at = ?7,
                                     updated_at = ?8, version = ?9
              WHERE tenant_id = ?10 AND id = ?11 AND version = ?12",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                reservation.status.as_str(),
                lines_json(&reservation.lines),
                reservation.reference.as_ref().map(|r| r.as_str()),
                millis(&reservation.expires_at),
                reservation.order_id.map(|id| id.to_string()),
                reservation.created_by.to_string(),
                millis(&reservation.created_at),
                millis(&reservation.updated_at),
                reservation.version,
                tenant.to_string(),
                reservation.id.to_string(),
                expected_version,
            ])
        })
        .or_store("updating a reservation")?;
    if changed == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(())
}

#[async_trait]
impl ReservationRepository for SqliteStore {
    async fn get(
        &self,
        tenant: &TenantId,
        id: &ReservationId,
    ) -> Result<Option<Reservation>, StoreError> {
        let query = Select::new(&format!(
            "SELECT {COLUMNS} FROM reservations WHERE tenant_id = ?"
        ))
        .bind(tenant.to_string())
        .and("id = ?", id.to_string());
        let mut found = self
            .read("reading a reservation", move |tx| {
                query.rows(tx, reservation_from_row)
            })
            .await?;
        Ok(found.pop())
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &ReservationFilter,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<Reservation>, StoreError> {
        let limit = page.limit;
        let now = millis(&now);
        let mut query = Select::new(&format!(
            "SELECT {COLUMNS} FROM reservations WHERE tenant_id = ?"
        ))
        .bind(tenant.to_string());
        // Matched as the status reads at `now` (`Reservation::status_at`): a stored ACTIVE
        // reservation is EXPIRED from the instant its expiry is reached. The `+` keeps the
        // planner on the tenant's `reservations_by_status` range (in id order) rather than the
        // sweep's index over every tenant's ACTIVE reservations.
        query = match filter.status {
            None => query,
            Some(ReservationStatus::Active) => {
                query.and("status = 'ACTIVE' AND +expires_at > ?", now)
            }
            Some(ReservationStatus::Expired) => query.and(
                "(status = 'EXPIRED' OR (status = 'ACTIVE' AND expires_at <= ?))",
                now,
            ),
            Some(status) => query.and("status = ?", status.as_str().to_owned()),
        };
        let query = query.page("id", page, Direction::Descending);
        let rows = self
            .read("listing reservations", move |tx| {
                query.rows(tx, reservation_from_row)
            })
            .await?;
        Ok(Page::from_rows(rows, limit, |r| r.id.to_string()))
    }

    async fn expired(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Reservation>, StoreError> {
        let now = millis(&now);
        self.read("finding expired reservations", move |tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM reservations
                  WHERE status = 'ACTIVE' AND expires_at <= ?1
                  ORDER BY expires_at, id
                  LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![now, i64::from(limit)], reservation_from_row)?;
            rows.collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use domain::ids::{LocationId, VariantId};

    use super::*;

    #[test]
    fn lines_come_back_as_written() {
        let lines = vec![
            ReservationLine {
                variant_id: VariantId::new(),
                sku: Sku::new("TEE-M").unwrap(),
                quantity: 5,
                allocations: vec![
                    HoldAllocation {
                        location_id: LocationId::new(),
                        quantity: 3,
                    },
                    HoldAllocation {
                        location_id: LocationId::new(),
                        quantity: 2,
                    },
                ],
            },
            ReservationLine {
                variant_id: VariantId::new(),
                sku: Sku::new("TEE-L").unwrap(),
                quantity: 1,
                allocations: Vec::new(),
            },
        ];
        assert_eq!(lines_from_json(lines_json(&lines)).unwrap(), lines);
        assert!(lines_from_json(r#"[{"sku": "X"}]"#.to_owned()).is_err());
    }
}
