//! The audit against stock changed behind the ledger's back: both of its comparisons — each
//! level with the sum of its movements, each variant's total with the sum of its levels — and the
//! order it reports them in.

use domain::catalog::models::Variant;
use domain::ids::{LocationId, VariantId};
use domain::stock::models::{AuditReport, AuditedState, Drift, MovementKind};

use crate::fixtures::*;
use crate::Stores;

/// A level drift (`at` set) or a total drift (`at` absent) of `v`.
fn drift(v: &Variant, at: Option<LocationId>, stock: i64, ledger_sum: i64) -> Drift {
    Drift {
        variant_id: v.id,
        location_id: at,
        state: AuditedState::OnHand,
        sku: v.sku.as_str().to_owned(),
        stock,
        ledger_sum,
    }
}

/// `drift` in the order the audit promises: by variant, each variant's levels by location and
/// then its total.
fn in_audit_order(mut drift: Vec<Drift>) -> Vec<Drift> {
    drift.sort_by_key(|d| (d.variant_id, d.location_id.is_none(), d.location_id));
    drift
}

fn drift_of(report: &AuditReport) -> Vec<(VariantId, Option<LocationId>, i64, i64)> {
    report
        .drift
        .iter()
        .map(|d| (d.variant_id, d.location_id, d.stock, d.ledger_sum))
        .collect()
}

/// A level's stock set behind the ledger's back (through the harness's [`crate::StockTamper`],
/// which leaves a stored total alone) is reported twice: the level against Σ of its
/// movements, and the variant's stored total against Σ of its levels (a store that derives
/// totals reports the level only) — up, down, on a level whose
/// movements cancel out, and on one level of a variant that has two — and only within the tenant
/// audited, in the promised order. Putting the level back clears both.
pub async fn audit_reports_stock_changed_behind_the_ledger(s: Stores) {
    let Some(tamper) = s.stock_tamper() else {
        return;
    };
    let (shop, theirs) = (shop(&s).await, shop(&s).await);
    let (t, main, other) = (shop.id(), shop.main(), theirs.id());
    let annex = new_location(&s, t, "ANNEX").await.id;

    let up = stocked_variant(&s, t, main, &format!("UP-{}", unique()), 10).await;
    let sale = change(up.id, main, MovementKind::Sale, -3);
    s.ledger.commit(&t, changes(vec![sale])).await.unwrap();
    let down = stocked_variant(&s, t, main, &format!("DOWN-{}", unique()), 4).await;
    // Bought and sold again: a level at 0 whose movements sum to 0.
    let zeroed = stocked_variant(&s, t, main, &format!("ZERO-{}", unique()), 3).await;
    let sale = change(zeroed.id, main, MovementKind::Sale, -3);
    s.ledger.commit(&t, changes(vec![sale])).await.unwrap();
    let clean = stocked_variant(&s, t, main, &format!("CLEAN-{}", unique()), 2).await;
    let split = stocked_variant(&s, t, main, &format!("SPLIT-{}", unique()), 5).await;
    stock_up(&s, t, split.id, annex, 3).await;
    let foreign = stocked_variant(
        &s,
        other,
        theirs.main(),
        &format!("FOREIGN-{}", unique()),
        3,
    )
    .await;
    let before = s.ledger.audit(&t).await.unwrap();
    assert_eq!(
        (before.variants_checked, before.levels_checked),
        (5, 6),
        "{before:?}"
    );
    assert!(before.drift.is_empty(), "{before:?}");

    tamper(t, up.id, main, 12).await;
    tamper(t, down.id, main, 1).await;
    tamper(t, zeroed.id, main, 5).await;
    tamper(t, split.id, annex, 1).await;
    tamper(other, foreign.id, theirs.main(), 9).await;
    assert_eq!(
        level_of(&s, t, up.id, main).await,
        12,
        "the tamper hook changed the level"
    );
    let derived = s.totals_derived();
    assert_eq!(
        stock_of(&s, t, up.id).await,
        if derived { 12 } else { 7 },
        "the tamper hook left a stored total alone; a derived one follows the levels"
    );
    // A derived total is Σ levels by construction: only a stored one can drift from them.
    let expect = |drift: Vec<Drift>| {
        in_audit_order(
            drift
                .into_iter()
                .filter(|d| !derived || d.location_id.is_some())
                .collect(),
        )
    };

    let report = s.ledger.audit(&t).await.unwrap();
    assert_eq!((report.variants_checked, report.levels_checked), (5, 6));
    let expected = expect(vec![
        drift(&up, Some(main), 12, 7),
        drift(&up, None, 7, 12),
        drift(&down, Some(main), 1, 4),
        drift(&down, None, 4, 1),
        drift(&zeroed, Some(main), 5, 0),
        drift(&zeroed, None, 0, 5),
        drift(&split, Some(annex), 1, 3),
        drift(&split, None, 8, 6),
    ]);
    assert_eq!(report.drift, expected, "{report:?}");

    // The other tenant's audit sees its own drift only.
    let mine = s.ledger.audit(&other).await.unwrap();
    assert_eq!((mine.variants_checked, mine.levels_checked), (1, 1));
    assert_eq!(
        mine.drift,
        expect(vec![
            drift(&foreign, Some(theirs.main()), 9, 3),
            drift(&foreign, None, 3, 9)
        ]),
        "{mine:?}"
    );

    // A ledger write starts from the stock as stored, level and total alike; the drift it finds
    // stays what it was.
    let sale = change(up.id, main, MovementKind::Sale, -2);
    let sold = s.ledger.commit(&t, changes(vec![sale])).await.unwrap();
    assert_eq!(sold.applied[0].moved().stock_after, 10);
    assert_eq!(sold.applied[0].total(), if derived { 10 } else { 5 });
    let report = s.ledger.audit(&t).await.unwrap();
    let up_drift: Vec<_> = drift_of(&report)
        .into_iter()
        .filter(|d| d.0 == up.id)
        .collect();
    let mut want = vec![(up.id, Some(main), 10, 5)];
    if !derived {
        want.push((up.id, None, 5, 10));
    }
    assert_eq!(up_drift, want, "{report:?}");

    // Putting the levels back where the ledger says clears the report, variant by variant.
    tamper(t, up.id, main, 5).await;
    tamper(t, down.id, main, 4).await;
    tamper(t, split.id, annex, 3).await;
    let report = s.ledger.audit(&t).await.unwrap();
    assert_eq!(
        report.drift,
        expect(vec![
            drift(&zeroed, Some(main), 5, 0),
            drift(&zeroed, None, 0, 5)
        ]),
        "{report:?}"
    );
    assert_eq!(stock_of(&s, t, clean.id).await, 2);
}
