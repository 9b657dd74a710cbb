//! The reports answered by plain iteration over the plan, with no store involved: if both stores
//! were wrong in the same way, these numbers would still catch it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use domain::ids::{LocationId, TenantId, VariantId};
use domain::purchasing::models::PurchaseOrderStatus;
use domain::reports::models::{SeriesFilter, ValuationRow};
use domain::stock::models::MovementKind;

use super::plan::{Movement, Plan};

/// A bucket row: `(index, kind, count, Σ quantity)`.
pub type BucketRow = (usize, &'static str, i64, i64);

/// A ranked mover: `(variant, sku, Σ |quantity|, movements)`.
pub type MoverLine = (VariantId, String, i64, i64);

/// A low-stock line: `(variant, units sold, incoming, stock)`.
pub type LowLine = (VariantId, i64, i64, i64);

fn of_tenant(plan: &Plan, tenant: TenantId) -> impl Iterator<Item = &Movement> {
    plan.movements.iter().filter(move |m| m.tenant == tenant)
}

fn exists(plan: &Plan, variant: VariantId) -> bool {
    variant != plan.deleted.1
}

/// The tenant's variants that still exist, in id order.
fn current_variants(plan: &Plan, tenant: TenantId) -> Vec<VariantId> {
    let mut ids: Vec<VariantId> = plan
        .tenant(tenant)
        .variants
        .iter()
        .map(|v| v.id)
        .filter(|id| exists(plan, *id))
        .collect();
    ids.sort();
    ids
}

pub fn series(
    plan: &Plan,
    tenant: TenantId,
    edges: &[DateTime<Utc>],
    filter: &SeriesFilter,
) -> Vec<BucketRow> {
    let (first, last) = (edges[0], edges[edges.len() - 1]);
    let mut totals: BTreeMap<(usize, &'static str), (i64, i64)> = BTreeMap::new();
    for m in of_tenant(plan, tenant) {
        if m.at < first || m.at >= last {
            continue;
        }
        if filter.variant_id.is_some_and(|v| v != m.variant) {
            continue;
        }
        if filter.location_id.is_some_and(|l| l != m.location) {
            continue;
        }
        if filter
            .product_id
            .is_some_and(|p| !exists(plan, m.variant) || plan.product_of(m.variant) != p)
        {
            continue;
        }
        let index = edges.partition_point(|e| *e <= m.at) - 1;
        let entry = totals.entry((index, m.kind.as_str())).or_default();
        entry.0 += 1;
        entry.1 += m.quantity;
    }
    totals
        .into_iter()
        .map(|((index, kind), (count, quantity))| (index, kind, count, quantity))
        .collect()
}

/// The stock a report judges or values: the level at `location` (`None` when the variant has
/// none there), or the total.
fn stock_of(plan: &Plan, id: VariantId, location: Option<LocationId>) -> Option<i64> {
    match location {
        Some(l) => plan.final_levels.get(&(id, l)).copied(),
        None => Some(plan.final_stock[&id]),
    }
}

pub fn low_stock(
    plan: &Plan,
    tenant: TenantId,
    since: DateTime<Utc>,
    location: Option<LocationId>,
) -> Vec<LowLine> {
    let mut incoming: HashMap<VariantId, i64> = HashMap::new();
    for po in &plan.tenant(tenant).purchase_orders {
        if PurchaseOrderStatus::INCOMING.contains(&po.status)
            && location.is_none_or(|l| l == po.location_id)
        {
            for line in &po.lines {
                *incoming.entry(line.variant_id).or_default() += line.quantity - line.received;
            }
        }
    }
    current_variants(plan, tenant)
        .into_iter()
        .filter_map(|id| {
            let stock = stock_of(plan, id, location)?;
            (stock <= plan.variant(id).reorder_level.get()).then_some((id, stock))
        })
        .map(|(id, stock)| {
            let sold: i64 = of_tenant(plan, tenant)
                .filter(|m| {
                    m.variant == id
                        && m.kind == MovementKind::Sale
                        && m.at >= since
                        && location.is_none_or(|l| l == m.location)
                })
                .map(|m| -m.quantity)
                .sum();
            let due = incoming.get(&id).copied().unwrap_or(0);
            (id, sold, due, stock)
        })
        .collect()
}

pub fn top_movers(
    plan: &Plan,
    tenant: TenantId,
    kind: MovementKind,
    window: (DateTime<Utc>, DateTime<Utc>),
    limit: usize,
) -> Vec<MoverLine> {
    let mut moved: HashMap<VariantId, (i64, i64)> = HashMap::new();
    for m in of_tenant(plan, tenant) {
        if m.kind == kind && m.at >= window.0 && m.at < window.1 && exists(plan, m.variant) {
            let entry = moved.entry(m.variant).or_default();
            entry.0 += m.quantity.abs();
            entry.1 += 1;
        }
    }
    let mut ranked: Vec<MoverLine> = moved
        .into_iter()
        .map(|(id, (quantity, movements))| {
            let sku = plan.variant(id).sku.as_str().to_owned();
            (id, sku, quantity, movements)
        })
        .collect();
    ranked.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    ranked.truncate(limit);
    ranked
}

pub fn valuation(plan: &Plan, tenant: TenantId, location: Option<LocationId>) -> Vec<ValuationRow> {
    current_variants(plan, tenant)
        .into_iter()
        .map(|id| {
            let (mut units, mut cost) = (0, 0_i128);
            for m in of_tenant(plan, tenant) {
                if let (true, MovementKind::Purchase, Some(unit_cost)) =
                    (m.variant == id, m.kind, m.unit_cost)
                {
                    units += m.quantity;
                    cost += m.quantity as i128 * unit_cost as i128;
                }
            }
            ValuationRow {
                variant_id: id,
                sku: plan.variant(id).sku.as_str().to_owned(),
                stock: stock_of(plan, id, location).unwrap_or(0),
                purchased_units: units,
                purchased_cost: cost,
            }
        })
        .collect()
}

pub fn stock_at(
    plan: &Plan,
    tenant: TenantId,
    variant: VariantId,
    at: DateTime<Utc>,
    location: Option<LocationId>,
) -> i64 {
    of_tenant(plan, tenant)
        .filter(|m| m.variant == variant && m.at <= at && location.is_none_or(|l| l == m.location))
        .map(|m| m.quantity)
        .sum()
}
