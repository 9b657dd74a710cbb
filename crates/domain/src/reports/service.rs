//! Report use cases: the arithmetic on top of the store's aggregations.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::buckets::{boundaries, Bucket};
use super::models::{
    KindTotals, LowStockLine, LowStockRow, MoverRow, MoversLimit, SeriesBucket, SeriesFilter,
    StockAt, Valuation, ValuationLine, ValuationRow,
};
use crate::auth::models::{Action, Actor};
use crate::error::DomainError;
use crate::ids::{LocationId, TenantId, VariantId};
use crate::services::Deps;
use crate::stock::models::MovementKind;

/// Days of sales the low-stock report averages over and plans a reorder for.
pub const SALES_WINDOW_DAYS: i64 = 30;

const KINDS: [MovementKind; 6] = [
    MovementKind::Purchase,
    MovementKind::Sale,
    MovementKind::Adjustment,
    MovementKind::Return,
    MovementKind::TransferOut,
    MovementKind::TransferIn,
];

#[derive(Clone)]
pub struct ReportService {
    deps: Arc<Deps>,
}

/// `n ÷ d` rounded half up, for non-negative `n` and positive `d`.
fn div_round_half_up(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    q + i128::from(2 * r >= d)
}

/// `stock × cost ÷ units` rounded half up once, exactly, for `stock ≥ 0` and `units > 0`.
///
/// Split as `cost = q·units + r` so no intermediate passes `i128`: `stock × q` is at most
/// `stock` × the largest unit cost, and `stock × r < stock × units` fits in `u128`.
fn value_of(stock: i64, cost: i128, units: i64) -> i128 {
    let (stock, units) = (stock as i128, units as i128);
    let (q, r) = (cost / units, cost % units);
    let (s, r, u) = (stock as u128, r as u128, units as u128);
    let rest = (2 * s * r + u) / (2 * u);
    stock.saturating_mul(q).saturating_add(rest as i128)
}

impl ReportService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    /// Movement counts and Σ quantity per bucket and type over `[from, to)`, zeros included.
    pub async fn movement_series(
        &self,
        actor: &Actor,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: Bucket,
        tz: Tz,
        filter: &SeriesFilter,
    ) -> Result<Vec<SeriesBucket>, DomainError> {
        actor.require(Action::ReadReports)?;
        let edges = boundaries(from, to, bucket, &tz)?;
        known(&self.deps, &actor.tenant_id, filter.location_id).await?;
        let rows = self
            .deps
            .reports
            .movement_buckets(&actor.tenant_id, &edges, filter)
            .await?;
        let mut series: Vec<SeriesBucket> = edges
            .windows(2)
            .map(|w| SeriesBucket {
                start: w[0],
                end: w[1],
                totals: KINDS
                    .iter()
                    .map(|k| KindTotals {
                        kind: *k,
                        count: 0,
                        quantity: 0,
                    })
                    .collect(),
            })
            .collect();
        for row in rows {
            if let Some(bucket) = series.get_mut(row.index) {
                if let Some(t) = bucket.totals.iter_mut().find(|t| t.kind == row.kind) {
                    t.count += row.count;
                    t.quantity += row.quantity;
                }
            }
        }
        Ok(series)
    }

    /// Low variants, with sales velocity, days of cover and a reorder suggestion; sorted by
    /// days of cover (fewest first, never-selling last), then SKU. With `location`, a variant is
    /// low when its level there is at or below its reorder level (what that site needs
    /// replenished, by transfer or purchase); without, when its total is.
    pub async fn low_stock(
        &self,
        actor: &Actor,
        location: Option<LocationId>,
    ) -> Result<Vec<LowStockLine>, DomainError> {
        actor.require(Action::ReadLowStock)?;
        known(&self.deps, &actor.tenant_id, location).await?;
        low_stock_lines(&self.deps, &actor.tenant_id, location).await
    }

    pub async fn top_movers(
        &self,
        actor: &Actor,
        kind: MovementKind,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: MoversLimit,
    ) -> Result<Vec<MoverRow>, DomainError> {
        actor.require(Action::ReadReports)?;
        if to <= from {
            return Err(DomainError::invalid("to", "must be after from"));
        }
        Ok(self
            .deps
            .reports
            .top_movers(&actor.tenant_id, kind, from, to, limit.get())
            .await?)
    }

    /// Stock value per variant at weighted average purchase cost (of the stock at `location`
    /// only, when given; the average is over every location's purchases).
    pub async fn valuation(
        &self,
        actor: &Actor,
        location: Option<LocationId>,
    ) -> Result<Valuation, DomainError> {
        actor.require(Action::ReadReports)?;
        known(&self.deps, &actor.tenant_id, location).await?;
        let rows = self
            .deps
            .reports
            .valuation(&actor.tenant_id, location)
            .await?;
        let lines: Vec<ValuationLine> = rows
            .into_iter()
            .map(|r| {
                let (average, value) = if r.purchased_units > 0 {
                    let avg = average_unit_cost(&r);
                    let value = value_of(r.stock.max(0), r.purchased_cost, r.purchased_units);
                    (Some(avg), value)
                } else {
                    (None, 0)
                };
                ValuationLine {
                    variant_id: r.variant_id,
                    sku: r.sku,
                    stock: r.stock,
                    average_unit_cost: average,
                    value,
                }
            })
            .collect();
        let total = lines.iter().fold(0_i128, |t, l| t.saturating_add(l.value));
        Ok(Valuation { lines, total })
    }

    /// The variant's stock at `at` (now when `None`, by the domain's clock), replayed from the
    /// ledger: its total, or its level at `location`.
    pub async fn stock_at(
        &self,
        actor: &Actor,
        variant: &VariantId,
        at: Option<DateTime<Utc>>,
        location: Option<LocationId>,
    ) -> Result<StockAt, DomainError> {
        actor.require(Action::ReadStock)?;
        known(&self.deps, &actor.tenant_id, location).await?;
        if self
            .deps
            .variants
            .get(&actor.tenant_id, variant)
            .await?
            .is_none()
        {
            return Err(DomainError::NotFound("variant"));
        }
        let at = at.unwrap_or_else(|| self.deps.clock.now());
        let replayed = self
            .deps
            .reports
            .stock_at(&actor.tenant_id, variant, at, location)
            .await?;
        Ok(StockAt {
            at,
            stock: replayed.on_hand,
            unavailable: replayed.unavailable,
        })
    }
}

/// Σ cost ÷ Σ units of a variant's purchases, rounded half up (0 when never purchased).
pub(crate) fn average_unit_cost(row: &ValuationRow) -> i64 {
    if row.purchased_units > 0 {
        // An average of unit costs is never above the largest of them, an i64.
        i64::try_from(div_round_half_up(
            row.purchased_cost,
            row.purchased_units as i128,
        ))
        .unwrap_or(i64::MAX)
    } else {
        0
    }
}

/// 422 naming `locationId` when a report is asked about a location the tenant does not have
/// (inactive locations keep their history and may be asked about).
async fn known(
    deps: &Deps,
    tenant: &TenantId,
    location: Option<LocationId>,
) -> Result<(), DomainError> {
    match location {
        Some(id) if deps.locations.get(tenant, &id).await?.is_none() => {
            Err(DomainError::invalid("locationId", "no such location"))
        }
        _ => Ok(()),
    }
}

/// The tenant's low-stock lines over the last [`SALES_WINDOW_DAYS`], ranked; the caller checks
/// the role.
pub(crate) async fn low_stock_lines(
    deps: &Deps,
    tenant: &TenantId,
    location: Option<LocationId>,
) -> Result<Vec<LowStockLine>, DomainError> {
    let since = deps.clock.now() - Duration::days(SALES_WINDOW_DAYS);
    Ok(rank_low_stock(
        deps.reports.low_stock(tenant, since, location).await?,
    ))
}

/// The low-stock lines of `rows`, sorted by days of cover (fewest first, never-selling last),
/// then SKU.
fn rank_low_stock(rows: Vec<LowStockRow>) -> Vec<LowStockLine> {
    let mut lines: Vec<LowStockLine> = rows.into_iter().map(low_stock_line).collect();
    lines.sort_by(|a, b| {
        let cover = |l: &LowStockLine| l.days_of_cover.unwrap_or(f64::INFINITY);
        cover(a)
            .total_cmp(&cover(b))
            .then_with(|| a.variant.sku.cmp(&b.variant.sku))
    });
    lines
}

fn low_stock_line(row: LowStockRow) -> LowStockLine {
    let average = row.units_sold.max(0) as f64 / SALES_WINDOW_DAYS as f64;
    let v = &row.variant;
    let days_of_cover = (average > 0.0).then(|| row.stock.max(0) as f64 / average);
    let window_demand = (average * SALES_WINDOW_DAYS as f64).ceil() as i64;
    let suggested = (window_demand + v.reorder_level.get() - row.stock - row.incoming).max(0);
    LowStockLine {
        stock: row.stock,
        incoming: row.incoming,
        average_daily_sales: average,
        days_of_cover,
        suggested_quantity: suggested,
        variant: row.variant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::models::Role;
    use crate::reports::models::{BucketCount, ValuationRow};
    use crate::testing::{actor, variant, MockPorts};

    #[test]
    fn rounding_is_half_up() {
        assert_eq!(div_round_half_up(5, 2), 3);
        assert_eq!(div_round_half_up(7, 3), 2);
        assert_eq!(div_round_half_up(0, 3), 0);
    }

    #[test]
    fn a_value_past_i64_is_exact() {
        use crate::values::MAX_MONEY;
        // 2·10^9 + 1 units at the largest cost: 2·10^22, far past i64.
        let m = MAX_MONEY as i128;
        assert_eq!(value_of(2_000_000_001, m, 1), 2_000_000_001 * m);
        // The largest stock and a cost summed past i64, rounded half up once.
        let cost = i64::MAX as i128 + 12_345;
        let units = 2 * (i64::MAX / 2);
        assert_eq!(
            value_of(i64::MAX, cost, units),
            div_round_half_up(i64::MAX as i128 * cost, units as i128)
        );
        assert_eq!(value_of(3, 301, 3), 301);
        assert_eq!(value_of(1, 301, 3), 100);
        assert_eq!(value_of(0, cost, units), 0);
    }

    #[tokio::test]
    async fn valuation_uses_the_weighted_average_and_rounds_once() {
        let who = actor(Role::Manager);
        let mut ports = MockPorts::default();
        let id = VariantId::new();
        ports
            .reports
            .expect_valuation()
            .withf(|_, location| location.is_none())
            .returning(move |_, _| {
                Ok(vec![ValuationRow {
                    variant_id: id,
                    sku: "A".into(),
                    stock: 3,
                    // 2 units at 100 and 1 at 101: average 100.33…
                    purchased_units: 3,
                    purchased_cost: 301,
                }])
            });
        let services = ports.build();
        let v = services.reports.valuation(&who, None).await.unwrap();
        assert_eq!(v.lines[0].average_unit_cost, Some(100));
        assert_eq!(v.lines[0].value, 301);
        assert_eq!(v.total, 301);
    }

    #[tokio::test]
    async fn series_fill_empty_buckets_with_zeros() {
        let who = actor(Role::Owner);
        let mut ports = MockPorts::default();
        ports
            .reports
            .expect_movement_buckets()
            .returning(|_, edges, _| {
                assert_eq!(edges.len(), 4);
                Ok(vec![BucketCount {
                    index: 1,
                    kind: MovementKind::Sale,
                    count: 2,
                    quantity: -5,
                }])
            });
        let services = ports.build();
        let from = DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let series = services
            .reports
            .movement_series(
                &who,
                from,
                from + Duration::days(3),
                Bucket::Day,
                chrono_tz::UTC,
                &SeriesFilter::default(),
            )
            .await
            .unwrap();
        assert_eq!(series.len(), 3);
        assert!(series[0].totals.iter().all(|t| t.count == 0));
        let sale = series[1]
            .totals
            .iter()
            .find(|t| t.kind == MovementKind::Sale)
            .unwrap();
        assert_eq!((sale.count, sale.quantity), (2, -5));
    }

    #[test]
    fn suggestions_cover_the_window_and_the_reorder_level() {
        let tenant = crate::ids::TenantId::new();
        let mut v = variant(tenant, 4, 10);
        v.incoming = 6;
        // 60 sold in 30 days: 2 a day, 2 days of cover; 60 + 10 − 4 − 6 = 60.
        let line = low_stock_line(LowStockRow {
            variant: v,
            stock: 4,
            incoming: 6,
            units_sold: 60,
        });
        assert_eq!(line.average_daily_sales, 2.0);
        assert_eq!(line.days_of_cover, Some(2.0));
        assert_eq!(line.suggested_quantity, 60);
    }

    #[test]
    fn a_locations_line_is_judged_on_that_levels_stock_and_incoming_not_the_totals() {
        let tenant = crate::ids::TenantId::new();
        // 40 in all, 6 incoming in all; the location asked about holds 4 with 1 incoming.
        let mut v = variant(tenant, 40, 10);
        v.incoming = 6;
        let line = low_stock_line(LowStockRow {
            variant: v,
            stock: 4,
            incoming: 1,
            units_sold: 60,
        });
        assert_eq!((line.stock, line.incoming), (4, 1));
        assert_eq!(line.days_of_cover, Some(2.0));
        // 60 + 10 − 4 − 1 = 65.
        assert_eq!(line.suggested_quantity, 65);
    }

    #[tokio::test]
    async fn a_report_about_a_location_is_asked_of_that_location() {
        let who = actor(Role::Staff);
        let shop = crate::testing::location(who.tenant_id, "SHOP", 10);
        let shop_id = shop.id;
        let mut ports = MockPorts::default();
        ports.locations_of(vec![shop]);
        ports
            .reports
            .expect_low_stock()
            .withf(move |_, _, location| *location == Some(shop_id))
            .times(1)
            .returning(|_, _, _| Ok(Vec::new()));
        let services = ports.build();
        let lines = services
            .reports
            .low_stock(&who, Some(shop_id))
            .await
            .unwrap();
        assert!(lines.is_empty());
    }

    #[tokio::test]
    async fn a_report_about_a_location_the_tenant_does_not_have_names_location_id() {
        let who = actor(Role::Manager);
        let mut ports = MockPorts::default();
        ports.locations.expect_get().returning(|_, _| Ok(None));
        ports.reports.expect_valuation().never();
        ports.reports.expect_low_stock().never();
        let services = ports.build();
        let nowhere = Some(LocationId::new());
        for err in [
            services.reports.valuation(&who, nowhere).await.unwrap_err(),
            services.reports.low_stock(&who, nowhere).await.unwrap_err(),
        ] {
            assert!(
                matches!(&err, DomainError::Validation(f) if f[0].field == "locationId"),
                "{err:?}"
            );
        }
    }
}
