//! The low-stock report's rows: the low variants, then their sales since the window start, in
//! one read transaction.
//!
//! Without a location a variant is low when its available total — on hand less committed,
//! reserved (live holds at the instant of the read) and unavailable units — is at or below its
//! reorder level; with one, when its level there is (a variant with no level row there is not
//! listed), and the stock, incoming units and sales reported are that location's.

use std::collections::HashMap;

use domain::catalog::models::Variant;
use domain::ids::LocationId;
use domain::reports::models::LowStockRow;
use rusqlite::{params, Transaction};

use super::variants::{
    variant_from_row, LEVEL_AVAILABLE, SELECT_VARIANTS, TOTAL_AVAILABLE, VARIANT_COLUMNS,
};
use crate::row::id_list;

/// Σ −quantity of the SALE movements of the variants in a JSON array of ids since a moment, at
/// one location when one is bound (binds: tenant, since, ids, location or NULL).
const SOLD: &str = "SELECT variant_id, -SUM(quantity) FROM stock_movements
                     WHERE tenant_id = ?1 AND kind = 'SALE' AND created_at >= ?2
                       AND variant_id IN (SELECT value FROM json_each(?3))
                       AND (?4 IS NULL OR location_id = ?4)
                     GROUP BY variant_id";

/// The report's rows for `tenant`, by variant id, judged at `now` (milliseconds: the holds
/// live then are reserved).
pub(crate) fn rows(
    tx: &Transaction<'_>,
    tenant: &str,
    now: i64,
    since: i64,
    location: Option<LocationId>,
) -> rusqlite::Result<Vec<LowStockRow>> {
    // Each low variant with the stock judged low: available, in total or at the location.
    let found: Vec<(Variant, i64)> = match location {
        None => {
            let mut stmt = tx.prepare_cached(&format!(
                "{} AND {TOTAL_AVAILABLE} <= v.reorder_level ORDER BY v.id",
                *SELECT_VARIANTS
            ))?;
            let rows = stmt.query_map(params![now, tenant], |row| {
                let variant = variant_from_row(row)?;
                let stock = variant.stock;
                Ok((variant, stock))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        }
        Some(location) => {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {}
                   FROM variants v
                   JOIN stock_levels s
                     ON s.tenant_id = v.tenant_id AND s.variant_id = v.id AND s.location_id = ?3
                  WHERE v.tenant_id = ?2 AND {} <= v.reorder_level
                  ORDER BY v.id",
                *VARIANT_COLUMNS, *LEVEL_AVAILABLE
            ))?;
            let rows = stmt.query_map(params![now, tenant, location.to_string()], |row| {
                let variant = variant_from_row(row)?;
                // The level the statement judged, as the same snapshot and instant read it.
                let stock = variant.stock_at(&location);
                Ok((variant, stock))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        }
    };
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let (variants, stocks): (Vec<Variant>, Vec<i64>) = found.into_iter().unzip();
    let mut stmt = tx.prepare_cached(SOLD)?;
    let sold: HashMap<String, i64> = stmt
        .query_map(
            params![
                tenant,
                since,
                id_list(variants.iter().map(|v| v.id)),
                location.map(|l| l.to_string())
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(variants
        .into_iter()
        .zip(stocks)
        .map(|(variant, stock)| {
            let incoming = match location {
                None => variant.incoming,
                Some(at) => variant
                    .levels
                    .iter()
                    .find(|l| l.location_id == at)
                    .map_or(0, |l| l.incoming),
            };
            LowStockRow {
                units_sold: sold.get(&variant.id.to_string()).copied().unwrap_or(0),
                stock,
                incoming,
                variant,
            }
        })
        .collect())
}
