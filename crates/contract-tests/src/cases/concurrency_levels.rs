//! The stock invariant under real concurrency, level by level: writers racing for one level
//! sell exactly what it holds and never touch another level of the same variant, and writers
//! at two levels each sell out their own while the variant's total follows both.

use std::collections::BTreeSet;

use domain::error::Shortage;
use domain::ids::{LocationId, TenantId, VariantId};
use domain::pagination::PageRequest;
use domain::stock::models::{Committed, LedgerError, MovementFilter, MovementKind};

use super::concurrency::{assert_overlapped, overlapping};
use crate::fixtures::*;
use crate::Stores;

/// Counts the sales and refusals at `location`; every refusal must be a one-unit shortage at
/// `location` with nothing left there.
fn tally_at<'a>(
    location: LocationId,
    variant: VariantId,
    results: impl IntoIterator<Item = &'a Result<Committed, LedgerError>>,
) -> (usize, usize) {
    let (mut sold, mut refused) = (0, 0);
    for result in results {
        match result {
            Ok(committed) => {
                assert_eq!(committed.applied[0].moved().location_id, location);
                sold += 1;
            }
            Err(LedgerError::Insufficient(short)) => {
                let expected = Shortage {
                    variant_id: variant,
                    location_id: Some(location),
                    requested: 1,
                    available: 0,
                };
                assert_eq!(short, &vec![expected]);
                refused += 1;
            }
            Err(other) => panic!("unexpected refusal: {other:?}"),
        }
    }
    (sold, refused)
}

/// The `stock_after` of every SALE of `v` at `location`.
async fn sales_at(s: &Stores, t: TenantId, v: VariantId, location: LocationId) -> Vec<i64> {
    let sales = MovementFilter {
        variant_id: Some(v),
        location_id: Some(location),
        kind: Some(MovementKind::Sale),
        ..Default::default()
    };
    s.ledger
        .list_movements(&t, &sales, &PageRequest::first(100))
        .await
        .unwrap()
        .items
        .iter()
        .map(|m| m.stock_after)
        .collect()
}

/// 50 tasks each sell one unit at location A of a variant holding 20 there and 7 at B, all at
/// once and unlocked: exactly 20 go through, A ends at 0 with every sale seeing its own stock,
/// and B — plenty as it has — is untouched.
pub async fn concurrent_sales_at_a_location_never_take_it_below_zero(s: Stores) {
    let shop = shop(&s).await;
    let (t, a) = (shop.id(), shop.main());
    let b = new_location(&s, t, "B").await.id;
    let v = stocked_variant(&s, t, a, &format!("HOT-{}", unique()), 20)
        .await
        .id;
    stock_up(&s, t, v, b, 7).await;

    let (results, peak) = overlapping(50, |_| {
        let ledger = s.ledger.clone();
        async move {
            let sale = change(v, a, MovementKind::Sale, -1);
            ledger.commit(&t, changes(vec![sale])).await
        }
    })
    .await;
    assert_eq!(tally_at(a, v, &results), (20, 30));
    assert_overlapped(peak, 50);

    assert_eq!(levels_of(&s, t, v).await, vec![(a, 0, 0), (b, 7, 0)]);
    assert_eq!(stock_of(&s, t, v).await, 7);
    let after: BTreeSet<i64> = sales_at(&s, t, v, a).await.into_iter().collect();
    assert_eq!(after, (0..20).collect(), "every sale saw its own stock");
    assert!(sales_at(&s, t, v, b).await.is_empty());
    assert_eq!(
        movement_count(&s, t, v).await,
        22,
        "two stock-ins, 20 sales"
    );
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{audit:?}");
}

/// 30 tasks sell at A and 30 at B of one variant holding 10 at each, interleaved and unlocked:
/// each level sells out exactly, and the variant's total — written by both crowds — ends at 0
/// with no drift.
pub async fn concurrent_sales_at_two_locations_each_sell_their_own(s: Stores) {
    let shop = shop(&s).await;
    let (t, a) = (shop.id(), shop.main());
    let b = new_location(&s, t, "B").await.id;
    let v = stocked_variant(&s, t, a, &format!("HOT-{}", unique()), 10)
        .await
        .id;
    stock_up(&s, t, v, b, 10).await;

    let at = |i: usize| if i.is_multiple_of(2) { a } else { b };
    let (results, peak) = overlapping(60, |i| {
        let (ledger, location) = (s.ledger.clone(), at(i));
        async move {
            let sale = change(v, location, MovementKind::Sale, -1);
            ledger.commit(&t, changes(vec![sale])).await
        }
    })
    .await;
    let (at_a, at_b): (Vec<_>, Vec<_>) = results.iter().enumerate().partition(|(i, _)| at(*i) == a);
    assert_eq!(tally_at(a, v, at_a.into_iter().map(|(_, r)| r)), (10, 20));
    assert_eq!(tally_at(b, v, at_b.into_iter().map(|(_, r)| r)), (10, 20));
    assert_overlapped(peak, 60);

    assert_eq!(levels_of(&s, t, v).await, vec![(a, 0, 0), (b, 0, 0)]);
    assert_eq!(stock_of(&s, t, v).await, 0);
    // Every sale's total after it is distinct: the total moved once per sale, never lost.
    let totals: BTreeSet<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|c| c.applied[0].total())
        .collect();
    assert_eq!(totals, (0..20).collect());
    for location in [a, b] {
        let after: BTreeSet<i64> = sales_at(&s, t, v, location).await.into_iter().collect();
        assert_eq!(after, (0..10).collect(), "every sale saw its own level");
    }
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{audit:?}");
}
