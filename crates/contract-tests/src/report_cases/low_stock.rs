//! The low-stock report: variants at or below their reorder level, with what they sold since
//! the start of the sales window and what is still due on open purchase orders.

use chrono::Duration;
use domain::ids::{TenantId, VariantId};
use domain::purchasing::models::PurchaseOrderStatus as Po;
use domain::stock::models::MovementKind::{Purchase, Return, Sale};

use super::ledger::*;
use crate::fixtures::{insert_purchase_order, purchase_order, supplier};
use crate::Stores;

pub async fn low_stock_lists_low_variants_with_sales_since_the_window_start(s: Stores) {
    let t = TenantId::new();
    let since = utc("2026-03-01T00:00:00Z");
    let early = utc("2026-02-01T09:00:00Z");
    let p = new_product(&s, t, "Tea").await;

    // Exactly at its level (2) after selling 2 + 4 in the window; the sale one millisecond
    // before the window and the return do not count as sold.
    let at_level = new_variant(&s, t, p, "AT-LEVEL", 2).await.id;
    record(&s, t, at_level, Purchase, 10, early).await;
    record(&s, t, at_level, Sale, -3, since - ms(1)).await;
    record(&s, t, at_level, Sale, -2, since).await;
    record(&s, t, at_level, Sale, -4, since + Duration::days(1)).await;
    record(&s, t, at_level, Return, 1, since + Duration::days(2)).await;
    // Never moved: stock 0 is below its level, nothing sold.
    let untouched = new_variant(&s, t, p, "UNTOUCHED", 2).await.id;
    // Sold out with a reorder level of 0.
    let sold_out = new_variant(&s, t, p, "SOLD-OUT", 0).await.id;
    record(&s, t, sold_out, Purchase, 3, early).await;
    record(&s, t, sold_out, Sale, -3, since + Duration::hours(1)).await;
    // One above its level: not low, however much it sells.
    let healthy = new_variant(&s, t, p, "HEALTHY", 5).await.id;
    record(&s, t, healthy, Purchase, 16, early).await;
    record(&s, t, healthy, Sale, -10, since + Duration::days(1)).await;

    // Open purchase orders make `incoming`: 5 + (8 − 3) for AT-LEVEL; received, draft and
    // cancelled orders do not count.
    let sup = supplier(t, "Tea Traders");
    s.suppliers.insert(&t, &sup, None).await.unwrap();
    for po in [
        purchase_order(t, sup.id, Po::Ordered, &[(at_level, 5, 0), (healthy, 9, 0)]),
        purchase_order(t, sup.id, Po::PartiallyReceived, &[(at_level, 8, 3)]),
        purchase_order(t, sup.id, Po::Received, &[(untouched, 4, 4)]),
        purchase_order(t, sup.id, Po::Draft, &[(untouched, 100, 0)]),
        purchase_order(t, sup.id, Po::Cancelled, &[(sold_out, 50, 0)]),
    ] {
        insert_purchase_order(&s, t, &po).await;
    }

    // Another tenant's low, selling variant is not listed.
    let other = TenantId::new();
    let op = new_product(&s, other, "Other tea").await;
    let theirs = new_variant(&s, other, op, "THEIRS", 50).await.id;
    record(&s, other, theirs, Purchase, 5, early).await;
    record(&s, other, theirs, Sale, -5, since + Duration::days(1)).await;

    let rows = s.reports.low_stock(&t, since).await.expect("low stock");
    let mut listed: Vec<(VariantId, i64)> =
        rows.iter().map(|r| (r.variant.id, r.units_sold)).collect();
    listed.sort();
    let mut expected = vec![(at_level, 6), (untouched, 0), (sold_out, 3)];
    expected.sort();
    assert_eq!(listed, expected);

    // Each row carries the variant exactly as a variant read returns it, `incoming` included.
    for row in &rows {
        let read = s.variants.get(&t, &row.variant.id).await.unwrap().unwrap();
        assert_eq!(row.variant, read);
    }
    let incoming = |id: VariantId| {
        rows.iter()
            .find(|r| r.variant.id == id)
            .expect("listed")
            .variant
            .incoming
    };
    assert_eq!(incoming(at_level), 10);
    assert_eq!(incoming(untouched), 0);
    assert_eq!(incoming(sold_out), 0);
    let stocks: Vec<i64> = [at_level, untouched, sold_out]
        .iter()
        .map(|id| {
            rows.iter()
                .find(|r| r.variant.id == *id)
                .unwrap()
                .variant
                .stock
        })
        .collect();
    assert_eq!(stocks, vec![2, 0, 0]);

    // A later window start leaves out the earlier sales.
    let later = s
        .reports
        .low_stock(&t, since + Duration::hours(2))
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
