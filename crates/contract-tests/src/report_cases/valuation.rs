//! Valuation inputs: one row per variant, ordered by id, with its stock and the Σ quantity and
//! Σ quantity × unit cost of its PURCHASE movements that carry a unit cost. The rounding is the
//! domain's; the store must hand it exact integer totals.

use domain::reports::models::ValuationRow;
use domain::stock::models::MovementKind::{Adjustment, Return, Sale};

use super::ledger::*;
use crate::fixtures::{change, changes, money};
use crate::Stores;

pub async fn valuation_sums_purchases_that_carry_a_unit_cost(s: Stores) {
    let ours = shop(&s).await;
    let (t, main) = (ours.id(), ours.main());
    let at = utc("2026-03-02T12:00:00Z");
    let p = new_product(&s, t, "Valued").await;

    // 2 at 100 and 1 at 101: an average of 100.33…; the purchase without a cost, the sale, the
    // return and the adjustment (even one carrying a cost) change stock only.
    let a = new_variant(&s, t, p, "A", 2).await;
    purchase(&s, t, main, a.id, 2, Some(100), at).await;
    purchase(&s, t, main, a.id, 1, Some(101), at).await;
    purchase(&s, t, main, a.id, 5, None, at).await;
    record(&s, t, main, a.id, Sale, -1, at).await;
    record(&s, t, main, a.id, Return, 1, at).await;
    let mut costed_adjustment = change(a.id, main, Adjustment, 4);
    costed_adjustment.unit_cost = Some(money(999));
    costed_adjustment.at = at;
    s.ledger
        .commit(&t, changes(vec![costed_adjustment]))
        .await
        .unwrap();
    // Never moved.
    let b = new_variant(&s, t, p, "B", 2).await;
    // 3 at 333 and 3 at 334: an average of exactly 333.5, the half that rounding decides.
    let c = new_variant(&s, t, p, "C", 2).await;
    purchase(&s, t, main, c.id, 3, Some(333), at).await;
    purchase(&s, t, main, c.id, 3, Some(334), at).await;
    record(&s, t, main, c.id, Sale, -4, at).await;
    // Bought for nothing: a unit cost of 0 is still a unit cost.
    let d = new_variant(&s, t, p, "D", 2).await;
    purchase(&s, t, main, d.id, 4, Some(0), at).await;

    // Another tenant's purchases are valued for that tenant only.
    let other_shop = shop(&s).await;
    let (other, other_main) = (other_shop.id(), other_shop.main());
    let op = new_product(&s, other, "Other valued").await;
    let x = new_variant(&s, other, op, "X", 2).await;
    purchase(&s, other, other_main, x.id, 9, Some(10_000), at).await;

    let line = |v: &domain::catalog::models::Variant, stock, units, cost| ValuationRow {
        variant_id: v.id,
        sku: v.sku.as_str().to_owned(),
        stock,
        purchased_units: units,
        purchased_cost: cost,
    };
    let mut expected = vec![
        line(&a, 12, 3, 301),
        line(&b, 0, 0, 0),
        line(&c, 2, 6, 2001),
        line(&d, 4, 4, 0),
    ];
    expected.sort_by_key(|r| r.variant_id);
    assert_eq!(s.reports.valuation(&t, None).await.unwrap(), expected);
    // Everything here is at the default location, so its levels value the same.
    assert_eq!(s.reports.valuation(&t, Some(main)).await.unwrap(), expected);
    assert_eq!(
        s.reports.valuation(&other, None).await.unwrap(),
        vec![line(&x, 9, 9, 90_000)]
    );
}

/// Σ quantity × unit cost of a variant bought often at the largest cost passes `i64` (here
/// 1,000 purchases of 10^9 units at 10^13: 10^25): the store still hands the exact sum, in
/// `i128`, and never fails the report.
pub async fn valuation_sums_costs_past_64_bits_exactly(s: Stores) {
    let ours = shop(&s).await;
    let (t, main) = (ours.id(), ours.main());
    let at = utc("2026-03-02T12:00:00Z");
    let p = new_product(&s, t, "Dear").await;
    let dear = new_variant(&s, t, p, "DEAR", 2).await;
    let (units, cost) = (domain::values::MAX_QUANTITY, domain::values::MAX_MONEY);
    // Batches of one commit each keep the case quick on every store.
    for _ in 0..10 {
        let batch = (0..100)
            .map(|_| {
                let mut c = change(
                    dear.id,
                    main,
                    domain::stock::models::MovementKind::Purchase,
                    units,
                );
                c.unit_cost = Some(money(cost));
                c.at = at;
                c
            })
            .collect();
        s.ledger.commit(&t, changes(batch)).await.unwrap();
    }
    // Another variant at a cost that alone fits: the two sums stay apart.
    let plain = new_variant(&s, t, p, "PLAIN", 2).await;
    purchase(&s, t, main, plain.id, 3, Some(7), at).await;

    let rows = s.reports.valuation(&t, None).await.unwrap();
    let of = |id| rows.iter().find(|r| r.variant_id == id).unwrap();
    let dear_row = of(dear.id);
    assert_eq!(dear_row.stock, 1_000 * units);
    assert_eq!(dear_row.purchased_units, 1_000 * units);
    assert_eq!(
        dear_row.purchased_cost,
        1_000 * units as i128 * cost as i128
    );
    assert!(dear_row.purchased_cost > i64::MAX as i128);
    assert_eq!(
        (of(plain.id).purchased_units, of(plain.id).purchased_cost),
        (3, 21)
    );
}
