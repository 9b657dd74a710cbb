//! The ledger's audit, checked in one read transaction.
//!
//! Every level's on hand and each of its unavailable states must equal the sums of its
//! movements (quantity, and each state's change), its committed units the sum of the open
//! allocations of the tenant's placed orders, and its reserved units — its holds live at the
//! instant of the audit — the sum of the allocations there of the tenant's reservations stored
//! ACTIVE that are live then: one aggregate statement per kind of sum over the tenant, returning
//! only the levels that differ, so a healthy tenant costs three scans and no rows.
//! A variant's total is derived from its levels on every read (migration 0003), so the second
//! equality of the audit — total == Σ levels — holds by construction here and is not queried.

use domain::stock::models::{AuditReport, AuditedState, Drift};
use rusqlite::{params, Row, Transaction};

use crate::row::RowExt;

/// Levels whose on hand or an unavailable state differs from the sum of their movements:
/// the level, then each kept number beside what its movements add up to.
const LEVEL_DRIFT: &str = "SELECT s.variant_id, v.sku, s.location_id,
                                  s.stock, COALESCE(m.quantity, 0),
                                  s.damaged, COALESCE(m.damaged, 0),
                                  s.quality_control, COALESCE(m.quality_control, 0),
                                  s.safety_stock, COALESCE(m.safety_stock, 0)
                             FROM stock_levels s
                             JOIN variants v ON v.tenant_id = s.tenant_id AND v.id = s.variant_id
                             LEFT JOIN (SELECT variant_id, location_id,
                                               SUM(quantity) AS quantity,
                                               SUM(damaged) AS damaged,
                                               SUM(quality_control) AS quality_control,
                                               SUM(safety_stock) AS safety_stock
                                          FROM stock_movements WHERE tenant_id = ?1
                                         GROUP BY variant_id, location_id) m
                                    ON m.variant_id = s.variant_id
                                   AND m.location_id = s.location_id
                            WHERE s.tenant_id = ?1
                              AND (s.stock <> COALESCE(m.quantity, 0)
                                   OR s.damaged <> COALESCE(m.damaged, 0)
                                   OR s.quality_control <> COALESCE(m.quality_control, 0)
                                   OR s.safety_stock <> COALESCE(m.safety_stock, 0))";

/// Levels whose live holds (at `?2`) differ from the allocations there of the reservations
/// stored ACTIVE and live at `?2`, in both directions: a hold without its reservation, and a
/// reservation whose hold is missing or holds other units.
const RESERVED_DRIFT: &str = "WITH held(variant_id, location_id, units) AS (
         SELECT variant_id, location_id, SUM(quantity) FROM holds
          WHERE tenant_id = ?1 AND expires_at > ?2
          GROUP BY 1, 2),
       reserved(variant_id, location_id, units) AS (
         SELECT json_extract(l.value, '$.variant_id'), json_extract(a.value, '$.location_id'),
                SUM(json_extract(a.value, '$.quantity'))
           FROM reservations r, json_each(r.lines) l, json_each(l.value, '$.allocations') a
          WHERE r.tenant_id = ?1 AND r.status = 'ACTIVE' AND r.expires_at > ?2
          GROUP BY 1, 2),
       pairs(variant_id, location_id) AS (
         SELECT variant_id, location_id FROM held
         UNION SELECT variant_id, location_id FROM reserved)
     SELECT p.variant_id, v.sku, p.location_id, COALESCE(h.units, 0), COALESCE(r.units, 0)
       FROM pairs p
       JOIN variants v ON v.tenant_id = ?1 AND v.id = p.variant_id
       LEFT JOIN held h ON h.variant_id = p.variant_id AND h.location_id = p.location_id
       LEFT JOIN reserved r ON r.variant_id = p.variant_id AND r.location_id = p.location_id
      WHERE COALESCE(h.units, 0) <> COALESCE(r.units, 0)";

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

/// One row of drift: the level's variant, SKU and location (columns 0–2), then the number as
/// stored and what it must equal at `stored` and `stored + 1`.
fn drift_row(row: &Row<'_>, state: AuditedState, stored: usize) -> rusqlite::Result<Drift> {
    Ok(Drift {
        variant_id: row.id(0)?,
        sku: row.get(1)?,
        location_id: Some(row.id(2)?),
        state,
        stock: row.get(stored)?,
        ledger_sum: row.get(stored + 1)?,
    })
}

/// Audits the tenant `tenant` inside the caller's read transaction, holds judged live at `now`
/// (milliseconds).
pub(crate) fn run(tx: &Transaction<'_>, tenant: &str, now: i64) -> rusqlite::Result<AuditReport> {
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
    let mut rows = stmt.query(params![tenant])?;
    while let Some(row) = rows.next()? {
        for (state, stored) in [
            (AuditedState::OnHand, 3),
            (AuditedState::Damaged, 5),
            (AuditedState::QualityControl, 7),
            (AuditedState::SafetyStock, 9),
        ] {
            let found = drift_row(row, state, stored)?;
            if found.stock != found.ledger_sum {
                drift.push(found);
            }
        }
    }
    for (sql, state) in [
        (COMMITTED_DRIFT, AuditedState::Committed),
        (RESERVED_DRIFT, AuditedState::Reserved),
    ] {
        let mut stmt = tx.prepare(sql)?;
        let binds: &[&dyn rusqlite::ToSql] = match state {
            AuditedState::Reserved => &[&tenant, &now],
            _ => &[&tenant],
        };
        for row in stmt.query_map(binds, |row| drift_row(row, state, 3))? {
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
