//! Reports asked about one location: the movement series, the valuation and the replayed stock
//! count that location's movements and levels only — except the purchase totals of the
//! valuation, which stay every location's so a unit is worth the same wherever it is.

use domain::ids::{LocationId, TenantId, VariantId};
use domain::reports::models::{SeriesFilter, ValuationRow};
use domain::stock::models::MovementKind::{Sale, TransferIn, TransferOut};

use super::ledger::*;
use crate::Stores;

/// A tenant with a default location and an annex, and variants V and W moved at both.
struct TwoSites {
    t: TenantId,
    main: LocationId,
    annex: LocationId,
    v: domain::catalog::models::Variant,
    w: domain::catalog::models::Variant,
}

async fn two_sites(s: &Stores) -> TwoSites {
    let ours = shop(s).await;
    let (t, main) = (ours.id(), ours.main());
    let annex = new_location(s, t, "ANNEX").await.id;
    let p = new_product(s, t, "Two sites").await;
    let v = new_variant(s, t, p, "V", 2).await;
    let w = new_variant(s, t, p, "W", 2).await;
    let at = |hms: &str| utc(&format!("2026-03-02T{hms}Z"));

    // V: 2 at 100 and 1 at 103 bought at the default location, 3 at 106 at the annex (an
    // average of 103.5 over all six); 1 sold and 1 moved from the default location to the annex.
    purchase(s, t, main, v.id, 2, Some(100), at("09:00:00")).await;
    purchase(s, t, main, v.id, 1, Some(103), at("09:30:00")).await;
    purchase(s, t, annex, v.id, 3, Some(106), at("10:00:00")).await;
    record(s, t, main, v.id, Sale, -1, at("10:30:00")).await;
    record(s, t, main, v.id, TransferOut, -1, at("11:00:00")).await;
    record(s, t, annex, v.id, TransferIn, 1, at("11:30:00")).await;
    record(s, t, annex, v.id, Sale, -2, at("12:00:00")).await;
    // W: bought at the annex only.
    purchase(s, t, annex, w.id, 5, Some(50), at("10:15:00")).await;

    TwoSites {
        t,
        main,
        annex,
        v,
        w,
    }
}

pub async fn series_filters_by_location(s: Stores) {
    let l = two_sites(&s).await;
    let edges = [
        utc("2026-03-02T09:00:00Z"),
        utc("2026-03-02T11:00:00Z"),
        utc("2026-03-02T13:00:00Z"),
    ];
    let rows = |location: Option<LocationId>, variant: Option<VariantId>| {
        let reports = s.reports.clone();
        let filter = SeriesFilter {
            variant_id: variant,
            product_id: None,
            location_id: location,
        };
        async move {
            bucket_rows(
                reports
                    .movement_buckets(&l.t, &edges, &filter)
                    .await
                    .expect("aggregate movements"),
            )
        }
    };
    assert_eq!(
        rows(Some(l.main), None).await,
        sorted(vec![
            (0, "PURCHASE", 2, 3),
            (0, "SALE", 1, -1),
            (1, "TRANSFER_OUT", 1, -1),
        ])
    );
    assert_eq!(
        rows(Some(l.annex), None).await,
        sorted(vec![
            (0, "PURCHASE", 2, 8),
            (1, "TRANSFER_IN", 1, 1),
            (1, "SALE", 1, -2),
        ])
    );
    assert_eq!(
        rows(Some(l.annex), Some(l.v.id)).await,
        sorted(vec![
            (0, "PURCHASE", 1, 3),
            (1, "TRANSFER_IN", 1, 1),
            (1, "SALE", 1, -2),
        ])
    );
    assert_eq!(rows(Some(l.main), Some(l.w.id)).await, vec![]);
    // Every location together is what no location filter counts.
    assert_eq!(
        rows(None, None).await,
        sorted(vec![
            (0, "PURCHASE", 4, 11),
            (0, "SALE", 1, -1),
            (1, "TRANSFER_OUT", 1, -1),
            (1, "TRANSFER_IN", 1, 1),
            (1, "SALE", 1, -2),
        ])
    );
    // A location with no movement (or of no one) counts nothing.
    let empty = new_location(&s, l.t, "EMPTY").await.id;
    assert_eq!(rows(Some(empty), None).await, vec![]);
    assert_eq!(rows(Some(LocationId::new()), None).await, vec![]);
}

pub async fn valuation_at_a_location_values_its_level_at_the_average_of_all(s: Stores) {
    let l = two_sites(&s).await;
    let row = |v: &domain::catalog::models::Variant, stock, units, cost| ValuationRow {
        variant_id: v.id,
        sku: v.sku.as_str().to_owned(),
        stock,
        purchased_units: units,
        purchased_cost: cost,
    };
    // V: 1 left at the default location, 2 at the annex; its purchases are every location's.
    let v_cost = 2 * 100 + 103 + 3 * 106;
    let valued = |at| {
        let reports = s.reports.clone();
        async move { reports.valuation(&l.t, at).await.expect("valuation") }
    };
    let by_id = |mut rows: Vec<ValuationRow>| {
        rows.sort_by_key(|r| r.variant_id);
        rows
    };
    assert_eq!(
        valued(Some(l.main)).await,
        by_id(vec![row(&l.v, 1, 6, v_cost), row(&l.w, 0, 5, 250)]),
        "W has no level at the default location: stock 0, still listed"
    );
    assert_eq!(
        valued(Some(l.annex)).await,
        by_id(vec![row(&l.v, 2, 6, v_cost), row(&l.w, 5, 5, 250)])
    );
    assert_eq!(
        valued(None).await,
        by_id(vec![row(&l.v, 3, 6, v_cost), row(&l.w, 5, 5, 250)])
    );
}

pub async fn stock_at_a_location_replays_that_levels_movements(s: Stores) {
    let l = two_sites(&s).await;
    let at = |hms: &str| utc(&format!("2026-03-02T{hms}Z"));
    let replay = |location, when| {
        let reports = s.reports.clone();
        let v = l.v.id;
        async move {
            reports
                .stock_at(&l.t, &v, when, location)
                .await
                .expect("replay stock")
                .on_hand
        }
    };
    let (main, annex) = (Some(l.main), Some(l.annex));
    assert_eq!(replay(main, at("09:59:59.999")).await, 3);
    assert_eq!(replay(annex, at("09:59:59.999")).await, 0);
    assert_eq!(replay(annex, at("10:00:00")).await, 3);
    assert_eq!(replay(None, at("10:00:00")).await, 6);
    // In transit at 11:15: out of the default location, not yet at the annex.
    assert_eq!(replay(main, at("11:15:00")).await, 1);
    assert_eq!(replay(annex, at("11:15:00")).await, 3);
    assert_eq!(replay(None, at("11:15:00")).await, 4);
    assert_eq!(replay(annex, at("12:00:00")).await, 2);
    assert_eq!(replay(None, at("23:00:00")).await, 3);
    // A location the variant never had stock at had nothing.
    let empty = new_location(&s, l.t, "EMPTY").await.id;
    assert_eq!(replay(Some(empty), at("23:00:00")).await, 0);
}
