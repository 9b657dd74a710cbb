//! Building the small hand-made ledgers of the reporting cases: catalog records and movements at
//! chosen instants.

use chrono::{DateTime, Duration, Utc};
use domain::catalog::models::Variant;
use domain::ids::{LocationId, ProductId, TenantId, VariantId};
use domain::reports::models::BucketCount;
use domain::stock::models::MovementKind;
use domain::values::StockLevel;

use crate::fixtures::{change, changes, money, product, unique, variant};
pub(crate) use crate::fixtures::{new_location, shop};
use crate::Stores;

/// An RFC 3339 instant.
pub(crate) fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid RFC 3339 time")
        .with_timezone(&Utc)
}

pub(crate) fn ms(n: i64) -> Duration {
    Duration::milliseconds(n)
}

/// Inserts a product and returns its id.
pub(crate) async fn new_product(s: &Stores, t: TenantId, name: &str) -> ProductId {
    let p = product(t, name);
    s.products
        .insert(&t, &p, None)
        .await
        .expect("insert product");
    p.id
}

/// Inserts a variant of `product` with no stock, reorder level `reorder_level` and a SKU that
/// starts with `code`.
pub(crate) async fn new_variant(
    s: &Stores,
    t: TenantId,
    product: ProductId,
    code: &str,
    reorder_level: i64,
) -> Variant {
    let mut v = variant(t, product, &format!("{code}-{}", unique()));
    v.reorder_level = StockLevel::new(reorder_level).expect("valid level");
    s.variants
        .insert(&t, &v, None)
        .await
        .expect("insert variant");
    v
}

/// Commits one movement of `delta` units of `variant` at `location`, created at `at`.
pub(crate) async fn record(
    s: &Stores,
    t: TenantId,
    location: LocationId,
    variant: VariantId,
    kind: MovementKind,
    delta: i64,
    at: DateTime<Utc>,
) {
    let mut c = change(variant, location, kind, delta);
    c.at = at;
    s.ledger
        .commit(&t, changes(vec![c]))
        .await
        .expect("commit the movement");
}

/// Commits one PURCHASE of `units` at `location` created at `at`, at `unit_cost` minor units a
/// unit if any.
pub(crate) async fn purchase(
    s: &Stores,
    t: TenantId,
    location: LocationId,
    variant: VariantId,
    units: i64,
    unit_cost: Option<i64>,
    at: DateTime<Utc>,
) {
    let mut c = change(variant, location, MovementKind::Purchase, units);
    c.unit_cost = unit_cost.map(money);
    c.at = at;
    s.ledger
        .commit(&t, changes(vec![c]))
        .await
        .expect("commit the purchase");
}

/// Bucket rows as `(index, kind, count, Σ quantity)`, sorted: the port leaves their order open.
pub(crate) fn bucket_rows(rows: Vec<BucketCount>) -> Vec<(usize, &'static str, i64, i64)> {
    let mut rows: Vec<_> = rows
        .into_iter()
        .map(|r| (r.index, r.kind.as_str(), r.count, r.quantity))
        .collect();
    rows.sort();
    rows
}

/// `expected` sorted like [`bucket_rows`].
pub(crate) fn sorted(
    mut expected: Vec<(usize, &'static str, i64, i64)>,
) -> Vec<(usize, &'static str, i64, i64)> {
    expected.sort();
    expected
}
