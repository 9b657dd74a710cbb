//! The ledger's audit, checked in one read transaction.
//!
//! Every level's on hand must equal the sum of its movements, and its committed units the sum of
//! the open allocations of the tenant's placed orders: one aggregate statement each over the
//! tenant, returning only the levels that differ, so a healthy tenant costs two scans and no
//! rows.
//! A variant's total is derived from its levels on every read (migration 0003), so the second
//! equality of the audit — total == Σ levels — holds by construction here and is not queried.

use domain::stock::models::{AuditReport, AuditedState, Drift};
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

/// Levels whose committed units differ from Σ (quantity − returned) of the allocations of the
/// placed orders that committed them (orders sold at placement committed nothing), in both
/// directions: a level committed without orders, and orders committed at a level that says
/// otherwise (or has no row).
const COMMITTED_DRIFT: &str = "WITH open(variant_id, location_id, units) AS (
         SELECT l.variant_id, json_extract(a.value, '$.location_id'),
                SUM(json_extract(a.value, '$.quantity') - json_extract(a.value, '$.returned'))
           FROM orders o
           JOIN order_lines l ON l.order_id = o.id, json_each(l.allocations) a
          WHERE o.tenant_id = ?1 AND o.status = 'PLACED' AND o.sold_at_placement = 0
          GROUP BY 1, 2),
       level(variant_id, location_id, committed) AS (
         SELECT variant_id, location_id, committed FROM stock_levels WHERE tenant_id = ?1),
       pairs(variant_id, location_id) AS (
         SELECT variant_id, location_id FROM open
         UNION SELECT variant_id, location_id FROM level WHERE committed <> 0)
     SELECT p.variant_id, v.sku, p.location_id, COALESCE(s.committed, 0), COALESCE(o.units, 0)
       FROM pairs p
       JOIN variants v ON v.tenant_id = ?1 AND v.id = p.variant_id
       LEFT JOIN level s ON s.variant_id = p.variant_id AND s.location_id = p.location_id
       LEFT JOIN open o ON o.variant_id = p.variant_id AND o.location_id = p.location_id
      WHERE COALESCE(s.committed, 0) <> COALESCE(o.units, 0)";

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
    for (sql, state) in [
        (LEVEL_DRIFT, AuditedState::OnHand),
        (COMMITTED_DRIFT, AuditedState::Committed),
    ] {
        let mut stmt = tx.prepare(sql)?;
        for row in stmt.query_map(params![tenant], |row| {
            Ok(Drift {
                variant_id: row.id(0)?,
                sku: row.get(1)?,
                location_id: Some(row.id(2)?),
                state,
                stock: row.get(3)?,
                ledger_sum: row.get(4)?,
            })
        })? {
            drift.push(row?);
        }
    }
    drift.sort_by_key(Drift::report_order);
    Ok(AuditReport {
        variants_checked,
        levels_checked,
        drift,
    })
}
