//! The ledger's audit, checked in one read transaction.
//!
//! Every level's stock must equal the sum of its movements: one aggregate statement over the
//! tenant, returning only the levels that differ, so a healthy tenant costs one scan and no rows.
//! A variant's total is derived from its levels on every read (migration 0003), so the second
//! equality of the audit — total == Σ levels — holds by construction here and is not queried.

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
