//! The ledger: conditional changes, all-or-nothing writes, movements and the audit.

use chrono::Duration;
use domain::ids::{OrderId, UserId, VariantId};
use domain::orders::models::Order;
use domain::pagination::PageRequest;
use domain::stock::models::{
    Committed, DocumentWrite, LedgerError, Level, MovementFilter, MovementKind, StockChange,
};

use crate::fixtures::*;
use crate::paging::{all_pages, assert_paged_in_order};
use crate::Stores;

pub async fn commit_applies_a_change_and_reports_it(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("KETTLE-{}", unique()), 5).await;
    let mut sale = change(v.id, main, MovementKind::Sale, -3);
    sale.reason = Some("counter sale".into());
    sale.order_id = Some(OrderId::new());
    let committed = s
        .ledger
        .commit(&t, changes(vec![sale.clone()]))
        .await
        .unwrap();

    assert_eq!(committed.applied.len(), 1);
    let applied = &committed.applied[0];
    assert_eq!(applied.sku, v.sku);
    assert_eq!(applied.reorder_level, v.reorder_level.get());
    assert_eq!(applied.stock_before(), 5);
    assert_eq!(applied.total(), 2);
    let m = applied.moved();
    assert_eq!(m.id, sale.movement_id);
    assert_eq!(m.tenant_id, t);
    assert_eq!(m.variant_id, v.id);
    assert_eq!(m.location_id, main);
    assert_eq!(m.kind, MovementKind::Sale);
    assert_eq!(m.quantity, -3);
    assert_eq!(m.stock_after, 2);
    assert_eq!(m.reason.as_deref(), Some("counter sale"));
    assert_eq!(m.order_id, sale.order_id);
    assert_eq!((m.purchase_order_id, m.transfer_id), (None, None));
    assert_eq!(m.actor, sale.actor);
    assert_eq!(m.created_at, sale.at);
    assert_eq!(stock_of(&s, t, v.id).await, 2);
    assert_eq!(levels_of(&s, t, v.id).await, vec![(main, 2, 0)]);
    let after = s.variants.get(&t, &v.id).await.unwrap().unwrap();
    assert_eq!(
        after.updated_at, v.updated_at,
        "a stock change leaves the catalog record as it was: its time is the movement's"
    );

    // The movement reads back exactly as reported, newest first.
    let listed = s
        .ledger
        .list_movements(&t, &MovementFilter::default(), &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(listed.items.first(), Some(m));
    assert_eq!(listed.items.len(), 2);

    // A PURCHASE keeps its unit cost for valuation.
    let mut purchase = change(v.id, main, MovementKind::Purchase, 10);
    purchase.unit_cost = Some(money(275));
    let committed = s.ledger.commit(&t, changes(vec![purchase])).await.unwrap();
    assert_eq!(committed.applied[0].moved().stock_after, 12);
    assert_eq!(committed.applied[0].stock_before(), 2);
    assert_eq!(committed.applied[0].total(), 12);
    let listed = s
        .ledger
        .list_movements(&t, &MovementFilter::default(), &PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(listed.items[0].unit_cost, Some(money(275)));
}

pub async fn decrement_is_refused_below_zero(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("VASE-{}", unique()), 5).await;
    s.ledger
        .commit(
            &t,
            changes(vec![change(v.id, main, MovementKind::Sale, -3)]),
        )
        .await
        .unwrap();
    let refused = s
        .ledger
        .commit(
            &t,
            changes(vec![change(v.id, main, MovementKind::Sale, -3)]),
        )
        .await;
    match refused {
        Err(LedgerError::Insufficient(short)) => {
            assert_eq!(short.len(), 1);
            assert_eq!(short[0].variant_id, v.id);
            assert_eq!((short[0].requested, short[0].available), (3, 2));
        }
        other => panic!("expected Insufficient, got {other:?}"),
    }
    assert_eq!(stock_of(&s, t, v.id).await, 2);
    assert_eq!(movement_count(&s, t, v.id).await, 2);

    // Exactly down to zero is allowed.
    let done = s
        .ledger
        .commit(
            &t,
            changes(vec![change(v.id, main, MovementKind::Sale, -2)]),
        )
        .await
        .unwrap();
    assert_eq!(done.applied[0].moved().stock_after, 0);
}

pub async fn multi_line_commit_is_all_or_nothing(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let a = stocked_variant(&s, t, main, &format!("A-{}", unique()), 5).await;
    let b = stocked_variant(&s, t, main, &format!("B-{}", unique()), 1).await;
    let order = order(t, main, &[(a.id, 2), (b.id, 3)]);
    let mut write = changes(vec![
        change(a.id, main, MovementKind::Sale, -2),
        change(b.id, main, MovementKind::Sale, -3),
    ]);
    write.document = DocumentWrite::InsertOrder(order.clone());

    match s.ledger.commit(&t, write).await {
        Err(LedgerError::Insufficient(short)) => {
            assert_eq!(short.len(), 1, "{short:?}");
            assert_eq!(short[0].variant_id, b.id);
            assert_eq!((short[0].requested, short[0].available), (3, 1));
        }
        other => panic!("expected Insufficient, got {other:?}"),
    }
    // The line that could be served was not served either, and the order does not exist.
    assert_eq!(stock_of(&s, t, a.id).await, 5);
    assert_eq!(stock_of(&s, t, b.id).await, 1);
    assert_eq!(movement_count(&s, t, a.id).await, 1);
    assert_eq!(movement_count(&s, t, b.id).await, 1);
    assert_eq!(s.orders.get(&t, &order.id).await.unwrap(), None);

    // Both lines served: both applied, in the order of the changes.
    let mut write = changes(vec![
        change(a.id, main, MovementKind::Sale, -2),
        change(b.id, main, MovementKind::Sale, -1),
    ]);
    write.document = DocumentWrite::InsertOrder(order.clone());
    let committed = s.ledger.commit(&t, write).await.unwrap();
    let after: Vec<(VariantId, i64)> = committed
        .applied
        .iter()
        .map(|x| (x.moved().variant_id, x.moved().stock_after))
        .collect();
    assert_eq!(after, vec![(a.id, 3), (b.id, 0)]);
    assert!(s.orders.get(&t, &order.id).await.unwrap().is_some());
}

pub async fn every_short_line_is_listed(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let a = stocked_variant(&s, t, main, &format!("A-{}", unique()), 5).await;
    let b = stocked_variant(&s, t, main, &format!("B-{}", unique()), 1).await;
    let c = stocked_variant(&s, t, main, &format!("C-{}", unique()), 0).await;
    let mut ids = [a.id, b.id, c.id];
    ids.sort();
    let wanted = |id: VariantId| {
        if id == a.id {
            -2
        } else if id == b.id {
            -3
        } else {
            -1
        }
    };
    let write = changes(
        ids.iter()
            .map(|id| change(*id, main, MovementKind::Sale, wanted(*id)))
            .collect(),
    );
    match s.ledger.commit(&t, write).await {
        Err(LedgerError::Insufficient(mut short)) => {
            short.sort_by_key(|x| x.variant_id);
            let mut expected = vec![(b.id, 3, 1), (c.id, 1, 0)];
            expected.sort();
            let got: Vec<_> = short
                .iter()
                .map(|x| (x.variant_id, x.requested, x.available))
                .collect();
            assert_eq!(got, expected);
        }
        other => panic!("expected Insufficient, got {other:?}"),
    }
    assert_eq!(stock_of(&s, t, a.id).await, 5);
    assert_eq!(movement_count(&s, t, a.id).await, 1);
}

pub async fn stock_mismatch_writes_nothing(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("RUG-{}", unique()), 7).await;
    let mut adjust = change(v.id, main, MovementKind::Adjustment, -2);
    adjust.expected_stock = Some(6);
    match s.ledger.commit(&t, changes(vec![adjust.clone()])).await {
        Err(LedgerError::StockMismatch {
            variant_id,
            location_id,
            expected,
            actual,
        }) => assert_eq!(
            (variant_id, location_id, expected, actual),
            (v.id, main, 6, 7)
        ),
        other => panic!("expected StockMismatch, got {other:?}"),
    }
    assert_eq!(stock_of(&s, t, v.id).await, 7);
    assert_eq!(movement_count(&s, t, v.id).await, 1);

    adjust.expected_stock = Some(7);
    let done = s.ledger.commit(&t, changes(vec![adjust])).await.unwrap();
    assert_eq!(done.applied[0].moved().stock_after, 5);
}

pub async fn unknown_variant_writes_nothing(s: Stores) {
    let (shop, theirs) = (shop(&s).await, shop(&s).await);
    let (t, main, other) = (shop.id(), shop.main(), theirs.id());
    let v = stocked_variant(&s, t, main, &format!("OWL-{}", unique()), 3).await;
    let foreign = stocked_variant(&s, other, theirs.main(), &format!("OWL-{}", unique()), 3).await;
    for missing in [VariantId::new(), foreign.id] {
        let mut ids = [v.id, missing];
        ids.sort();
        let write = changes(
            ids.iter()
                .map(|id| change(*id, main, MovementKind::Sale, -1))
                .collect(),
        );
        match s.ledger.commit(&t, write).await {
            Err(LedgerError::VariantMissing(id)) => assert_eq!(id, missing),
            other => panic!("expected VariantMissing, got {other:?}"),
        }
    }
    assert_eq!(stock_of(&s, t, v.id).await, 3);
    assert_eq!(stock_of(&s, other, foreign.id).await, 3);
    assert_eq!(movement_count(&s, t, v.id).await, 1);
}

pub async fn movements_page_newest_first(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("CUP-{}", unique()), 0).await;
    let mut ids = Vec::new();
    for _ in 0..7 {
        let c = change(v.id, main, MovementKind::Purchase, 1);
        ids.push(c.movement_id);
        s.ledger.commit(&t, changes(vec![c])).await.unwrap();
    }
    ids.reverse();
    let pages = all_pages(3, |page| {
        let ledger = s.ledger.clone();
        async move {
            ledger
                .list_movements(&t, &MovementFilter::default(), &page)
                .await
        }
    })
    .await;
    assert_paged_in_order(&pages, &ids, |m| m.id);
    let stocks: Vec<i64> = pages.iter().flatten().map(|m| m.stock_after).collect();
    assert_eq!(stocks, vec![7, 6, 5, 4, 3, 2, 1]);
}

pub async fn movement_list_filters_by_variant_kind_and_time(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let a = stocked_variant(&s, t, main, &format!("A-{}", unique()), 0).await;
    let b = stocked_variant(&s, t, main, &format!("B-{}", unique()), 0).await;
    let base = now() - Duration::hours(10);
    // a: PURCHASE at base, SALE at base+1h, RETURN at base+2h; b: PURCHASE at base+3h.
    let mut made = Vec::new();
    for (variant, kind, delta, hours) in [
        (a.id, MovementKind::Purchase, 5, 0),
        (a.id, MovementKind::Sale, -1, 1),
        (a.id, MovementKind::Return, 1, 2),
        (b.id, MovementKind::Purchase, 4, 3),
    ] {
        let mut c = change(variant, main, kind, delta);
        c.at = base + Duration::hours(hours);
        made.push(c.movement_id);
        s.ledger.commit(&t, changes(vec![c])).await.unwrap();
    }
    let list = |filter: MovementFilter| {
        let ledger = s.ledger.clone();
        async move {
            ledger
                .list_movements(&t, &filter, &PageRequest::first(50))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|m| m.id)
                .collect::<Vec<_>>()
        }
    };
    let for_a = MovementFilter {
        variant_id: Some(a.id),
        ..Default::default()
    };
    assert_eq!(list(for_a).await, vec![made[2], made[1], made[0]]);
    let purchases = MovementFilter {
        kind: Some(MovementKind::Purchase),
        ..Default::default()
    };
    assert_eq!(list(purchases).await, vec![made[3], made[0]]);
    // `from` is inclusive and `to` exclusive.
    let window = MovementFilter {
        from: Some(base + Duration::hours(1)),
        to: Some(base + Duration::hours(3)),
        ..Default::default()
    };
    assert_eq!(list(window).await, vec![made[2], made[1]]);
    let a_sales_in_window = MovementFilter {
        variant_id: Some(a.id),
        kind: Some(MovementKind::Sale),
        from: Some(base),
        to: Some(base + Duration::hours(2)),
        location_id: Some(main),
    };
    assert_eq!(list(a_sales_in_window).await, vec![made[1]]);
}

pub async fn audit_is_clean_after_consistent_writes(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let empty = s.ledger.audit(&t).await.unwrap();
    assert_eq!(
        (
            empty.variants_checked,
            empty.levels_checked,
            empty.drift.len()
        ),
        (0, 0, 0)
    );

    let a = stocked_variant(&s, t, main, &format!("A-{}", unique()), 9).await;
    let b = stocked_variant(&s, t, main, &format!("B-{}", unique()), 4).await;
    stocked_variant(&s, t, main, &format!("C-{}", unique()), 0).await;
    s.ledger
        .commit(
            &t,
            changes(vec![
                change(a.id, main, MovementKind::Sale, -9),
                change(b.id, main, MovementKind::Adjustment, 3),
            ]),
        )
        .await
        .unwrap();
    let report = s.ledger.audit(&t).await.unwrap();
    // C never moved, so it has no level to check.
    assert_eq!((report.variants_checked, report.levels_checked), (3, 2));
    assert!(report.drift.is_empty(), "{:?}", report.drift);
}

pub async fn ping_answers(s: Stores) {
    s.ledger.ping().await.unwrap();
}

pub async fn a_batch_applies_each_write_on_its_own(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("LAMP-{}", unique()), 3).await;
    let first = order(t, main, &[(v.id, 2)]);
    let refused = order(t, main, &[(v.id, 2)]);
    let last = order(t, main, &[(v.id, 1)]);
    let sale = |o: &Order, units: i64, key: &str| {
        let commit = StockChange::commit(Level::new(v.id, main), units, o.id, UserId::new(), now());
        let mut write = changes(vec![commit]);
        write.document = DocumentWrite::InsertOrder(o.clone());
        write.idempotency = Some(ledger_key(key, "fingerprint", now()));
        write
    };
    let results = s
        .ledger
        .commit_batch(
            &t,
            vec![
                sale(&first, 2, "batch-1"),
                // Only 1 unit is left after the first write: refused, and undone entirely.
                sale(&refused, 2, "batch-2"),
                // The same key as the first write: refused as taken.
                sale(&last, 1, "batch-1"),
                sale(&last, 1, "batch-3"),
            ],
        )
        .await
        .expect("the batch commits");

    assert_eq!(results.len(), 4);
    let stock_after = |r: &Result<Committed, LedgerError>| match r {
        Ok(committed) => committed.applied[0].after.available(),
        Err(e) => panic!("expected a commit, got {e:?}"),
    };
    assert_eq!(stock_after(&results[0]), 1);
    match &results[1] {
        Err(LedgerError::Insufficient(short)) => {
            assert_eq!((short[0].requested, short[0].available), (2, 1));
        }
        other => panic!("expected Insufficient, got {other:?}"),
    }
    assert!(
        matches!(
            &results[2],
            Err(LedgerError::Store(domain::StoreError::IdempotencyKeyTaken))
        ),
        "{:?}",
        results[2]
    );
    assert_eq!(stock_after(&results[3]), 0);

    assert_eq!(stock_of(&s, t, v.id).await, 0);
    assert_eq!(
        movement_count(&s, t, v.id).await,
        1,
        "the stock-in alone: orders commit units without moving them"
    );
    assert!(s.orders.get(&t, &first.id).await.unwrap().is_some());
    assert_eq!(s.orders.get(&t, &refused.id).await.unwrap(), None);
    assert!(s.orders.get(&t, &last.id).await.unwrap().is_some());
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{audit:?}");
}
