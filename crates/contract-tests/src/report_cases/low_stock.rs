//! The low-stock report: variants at or below their reorder level, with what they sold since
//! the start of the sales window and what is still due on open purchase orders.

use chrono::Duration;
use domain::ids::VariantId;
use domain::purchasing::models::PurchaseOrderStatus as Po;
use domain::stock::models::MovementKind::{Purchase, Return, Sale};

use super::ledger::*;
use crate::fixtures::{insert_purchase_order, purchase_order, supplier};
use crate::Stores;

pub async fn low_stock_lists_low_variants_with_sales_since_the_window_start(s: Stores) {
    let ours = shop(&s).await;
    let (t, main) = (ours.id(), ours.main());
    let since = utc("2026-03-01T00:00:00Z");
    let early = utc("2026-02-01T09:00:00Z");
    let p = new_product(&s, t, "Tea").await;

    // Exactly at its level (2) after selling 2 + 4 in the window; the sale one millisecond
    // before the window and the return do not count as sold.
    let at_level = new_variant(&s, t, p, "AT-LEVEL", 2).await.id;
    record(&s, t, main, at_level, Purchase, 10, early).await;
    record(&s, t, main, at_level, Sale, -3, since - ms(1)).await;
    record(&s, t, main, at_level, Sale, -2, since).await;
    record(&s, t, main, at_level, Sale, -4, since + Duration::days(1)).await;
    record(&s, t, main, at_level, Return, 1, since + Duration::days(2)).await;
    // Never moved: stock 0 is below its level, nothing sold.
    let untouched = new_variant(&s, t, p, "UNTOUCHED", 2).await.id;
    // Sold out with a reorder level of 0.
    let sold_out = new_variant(&s, t, p, "SOLD-OUT", 0).await.id;
    record(&s, t, main, sold_out, Purchase, 3, early).await;
    record(&s, t, main, sold_out, Sale, -3, since + Duration::hours(1)).await;
    // One above its level: not low, however much it sells.
    let healthy = new_variant(&s, t, p, "HEALTHY", 5).await.id;
    record(&s, t, main, healthy, Purchase, 16, early).await;
    record(&s, t, main, healthy, Sale, -10, since + Duration::days(1)).await;

    // Open purchase orders make `incoming`: 5 + (8 − 3) for AT-LEVEL; received, draft and
    // cancelled orders do not count.
    let sup = supplier(t, "Tea Traders");
    s.suppliers.insert(&t, &sup, None).await.unwrap();
    for po in [
        purchase_order(
            t,
            sup.id,
            main,
            Po::Ordered,
            &[(at_level, 5, 0), (healthy, 9, 0)],
        ),
        purchase_order(t, sup.id, main, Po::PartiallyReceived, &[(at_level, 8, 3)]),
        purchase_order(t, sup.id, main, Po::Received, &[(untouched, 4, 4)]),
        purchase_order(t, sup.id, main, Po::Draft, &[(untouched, 100, 0)]),
        purchase_order(t, sup.id, main, Po::Cancelled, &[(sold_out, 50, 0)]),
    ] {
        insert_purchase_order(&s, t, &po).await;
    }

    // Another tenant's low, selling variant is not listed.
    let other_shop = shop(&s).await;
    let (other, other_main) = (other_shop.id(), other_shop.main());
    let op = new_product(&s, other, "Other tea").await;
    let theirs = new_variant(&s, other, op, "THEIRS", 50).await.id;
    record(&s, other, other_main, theirs, Purchase, 5, early).await;
    record(
        &s,
        other,
        other_main,
        theirs,
        Sale,
        -5,
        since + Duration::days(1),
    )
    .await;

    let rows = s
        .reports
        .low_stock(&t, since, None)
        .await
        .expect("low stock");
    let mut listed: Vec<(VariantId, i64, i64, i64)> = rows
        .iter()
        .map(|r| (r.variant.id, r.stock, r.incoming, r.units_sold))
        .collect();
    listed.sort();
    // Asked about no location: the variants' totals.
    let mut expected = vec![
        (at_level, 2, 10, 6),
        (untouched, 0, 0, 0),
        (sold_out, 0, 0, 3),
    ];
    expected.sort();
    assert_eq!(listed, expected);

    // Each row carries the variant exactly as a variant read returns it, `incoming` included.
    for row in &rows {
        let read = s.variants.get(&t, &row.variant.id).await.unwrap().unwrap();
        assert_eq!((row.stock, row.incoming), (read.stock, read.incoming));
        assert_eq!(row.variant, read);
    }

    // A later window start leaves out the earlier sales.
    let later = s
        .reports
        .low_stock(&t, since + Duration::hours(2), None)
        .await
        .unwrap();
    let sold = |id: VariantId| {
        later
            .iter()
            .find(|r| r.variant.id == id)
            .unwrap()
            .units_sold
    };
    assert_eq!((sold(at_level), sold(sold_out)), (4, 0));
}

/// Asked about one location, the report judges each variant's level there against the variant's
/// reorder level, counts the sales made there, and the units due there; a variant without a
/// level there is not listed, however low its total.
pub async fn low_stock_at_a_location_judges_its_level(s: Stores) {
    let ours = shop(&s).await;
    let (t, main) = (ours.id(), ours.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let since = utc("2026-03-01T00:00:00Z");
    let early = utc("2026-02-01T09:00:00Z");
    let p = new_product(&s, t, "Coffee").await;

    // Low at the annex (1 ≤ 2, after selling 3 there) though its total (11) is not.
    let low_there = new_variant(&s, t, p, "LOW-THERE", 2).await.id;
    record(&s, t, main, low_there, Purchase, 10, early).await;
    record(&s, t, main, low_there, Sale, -5, since + Duration::hours(1)).await;
    record(
        &s,
        t,
        main,
        low_there,
        Return,
        5,
        since + Duration::hours(2),
    )
    .await;
    record(&s, t, annex, low_there, Purchase, 4, early).await;
    record(&s, t, annex, low_there, Sale, -3, since + Duration::days(1)).await;
    // Low at the default location (1), plenty at the annex (5); its total (6) is not low.
    let low_here = new_variant(&s, t, p, "LOW-HERE", 2).await.id;
    record(&s, t, main, low_here, Purchase, 3, early).await;
    record(&s, t, main, low_here, Sale, -2, since + Duration::days(2)).await;
    record(&s, t, annex, low_here, Purchase, 5, early).await;
    // Sold out at the default location and never at the annex: low there and in total.
    let only_here = new_variant(&s, t, p, "ONLY-HERE", 2).await.id;
    record(&s, t, main, only_here, Purchase, 2, early).await;
    record(&s, t, main, only_here, Sale, -2, since + Duration::days(3)).await;

    // Units due at the annex count for the annex only.
    let sup = supplier(t, "Coffee Traders");
    s.suppliers.insert(&t, &sup, None).await.unwrap();
    for po in [
        purchase_order(t, sup.id, annex, Po::Ordered, &[(low_there, 6, 0)]),
        purchase_order(
            t,
            sup.id,
            main,
            Po::Ordered,
            &[(low_there, 9, 0), (low_here, 4, 0)],
        ),
    ] {
        insert_purchase_order(&s, t, &po).await;
    }

    let rows = |at| {
        let reports = s.reports.clone();
        async move {
            let mut rows: Vec<(VariantId, i64, i64, i64)> = reports
                .low_stock(&t, since, at)
                .await
                .expect("low stock")
                .into_iter()
                .map(|r| (r.variant.id, r.stock, r.incoming, r.units_sold))
                .collect();
            rows.sort();
            rows
        }
    };
    assert_eq!(rows(Some(annex)).await, vec![(low_there, 1, 6, 3)]);
    let mut here = vec![(low_here, 1, 4, 2), (only_here, 0, 0, 2)];
    here.sort();
    assert_eq!(rows(Some(main)).await, here);
    assert_eq!(rows(None).await, vec![(only_here, 0, 0, 2)]);

    // The row's variant is still the variant as read, with its totals.
    let at_annex = s.reports.low_stock(&t, since, Some(annex)).await.unwrap();
    let read = s.variants.get(&t, &low_there).await.unwrap().unwrap();
    assert_eq!((read.stock, read.incoming), (11, 15));
    assert_eq!(at_annex[0].variant, read);

    // A location with no level at all lists nothing.
    let empty = new_location(&s, t, "EMPTY").await.id;
    assert_eq!(rows(Some(empty)).await, vec![]);
}
