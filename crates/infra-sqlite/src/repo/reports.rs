//! Reports: every aggregation is one SQL statement (GROUP BY over indexed ranges), so the API
//! never loads a tenant's ledger to count it. Asked about one location, a report counts that
//! location's movements and levels only (purchase costs excepted: see `valuation`). Bucket edges come from the domain as a JSON array
//! of millisecond timestamps and are read as a small table of (start, end) pairs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ids::{LocationId, TenantId, VariantId};
use domain::reports::models::{
    BucketCount, LowStockRow, MoverRow, Replayed, SeriesFilter, ValuationRow,
};
use domain::reports::ports::ReportRepository;
use domain::stock::models::MovementKind;
use domain::stock::state::Unavailable;
use domain::StoreError;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter};

use super::low_stock;
use super::variants::{read_instant, TOTAL_ON_HAND};
use crate::row::{millis, RowExt};
use crate::SqliteStore;

fn kind_of(raw: String) -> Result<MovementKind, String> {
    MovementKind::parse(&raw).ok_or_else(|| format!("unknown movement kind {raw}"))
}

#[async_trait]
impl ReportRepository for SqliteStore {
    async fn movement_buckets(
        &self,
        tenant: &TenantId,
        boundaries: &[DateTime<Utc>],
        filter: &SeriesFilter,
    ) -> Result<Vec<BucketCount>, StoreError> {
        let edges = serde_json::to_string(&boundaries.iter().map(millis).collect::<Vec<_>>())
            .map_err(|e| StoreError::Other(e.into()))?;
        // Each bucket carries both of its edges, so the movements of a bucket are one bounded
        // range scan of the (tenant_id, created_at) index.
        let mut sql = String::from(
            "WITH buckets(i, lo, hi) AS MATERIALIZED (
                 SELECT key, value, LEAD(value) OVER (ORDER BY key) FROM json_each(?))
             SELECT b.i AS bucket, m.kind AS kind, COUNT(*) AS n, SUM(m.quantity) AS quantity
               FROM buckets b
               JOIN stock_movements m
                 ON m.tenant_id = ? AND m.created_at >= b.lo AND m.created_at < b.hi",
        );
        let mut binds: Vec<Value> = vec![edges.into(), tenant.to_string().into()];
        if let Some(variant) = &filter.variant_id {
            sql.push_str(" AND m.variant_id = ?");
            binds.push(variant.to_string().into());
        }
        if let Some(location) = &filter.location_id {
            sql.push_str(" AND m.location_id = ?");
            binds.push(location.to_string().into());
        }
        if let Some(product) = &filter.product_id {
            sql.push_str(
                " AND m.variant_id IN (SELECT id FROM variants WHERE tenant_id = ? AND product_id = ?)",
            );
            binds.push(tenant.to_string().into());
            binds.push(product.to_string().into());
        }
        sql.push_str(" GROUP BY b.i, m.kind ORDER BY b.i, m.kind");
        self.read("aggregating movements by time", move |tx| {
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map(params_from_iter(binds), |r| {
                Ok(BucketCount {
                    index: r.get::<_, i64>("bucket")? as usize,
                    kind: r.decode("kind", kind_of)?,
                    count: r.get("n")?,
                    quantity: r.get("quantity")?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn low_stock(
        &self,
        tenant: &TenantId,
        since: DateTime<Utc>,
        location: Option<LocationId>,
    ) -> Result<Vec<LowStockRow>, StoreError> {
        let tenant = tenant.to_string();
        let since = millis(&since);
        let now = read_instant();
        self.read("reading low-stock variants", move |tx| {
            low_stock::rows(tx, &tenant, now, since, location)
        })
        .await
    }

    async fn top_movers(
        &self,
        tenant: &TenantId,
        kind: MovementKind,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<MoverRow>, StoreError> {
        let tenant = tenant.to_string();
        let (from, to) = (millis(&from), millis(&to));
        self.read("ranking movers", move |tx| {
            let mut stmt = tx.prepare(
                "SELECT m.variant_id AS variant_id, v.sku AS sku,
                        SUM(ABS(m.quantity)) AS quantity, COUNT(*) AS n
                   FROM stock_movements m
                   JOIN variants v ON v.id = m.variant_id AND v.tenant_id = m.tenant_id
                  WHERE m.tenant_id = ? AND m.kind = ? AND m.created_at >= ? AND m.created_at < ?
                  GROUP BY m.variant_id
                  ORDER BY quantity DESC, m.variant_id ASC
                  LIMIT ?",
            )?;
            let rows = stmt.query_map(params![tenant, kind.as_str(), from, to, limit], |r| {
                Ok(MoverRow {
                    variant_id: r.id("variant_id")?,
                    sku: r.get("sku")?,
                    quantity: r.get("quantity")?,
                    movements: r.get("n")?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn valuation(
        &self,
        tenant: &TenantId,
        location: Option<LocationId>,
    ) -> Result<Vec<ValuationRow>, StoreError> {
        let tenant = tenant.to_string();
        // The stock valued: the variant's total, or its level at the location (0 without one).
        let (stock, level_join) = match location {
            None => (TOTAL_ON_HAND, String::new()),
            Some(_) => (
                "COALESCE(s.stock, 0)",
                "LEFT JOIN stock_levels s
                        ON s.tenant_id = v.tenant_id AND s.variant_id = v.id AND s.location_id = ?2"
                    .to_owned(),
            ),
        };
        // Purchases come summed per unit cost, so SQL adds only quantities (bounded) and the
        // costs are multiplied and added here in i128: Σ quantity × cost of a variant bought
        // often at a large cost passes i64, where SQLite's SUM fails.
        let sql = format!(
            "SELECT v.id AS id, v.sku AS sku, {stock} AS stock,
                    p.unit_cost AS unit_cost, COALESCE(p.units, 0) AS units
               FROM variants v
               {level_join}
               LEFT JOIN (SELECT variant_id, unit_cost, SUM(quantity) AS units
                            FROM stock_movements
                           WHERE tenant_id = ?1 AND kind = 'PURCHASE' AND unit_cost IS NOT NULL
                           GROUP BY variant_id, unit_cost) p ON p.variant_id = v.id
              WHERE v.tenant_id = ?1
              ORDER BY v.id"
        );
        let mut binds: Vec<Value> = vec![tenant.into()];
        if let Some(location) = location {
            binds.push(location.to_string().into());
        }
        self.read("valuing stock", move |tx| {
            let mut stmt = tx.prepare(&sql)?;
            let mut rows = stmt.query(params_from_iter(binds))?;
            let mut valued: Vec<ValuationRow> = Vec::new();
            while let Some(r) = rows.next()? {
                let id: VariantId = r.id("id")?;
                let units: i64 = r.get("units")?;
                let cost =
                    r.get::<_, Option<i64>>("unit_cost")?.unwrap_or(0) as i128 * units as i128;
                match valued.last_mut() {
                    Some(last) if last.variant_id == id => {
                        last.purchased_units += units;
                        last.purchased_cost += cost;
                    }
                    _ => valued.push(ValuationRow {
                        variant_id: id,
                        sku: r.get("sku")?,
                        stock: r.get("stock")?,
                        purchased_units: units,
                        purchased_cost: cost,
                    }),
                }
            }
            Ok(valued)
        })
        .await
    }

    async fn stock_at(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
        at: DateTime<Utc>,
        location: Option<LocationId>,
    ) -> Result<Replayed, StoreError> {
        let (tenant, variant, at) = (tenant.to_string(), variant.to_string(), millis(&at));
        let location = location.map(|l| l.to_string());
        self.read("replaying stock", move |tx| {
            tx.prepare_cached(
                "SELECT COALESCE(SUM(quantity), 0), COALESCE(SUM(damaged), 0),
                        COALESCE(SUM(quality_control), 0), COALESCE(SUM(safety_stock), 0)
                   FROM stock_movements
                  WHERE tenant_id = ?1 AND variant_id = ?2 AND created_at <= ?3
                    AND (?4 IS NULL OR location_id = ?4)",
            )?
            .query_row(params![tenant, variant, at, location], |r| {
                Ok(Replayed {
                    on_hand: r.get(0)?,
                    unavailable: Unavailable {
                        damaged: r.get(1)?,
                        quality_control: r.get(2)?,
                        safety_stock: r.get(3)?,
                    },
                })
            })
        })
        .await
    }
}
