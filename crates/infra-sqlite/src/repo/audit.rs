//! The ledger's audit: two sums that must hold, checked in one read transaction.
//!
//! Every level's stock must equal the sum of its movements, and every variant's total must equal
//! the sum of its levels. Each is one aggregate statement over the tenant, returning only the
//! rows that differ, so a healthy tenant costs two scans and no rows; the two lists are then
//! merged in the order the report promises (each variant's levels by location, then its total).

use domain::ids::{LocationId, VariantId};
use domain::stock::models::{AuditReport, Drift};
use rusqlite::{params, Transaction};

use crate::row::RowExt;

/// Levels whose stock differs from Σ quantity of their movements.
const LEVEL_DRIFT: &str = "SELECT s.variant_id, v.sku, s.location_id, s.stock,
                                  COALESCE(m.total, 0) AS ledger_sum
                             FROM stock_levels s
                             JOIN variants v ON v.tenant_id = s.tenant_id AND v.id = s.variant_id
                             LEFT JOIN (SELECT variant_id, location_id, SUM(quantity) AS total
                                          FROM stock_movements WHERE tenant_id = ?1
                                         GROUP BY variant_id, location_id) m
                                    ON m.variant_id = s.variant_id
                                   AND m.location_id = s.location_id
                            WHERE s.tenant_id = ?1 AND s.stock <> COALESCE(m.total, 0)";

/// Variants whose total differs from Σ stock of their levels.
const TOTAL_DRIFT: &str = "SELECT v.id, v.sku, v.stock, COALESCE(l.total, 0) AS level_sum
                             FROM variants v
                             LEFT JOIN (SELECT variant_id, SUM(stock) AS total
                                          FROM stock_levels WHERE tenant_id = ?1
                                         GROUP BY variant_id) l ON l.variant_id = v.id
                            WHERE v.tenant_id = ?1 AND v.stock <> COALESCE(l.total, 0)";

/// Audits the tenant `tenant` inside the caller's read transaction.
pub(crate) fn run(tx: &Transaction<'_>, tenant: &str) -> rusqlite::Result<AuditReport> {
    let count = |sql: &str| -> rusqlite::Result<u64> {
        tx.query_row(sql, params![tenant], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
    };
    let variants_checked = count("SELECT count(*) FROM variants WHERE tenant_id = ?1")?;
    let levels_checked = count(
        "SELECT count(*) FROM stock_levels s
           JOIN variants v ON v.tenant_id = s.tenant_id AND v.id = s.variant_id
          WHERE s.tenant_id = ?1",
    )?;
    let mut drift = Vec::new();
    let mut stmt = tx.prepare(LEVEL_DRIFT)?;
    for row in stmt.query_map(params![tenant], |row| {
        Ok(Drift {
            variant_id: row.id(0)?,
            sku: row.get(1)?,
            location_id: Some(row.id(2)?),
            stock: row.get(3)?,
            ledger_sum: row.get(4)?,
        })
    })? {
        drift.push(row?);
    }
    let mut stmt = tx.prepare(TOTAL_DRIFT)?;
    for row in stmt.query_map(params![tenant], |row| {
        Ok(Drift {
            variant_id: row.id(0)?,
            sku: row.get(1)?,
            location_id: None,
            stock: row.get(2)?,
            ledger_sum: row.get(3)?,
        })
    })? {
        drift.push(row?);
    }
    drift.sort_by_key(order);
    Ok(AuditReport {
        variants_checked,
        levels_checked,
        drift,
    })
}

/// The report's order: by variant, its levels by location, then its total.
fn order(d: &Drift) -> (VariantId, bool, Option<LocationId>) {
    (d.variant_id, d.location_id.is_none(), d.location_id)
}
