//! Tenant isolation of the reports: a tenant's reports never count, list or value another
//! tenant's variants and movements, even when asked about them by id.

use chrono::Duration;
use domain::ids::TenantId;
use domain::reports::models::SeriesFilter;
use domain::stock::models::MovementKind::{Purchase, Sale};

use super::ledger::*;
use crate::Stores;

pub async fn reports_never_count_another_tenants_movements(s: Stores) {
    let (mine, theirs) = (shop(&s).await, shop(&s).await);
    let (owner, owner_main, stranger) = (mine.id(), mine.main(), theirs.id());
    let start = utc("2026-03-02T00:00:00Z");
    let hour = Duration::hours(1);
    let p = new_product(&s, owner, "Owned").await;
    let v = new_variant(&s, owner, p, "OWNED", 50).await;
    record(&s, owner, owner_main, v.id, Purchase, 20, start).await;
    record(&s, owner, owner_main, v.id, Sale, -5, start + hour).await;
    // The stranger has a catalog of its own, with nothing moved.
    let sp = new_product(&s, stranger, "Stranger's").await;
    new_variant(&s, stranger, sp, "STRANGERS", 0).await;

    let edges = [start, start + hour, start + hour * 2];
    let everything = SeriesFilter::default();
    let by_variant = SeriesFilter {
        variant_id: Some(v.id),
        ..Default::default()
    };
    let by_product = SeriesFilter {
        product_id: Some(p),
        ..Default::default()
    };
    // The owner's location asked about by the stranger is a location of nobody.
    let by_location = SeriesFilter {
        location_id: Some(owner_main),
        ..Default::default()
    };
    for filter in [&everything, &by_variant, &by_product, &by_location] {
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
    let theirs = s.reports.low_stock(&stranger, start, None).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].units_sold, 0);
    assert_ne!(theirs[0].variant.id, v.id);
    let at_owners = s
        .reports
        .low_stock(&stranger, start, Some(owner_main))
        .await
        .unwrap();
    assert_eq!(at_owners, vec![]);
    for at in [None, Some(owner_main)] {
        let mine = s.reports.low_stock(&owner, start, at).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0].variant.id, mine[0].units_sold), (v.id, 5));
    }

    let at_owners = s
        .reports
        .valuation(&stranger, Some(owner_main))
        .await
        .unwrap();
    assert!(at_owners.iter().all(|r| r.stock == 0), "{at_owners:?}");
    let theirs = s.reports.valuation(&stranger, None).await.unwrap();
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
    for at in [None, Some(owner_main)] {
        let theirs = s.reports.stock_at(&stranger, &v.id, later, at).await;
        assert_eq!(theirs.unwrap().on_hand, 0);
        let mine = s.reports.stock_at(&owner, &v.id, later, at).await;
        assert_eq!(mine.unwrap().on_hand, 15);
    }

    // A tenant with no records at all gets empty reports.
    let nobody = TenantId::new();
    let none = s.reports.low_stock(&nobody, start, None).await.unwrap();
    assert_eq!(none, vec![]);
    assert_eq!(s.reports.valuation(&nobody, None).await.unwrap(), vec![]);
}
