//! Top movers: variants ranked by Σ |quantity| of one kind of movement in `[from, to)`.

use chrono::{DateTime, Duration, Utc};
use domain::catalog::models::Variant;
use domain::ids::{TenantId, VariantId};
use domain::stock::models::MovementKind::{self, Adjustment, Purchase, Return, Sale};

use super::ledger::*;
use crate::Stores;

/// Variants A, B, C and D of tenant `t`, stocked before the window `[from, to)`, and moved in
/// and around it as commented in [`movers_ledger`].
struct MoversLedger {
    t: TenantId,
    a: Variant,
    b: Variant,
    c: Variant,
    d: Variant,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

async fn movers_ledger(s: &Stores) -> MoversLedger {
    let ours = shop(s).await;
    let (t, main) = (ours.id(), ours.main());
    let from = utc("2026-03-02T00:00:00Z");
    let to = utc("2026-03-09T00:00:00Z");
    let early = utc("2026-02-01T00:00:00Z");
    let day = Duration::days(1);
    let p = new_product(s, t, "Movers").await;
    let a = new_variant(s, t, p, "A", 2).await;
    let b = new_variant(s, t, p, "B", 2).await;
    let c = new_variant(s, t, p, "C", 2).await;
    let d = new_variant(s, t, p, "D", 2).await;
    for (v, units) in [(&a, 200), (&b, 50), (&c, 100), (&d, 10)] {
        record(s, t, main, v.id, Purchase, units, early).await;
    }
    // A: 3 + 4 sold in two movements (one on the lower edge); 100 sold on the upper edge.
    record(s, t, main, a.id, Sale, -3, from).await;
    record(s, t, main, a.id, Sale, -4, from + day).await;
    record(s, t, main, a.id, Sale, -100, to).await;
    // B: 7 sold in its last millisecond, and 3 bought in the window.
    record(s, t, main, b.id, Sale, -7, to - ms(1)).await;
    record(s, t, main, b.id, Purchase, 3, from + day * 2).await;
    // C: 2 sold; 50 sold a millisecond too early; adjusted by −20 and +5.
    record(s, t, main, c.id, Sale, -2, from + day * 3).await;
    record(s, t, main, c.id, Sale, -50, from - ms(1)).await;
    record(s, t, main, c.id, Adjustment, -20, from + day * 3).await;
    record(s, t, main, c.id, Adjustment, 5, from + day * 4).await;
    // D: sells out in the window, the most of all.
    record(s, t, main, d.id, Sale, -10, from + day).await;

    // Another tenant sells far more in the same window.
    let other_shop = shop(s).await;
    let (other, other_main) = (other_shop.id(), other_shop.main());
    let op = new_product(s, other, "Other movers").await;
    let x = new_variant(s, other, op, "X", 2).await.id;
    record(s, other, other_main, x, Purchase, 1000, early).await;
    record(s, other, other_main, x, Sale, -1000, from + day).await;

    MoversLedger {
        t,
        a,
        b,
        c,
        d,
        from,
        to,
    }
}

impl MoversLedger {
    /// `(variant, sku, Σ |quantity|, movements)` of each ranked row, in rank order.
    async fn ranked(
        &self,
        s: &Stores,
        kind: MovementKind,
        window: (DateTime<Utc>, DateTime<Utc>),
        limit: u32,
    ) -> Vec<(VariantId, String, i64, i64)> {
        s.reports
            .top_movers(&self.t, kind, window.0, window.1, limit)
            .await
            .expect("rank movers")
            .into_iter()
            .map(|r| (r.variant_id, r.sku, r.quantity, r.movements))
            .collect()
    }

    fn window(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.from, self.to)
    }
}

fn row(v: &Variant, quantity: i64, movements: i64) -> (VariantId, String, i64, i64) {
    (v.id, v.sku.as_str().to_owned(), quantity, movements)
}

pub async fn top_movers_rank_by_absolute_quantity_then_variant_id(s: Stores) {
    let l = movers_ledger(&s).await;
    // A and B tie at 7: the smaller variant id ranks first.
    let (first, second) = if l.a.id < l.b.id {
        (row(&l.a, 7, 2), row(&l.b, 7, 1))
    } else {
        (row(&l.b, 7, 1), row(&l.a, 7, 2))
    };
    let all = vec![
        row(&l.d, 10, 1),
        first.clone(),
        second.clone(),
        row(&l.c, 2, 1),
    ];
    assert_eq!(l.ranked(&s, Sale, l.window(), 10).await, all);
    assert_eq!(l.ranked(&s, Sale, l.window(), 4).await, all);
    assert_eq!(l.ranked(&s, Sale, l.window(), 2).await, all[..2].to_vec());
    assert_eq!(l.ranked(&s, Sale, l.window(), 3).await, all[..3].to_vec());
    assert_eq!(l.ranked(&s, Sale, l.window(), 0).await, vec![]);
}

pub async fn top_movers_count_only_the_kind_and_window_asked_for(s: Stores) {
    let l = movers_ledger(&s).await;
    assert_eq!(
        l.ranked(&s, Purchase, l.window(), 10).await,
        vec![row(&l.b, 3, 1)],
        "only the purchase made inside the window"
    );
    assert_eq!(
        l.ranked(&s, Adjustment, l.window(), 10).await,
        vec![row(&l.c, 25, 2)],
        "|−20| + |+5|"
    );
    assert_eq!(l.ranked(&s, Return, l.window(), 10).await, vec![]);

    // A window starting a day later drops A's first sale; one ending a millisecond later
    // takes in A's sale on the old upper edge.
    let day = Duration::days(1);
    assert_eq!(
        l.ranked(&s, Sale, (l.from + day, l.to), 10).await,
        vec![
            row(&l.d, 10, 1),
            row(&l.b, 7, 1),
            row(&l.a, 4, 1),
            row(&l.c, 2, 1)
        ]
    );
    assert_eq!(
        l.ranked(&s, Sale, (l.from, l.to + ms(1)), 1).await,
        vec![row(&l.a, 107, 3)]
    );
    assert_eq!(
        l.ranked(&s, Sale, (l.from - ms(1), l.from), 10).await,
        vec![row(&l.c, 50, 1)]
    );
}

pub async fn top_movers_leave_out_deleted_variants(s: Stores) {
    let l = movers_ledger(&s).await;
    assert_eq!(
        l.ranked(&s, Sale, l.window(), 1).await,
        vec![row(&l.d, 10, 1)]
    );
    s.variants
        .delete(&l.t, &l.d.id, None)
        .await
        .expect("D is sold out, so it may be deleted");

    // D is gone from the ranking, and the limit counts only the variants that remain.
    let ranked = l.ranked(&s, Sale, l.window(), 1).await;
    assert_eq!(ranked.len(), 1);
    assert!(ranked[0].0 == l.a.id || ranked[0].0 == l.b.id, "{ranked:?}");
    assert_eq!(ranked[0].2, 7);
    let everything = l.ranked(&s, Sale, l.window(), 10).await;
    assert_eq!(everything.len(), 3);
    assert!(everything.iter().all(|r| r.0 != l.d.id));
}
