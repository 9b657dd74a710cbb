//! The two stores under comparison, asked the same question at the same time, with the time
//! each spends answering kept for the report at the end.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use contract_tests::Stores;
use domain::ids::{LocationId, TenantId, VariantId};
use domain::reports::models::{SeriesFilter, ValuationRow};
use domain::stock::models::MovementKind;
use domain::StoreError;

use super::reference::{BucketRow, LowLine, MoverLine};

pub struct Pair {
    pub sqlite: Stores,
    pub mongo: Stores,
    pub sqlite_time: Duration,
    pub mongo_time: Duration,
    pub questions: usize,
}

/// Runs `ask` and adds the time it took to `spent`.
async fn timed<T, F>(spent: &mut Duration, ask: F) -> T
where
    F: Future<Output = Result<T, StoreError>>,
{
    let started = Instant::now();
    let answer = ask.await.expect("the store answers");
    *spent += started.elapsed();
    answer
}

/// Asserts that both stores gave `reference`, naming the question and the store that did not.
pub fn agree<T: PartialEq + Debug>(what: &str, sqlite: T, mongo: T, reference: T) {
    assert_eq!(sqlite, mongo, "SQLite and MongoDB disagree on {what}");
    assert_eq!(
        mongo, reference,
        "both stores differ from the plan on {what}"
    );
}

impl Pair {
    pub async fn series(
        &mut self,
        tenant: TenantId,
        edges: &[DateTime<Utc>],
        filter: &SeriesFilter,
    ) -> (Vec<BucketRow>, Vec<BucketRow>) {
        self.questions += 1;
        let rows = |found: Vec<domain::reports::models::BucketCount>| {
            let mut rows: Vec<BucketRow> = found
                .into_iter()
                .map(|r| (r.index, r.kind.as_str(), r.count, r.quantity))
                .collect();
            rows.sort();
            rows
        };
        let a = timed(
            &mut self.sqlite_time,
            self.sqlite.reports.movement_buckets(&tenant, edges, filter),
        )
        .await;
        let b = timed(
            &mut self.mongo_time,
            self.mongo.reports.movement_buckets(&tenant, edges, filter),
        )
        .await;
        (rows(a), rows(b))
    }

    /// Low-stock rows as `(variant, units sold, incoming, stock)` in id order, after checking
    /// that both stores returned the very same variants (every field, levels included).
    pub async fn low_stock(
        &mut self,
        tenant: TenantId,
        since: DateTime<Utc>,
        location: Option<LocationId>,
    ) -> (Vec<LowLine>, Vec<LowLine>) {
        self.questions += 1;
        let mut a = timed(
            &mut self.sqlite_time,
            self.sqlite.reports.low_stock(&tenant, since, location),
        )
        .await;
        let mut b = timed(
            &mut self.mongo_time,
            self.mongo.reports.low_stock(&tenant, since, location),
        )
        .await;
        for rows in [&mut a, &mut b] {
            rows.sort_by_key(|r| r.variant.id);
        }
        assert_eq!(
            a, b,
            "SQLite and MongoDB disagree on the low-stock rows since {since} at {location:?}"
        );
        let lines = |rows: Vec<domain::reports::models::LowStockRow>| {
            rows.into_iter()
                .map(|r| (r.variant.id, r.units_sold, r.incoming, r.stock))
                .collect()
        };
        (lines(a), lines(b))
    }

    pub async fn top_movers(
        &mut self,
        tenant: TenantId,
        kind: MovementKind,
        window: (DateTime<Utc>, DateTime<Utc>),
        limit: u32,
    ) -> (Vec<MoverLine>, Vec<MoverLine>) {
        self.questions += 1;
        let lines = |rows: Vec<domain::reports::models::MoverRow>| {
            rows.into_iter()
                .map(|r| (r.variant_id, r.sku, r.quantity, r.movements))
                .collect()
        };
        let a = timed(
            &mut self.sqlite_time,
            self.sqlite
                .reports
                .top_movers(&tenant, kind, window.0, window.1, limit),
        )
        .await;
        let b = timed(
            &mut self.mongo_time,
            self.mongo
                .reports
                .top_movers(&tenant, kind, window.0, window.1, limit),
        )
        .await;
        (lines(a), lines(b))
    }

    pub async fn valuation(
        &mut self,
        tenant: TenantId,
        location: Option<LocationId>,
    ) -> (Vec<ValuationRow>, Vec<ValuationRow>) {
        self.questions += 1;
        let a = timed(
            &mut self.sqlite_time,
            self.sqlite.reports.valuation(&tenant, location),
        )
        .await;
        let b = timed(
            &mut self.mongo_time,
            self.mongo.reports.valuation(&tenant, location),
        )
        .await;
        (a, b)
    }

    pub async fn stock_at(
        &mut self,
        tenant: TenantId,
        variant: VariantId,
        at: DateTime<Utc>,
        location: Option<LocationId>,
    ) -> (i64, i64) {
        self.questions += 1;
        let a = timed(
            &mut self.sqlite_time,
            self.sqlite
                .reports
                .stock_at(&tenant, &variant, at, location),
        )
        .await;
        let b = timed(
            &mut self.mongo_time,
            self.mongo.reports.stock_at(&tenant, &variant, at, location),
        )
        .await;
        // The plan moves no units between states: both replay none unavailable.
        assert_eq!(
            (a.unavailable, b.unavailable),
            Default::default(),
            "unavailable units replayed where none moved"
        );
        (a.on_hand, b.on_hand)
    }
}
