//! The movement series: counts and Σ quantity per bucket and kind, with `[lo, hi)` edges.

use chrono::{DateTime, Utc};
use domain::ids::{ProductId, TenantId, VariantId};
use domain::reports::models::SeriesFilter;
use domain::stock::models::MovementKind::{Adjustment, Purchase, Return, Sale};

use super::ledger::*;
use crate::Stores;

/// Products P (variants A, B) and Q (variant C) of tenant `t`, and the movements below; bucket
/// 1 lasts two hours (as a 25-hour day would be longer than its neighbours) and bucket 2 is
/// empty.
struct SeriesLedger {
    t: TenantId,
    p: ProductId,
    q: ProductId,
    a: VariantId,
    b: VariantId,
    c: VariantId,
    edges: Vec<DateTime<Utc>>,
}

async fn series_ledger(s: &Stores) -> SeriesLedger {
    let ours = shop(s).await;
    let (t, main) = (ours.id(), ours.main());
    let p = new_product(s, t, "Product P").await;
    let q = new_product(s, t, "Product Q").await;
    let a = new_variant(s, t, p, "A", 2).await.id;
    let b = new_variant(s, t, p, "B", 2).await.id;
    let c = new_variant(s, t, q, "C", 2).await.id;
    let at = |hms: &str| utc(&format!("2026-03-02T{hms}Z"));

    record(s, t, main, a, Purchase, 10, at("10:00:00.000")).await; // bucket 0, on its lower edge
    record(s, t, main, a, Sale, -3, at("10:30:00")).await; // bucket 0
    record(s, t, main, b, Purchase, 5, at("09:59:59.999")).await; // before the first edge
    record(s, t, main, b, Sale, -1, at("10:15:00")).await; // bucket 0
    record(s, t, main, a, Sale, -2, at("11:00:00.000")).await; // bucket 1, on its lower edge
    record(s, t, main, a, Adjustment, -1, at("12:59:59.999")).await; // bucket 1, its last millisecond
    record(s, t, main, c, Purchase, 7, at("11:30:00")).await; // bucket 1
    record(s, t, main, c, Return, 2, at("12:00:00")).await; // bucket 1
    record(s, t, main, a, Return, 1, at("14:00:00.000")).await; // on the last edge: outside

    // Another tenant moves stock at the same times; none of it may be counted.
    let other_shop = shop(s).await;
    let (other, other_main) = (other_shop.id(), other_shop.main());
    let op = new_product(s, other, "Other product").await;
    let x = new_variant(s, other, op, "X", 2).await.id;
    record(s, other, other_main, x, Purchase, 100, at("10:10:00")).await;
    record(s, other, other_main, x, Sale, -5, at("11:10:00")).await;

    SeriesLedger {
        t,
        p,
        q,
        a,
        b,
        c,
        edges: vec![
            at("10:00:00"),
            at("11:00:00"),
            at("13:00:00"),
            at("14:00:00"),
        ],
    }
}

impl SeriesLedger {
    async fn rows(&self, s: &Stores, filter: SeriesFilter) -> Vec<(usize, &'static str, i64, i64)> {
        bucket_rows(
            s.reports
                .movement_buckets(&self.t, &self.edges, &filter)
                .await
                .expect("aggregate movements"),
        )
    }
}

fn of_variant(v: VariantId) -> SeriesFilter {
    SeriesFilter {
        variant_id: Some(v),
        ..Default::default()
    }
}

fn of_product(p: ProductId) -> SeriesFilter {
    SeriesFilter {
        product_id: Some(p),
        ..Default::default()
    }
}

pub async fn series_counts_and_sums_each_kind_per_bucket(s: Stores) {
    let l = series_ledger(&s).await;
    assert_eq!(
        l.rows(&s, SeriesFilter::default()).await,
        sorted(vec![
            (0, "PURCHASE", 1, 10),
            (0, "SALE", 2, -4),
            (1, "SALE", 1, -2),
            (1, "ADJUSTMENT", 1, -1),
            (1, "PURCHASE", 1, 7),
            (1, "RETURN", 1, 2),
        ]),
        "bucket 2 has no movement and is omitted; the movement on the last edge is outside"
    );

    // One bucket spanning everything gives the totals; edges one millisecond later move the
    // movement on 10:00 out and the one on 14:00 in.
    let whole = [l.edges[0], l.edges[3]];
    let rows = bucket_rows(
        s.reports
            .movement_buckets(&l.t, &whole, &SeriesFilter::default())
            .await
            .unwrap(),
    );
    assert_eq!(
        rows,
        sorted(vec![
            (0, "PURCHASE", 2, 17),
            (0, "SALE", 3, -6),
            (0, "ADJUSTMENT", 1, -1),
            (0, "RETURN", 1, 2),
        ])
    );
    let shifted = [l.edges[0] + ms(1), l.edges[3] + ms(1)];
    let rows = bucket_rows(
        s.reports
            .movement_buckets(&l.t, &shifted, &SeriesFilter::default())
            .await
            .unwrap(),
    );
    assert_eq!(
        rows,
        sorted(vec![
            (0, "PURCHASE", 1, 7),
            (0, "SALE", 3, -6),
            (0, "ADJUSTMENT", 1, -1),
            (0, "RETURN", 2, 3),
        ])
    );
}

pub async fn series_filters_by_variant(s: Stores) {
    let l = series_ledger(&s).await;
    assert_eq!(
        l.rows(&s, of_variant(l.a)).await,
        sorted(vec![
            (0, "PURCHASE", 1, 10),
            (0, "SALE", 1, -3),
            (1, "SALE", 1, -2),
            (1, "ADJUSTMENT", 1, -1),
        ])
    );
    assert_eq!(l.rows(&s, of_variant(l.b)).await, vec![(0, "SALE", 1, -1)]);
    // A variant id of no movement (or of nobody) gives no rows.
    assert_eq!(l.rows(&s, of_variant(VariantId::new())).await, vec![]);
}

pub async fn series_filters_by_the_products_current_variants(s: Stores) {
    let l = series_ledger(&s).await;
    assert_eq!(
        l.rows(&s, of_product(l.p)).await,
        sorted(vec![
            (0, "PURCHASE", 1, 10),
            (0, "SALE", 2, -4),
            (1, "SALE", 1, -2),
            (1, "ADJUSTMENT", 1, -1),
        ])
    );
    assert_eq!(
        l.rows(&s, of_product(l.q)).await,
        sorted(vec![(1, "PURCHASE", 1, 7), (1, "RETURN", 1, 2)])
    );
    // Both filters at once: only movements of that variant, if it belongs to the product.
    let both = |v: VariantId, p: ProductId| SeriesFilter {
        variant_id: Some(v),
        product_id: Some(p),
        location_id: None,
    };
    assert_eq!(l.rows(&s, both(l.a, l.q)).await, vec![]);
    assert_eq!(
        l.rows(&s, both(l.c, l.q)).await,
        sorted(vec![(1, "PURCHASE", 1, 7), (1, "RETURN", 1, 2)])
    );
    let empty = new_product(&s, l.t, "No variants").await;
    assert_eq!(l.rows(&s, of_product(empty)).await, vec![]);

    // B moves to product Q: its history now counts for Q, not for P.
    let mut moved = s.variants.get(&l.t, &l.b).await.unwrap().unwrap();
    moved.product_id = l.q;
    s.variants.update(&l.t, &moved, None).await.unwrap();
    assert_eq!(
        l.rows(&s, of_product(l.q)).await,
        sorted(vec![
            (0, "SALE", 1, -1),
            (1, "PURCHASE", 1, 7),
            (1, "RETURN", 1, 2),
        ])
    );
    assert_eq!(
        l.rows(&s, of_product(l.p)).await,
        sorted(vec![
            (0, "PURCHASE", 1, 10),
            (0, "SALE", 1, -3),
            (1, "SALE", 1, -2),
            (1, "ADJUSTMENT", 1, -1),
        ])
    );
}
