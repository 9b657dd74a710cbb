//! Stock at a past instant: Σ quantity of the variant's movements created at or before it.

use chrono::Duration;
use domain::ids::VariantId;
use domain::stock::models::MovementKind::{Adjustment, Purchase, Sale};

use super::ledger::*;
use crate::fixtures::stock_of;
use crate::Stores;

pub async fn stock_at_replays_movements_up_to_and_including_the_instant(s: Stores) {
    let ours = shop(&s).await;
    let (t, main) = (ours.id(), ours.main());
    let p = new_product(&s, t, "Replayed").await;
    let v = new_variant(&s, t, p, "V", 2).await.id;
    let w = new_variant(&s, t, p, "W", 2).await.id;
    let t1 = utc("2026-03-29T00:59:59.999Z");
    let t2 = utc("2026-03-29T01:00:00Z");
    let t3 = utc("2026-04-02T08:30:00Z");
    record(&s, t, main, v, Purchase, 10, t1).await;
    record(&s, t, main, v, Sale, -3, t2).await;
    record(&s, t, main, v, Adjustment, 2, t3).await;
    // Another variant's movements are not this one's.
    record(&s, t, main, w, Purchase, 40, t1).await;

    let at = |when| {
        let reports = s.reports.clone();
        async move {
            let total = reports.stock_at(&t, &v, when, None).await.expect("replay");
            assert!(
                total.unavailable.is_zero(),
                "no movement here moved a state"
            );
            // Every movement here is at the default location: its level replays the same.
            let level = reports.stock_at(&t, &v, when, Some(main)).await;
            assert_eq!(level.expect("replay the level"), total);
            total.on_hand
        }
    };
    assert_eq!(at(t1 - ms(1)).await, 0);
    assert_eq!(at(t1).await, 10, "a movement at the instant counts");
    assert_eq!(at(t2 - ms(1)).await, 10);
    assert_eq!(at(t2).await, 7);
    assert_eq!(at(t3 - ms(1)).await, 7);
    assert_eq!(at(t3).await, 9);
    let later = t3 + Duration::days(365);
    assert_eq!(at(later).await, 9);
    assert_eq!(at(later).await, stock_of(&s, t, v).await);

    // A variant without movements, or of no one, had nothing.
    let never = new_variant(&s, t, p, "NEVER", 2).await.id;
    assert_eq!(
        s.reports
            .stock_at(&t, &never, later, None)
            .await
            .unwrap()
            .on_hand,
        0
    );
    assert_eq!(
        s.reports
            .stock_at(&t, &VariantId::new(), later, None)
            .await
            .unwrap()
            .on_hand,
        0
    );
}
