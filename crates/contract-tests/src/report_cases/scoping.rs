//! Tenant isolation of the reports: a tenant's reports never count, list or value another
//! tenant's variants and movements, even when asked about them by id.

use chrono::Duration;
use domain::ids::TenantId;
use domain::reports::models::SeriesFilter;
use domain::stock::models::MovementKind::{Purchase, Sale};

use super::ledger::*;
use crate::Stores;

pub async fn reports_never_count_another_tenants_movements(s: Stores) {
    let (owner, stranger) = (TenantId::new(), TenantId::new());
    let start = utc("2026-03-02T00:00:00Z");
    let hour = Duration::hours(1);
    let p = new_product(&s, owner, "Owned").await;
    let v = new_variant(&s, owner, p, "OWNED", 50).await;
    record(&s, owner, v.id, Purchase, 20, start).await;
    record(&s, owner, v.id, Sale, -5, start + hour).await;
    // The stranger has a catalog of its own, with nothing moved.
    let sp = new_product(&s, stranger, "Stranger's").await;
    new_variant(&s, stranger, sp, "STRANGERS", 0).await;

    let edges = [start, start + hour, start + hour * 2];
    let everything = SeriesFilter::default();
    let by_variant = SeriesFilter {
        variant_id: Some(v.id),
        product_id: None,
    };
    let by_product = SeriesFilter {
        variant_id: None,
        product_id: Some(p),
    };
    for filter in [&everything, &by_variant, &by_product] {
        let theirs = s
            .reports
            .movement_buckets(&stranger, &edges, filter)
            .await
            .unwrap();
        assert_eq!(theirs, vec![], "{filter:?}");
        let mine = s
            .reports
            .movement_buckets(&owner, &edges, filter)
            .await
            .unwrap();
        assert_eq!(
            bucket_rows(mine),
            vec![(0, "PURCHASE", 1, 20), (1, "SALE", 1, -5)],
            "{filter:?}"
        );
    }

    let window = (start, start + hour * 2);
    for kind in [Purchase, Sale] {
        let theirs = s
            .reports
            .top_movers(&stranger, kind, window.0, window.1, 10)
            .await
            .unwrap();
        assert_eq!(theirs, vec![]);
    }
    let mine = s
        .reports
        .top_movers(&owner, Sale, window.0, window.1, 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].variant_id, mine[0].quantity), (v.id, 5));

    // The stranger's own variant is low (0 ≤ 0) and is all it sees.
    let theirs = s.reports.low_stock(&stranger, start).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].units_sold, 0);
    assert_ne!(theirs[0].variant.id, v.id);
    let mine = s.reports.low_stock(&owner, start).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].variant.id, mine[0].units_sold), (v.id, 5));

    let theirs = s.reports.valuation(&stranger).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(
        (
            theirs[0].stock,
            theirs[0].purchased_units,
            theirs[0].purchased_cost
        ),
        (0, 0, 0)
    );
    assert_ne!(theirs[0].variant_id, v.id);

    let later = start + hour * 3;
    assert_eq!(
        s.reports.stock_at(&stranger, &v.id, later).await.unwrap(),
        0
    );
    assert_eq!(s.reports.stock_at(&owner, &v.id, later).await.unwrap(), 15);

    // A tenant with no records at all gets empty reports.
    let nobody = TenantId::new();
    assert_eq!(s.reports.low_stock(&nobody, start).await.unwrap(), vec![]);
    assert_eq!(s.reports.valuation(&nobody).await.unwrap(), vec![]);
}
