//! Orders: written through the ledger, read back whole (with the location each line's units came
//! from), versioned, paged newest first.

use chrono::Duration;
use domain::ids::VariantId;
use domain::orders::models::Allocation;
use domain::orders::models::{OrderFilter, OrderStatus};
use domain::pagination::PageRequest;
use domain::stock::models::{DocumentWrite, LedgerError, MovementKind};
use domain::StoreError;

use crate::fixtures::*;
use crate::paging::{all_pages, assert_paged_in_order};
use crate::Stores;

pub async fn order_round_trips_through_the_ledger(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let a = stocked_variant(&s, t, main, &format!("A-{}", unique()), 5).await;
    let b = stocked_variant(&s, t, main, &format!("B-{}", unique()), 5).await;
    let mut placed = order(t, main, &[(b.id, 1), (a.id, 2)]);
    placed.location_id = Some(main);
    let mut write = changes(vec![
        change(a.id, main, MovementKind::Sale, -2),
        change(b.id, main, MovementKind::Sale, -1),
    ]);
    write.document = DocumentWrite::InsertOrder(placed.clone());
    s.ledger.commit(&t, write).await.unwrap();
    // Lines keep their order, customer and note survive, and so does the location asked for.
    assert_eq!(
        s.orders.get(&t, &placed.id).await.unwrap(),
        Some(placed.clone())
    );

    // An order allocated across locations: a line's allocations keep their order, quantities
    // and returns.
    let annex = new_location(&s, t, "ANNEX").await.id;
    let mut spread = order(t, main, &[(a.id, 3), (b.id, 1)]);
    spread.status = OrderStatus::PartiallyReturned;
    spread.lines[0].returned = 2;
    spread.lines[0].allocations = vec![
        Allocation {
            location_id: annex,
            quantity: 2,
            returned: 2,
        },
        Allocation {
            location_id: main,
            quantity: 1,
            returned: 0,
        },
    ];
    insert_order(&s, t, &spread).await;
    let read = s.orders.get(&t, &spread.id).await.unwrap();
    assert_eq!(read.as_ref().map(|o| o.location_id), Some(None));
    assert_eq!(read, Some(spread));

    let mut anonymous = order(t, main, &[(a.id, 1)]);
    anonymous.customer = None;
    anonymous.note = None;
    insert_order(&s, t, &anonymous).await;
    assert_eq!(
        s.orders.get(&t, &anonymous.id).await.unwrap(),
        Some(anonymous)
    );
}

pub async fn stale_order_update_is_a_version_conflict(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("A-{}", unique()), 2).await;
    let placed = order(t, main, &[(v.id, 2)]);
    let mut write = changes(vec![change(v.id, main, MovementKind::Sale, -2)]);
    write.document = DocumentWrite::InsertOrder(placed.clone());
    s.ledger.commit(&t, write).await.unwrap();

    // Fulfil then return one unit: version 1 → 2 → 3.
    let mut fulfilled = placed.clone();
    fulfilled.status = OrderStatus::Fulfilled;
    fulfilled.version = 2;
    fulfilled.updated_at = now() + Duration::seconds(1);
    s.ledger
        .commit(
            &t,
            document(DocumentWrite::UpdateOrder {
                order: fulfilled.clone(),
                expected_version: 1,
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        s.orders.get(&t, &placed.id).await.unwrap(),
        Some(fulfilled.clone())
    );

    let mut returned = fulfilled.clone();
    returned.status = OrderStatus::PartiallyReturned;
    returned.lines[0].returned = 1;
    returned.lines[0].allocations[0].returned = 1;
    returned.version = 3;
    let mut stale = changes(vec![change(v.id, main, MovementKind::Return, 1)]);
    stale.document = DocumentWrite::UpdateOrder {
        order: returned.clone(),
        expected_version: 1,
    };
    let refused = s.ledger.commit(&t, stale).await;
    assert!(
        matches!(
            refused,
            Err(LedgerError::Store(StoreError::VersionConflict))
        ),
        "{refused:?}"
    );
    // Neither the order nor the stock moved.
    assert_eq!(s.orders.get(&t, &placed.id).await.unwrap(), Some(fulfilled));
    assert_eq!(stock_of(&s, t, v.id).await, 0);

    let mut current = changes(vec![change(v.id, main, MovementKind::Return, 1)]);
    current.document = DocumentWrite::UpdateOrder {
        order: returned.clone(),
        expected_version: 2,
    };
    s.ledger.commit(&t, current).await.unwrap();
    assert_eq!(s.orders.get(&t, &placed.id).await.unwrap(), Some(returned));
    assert_eq!(stock_of(&s, t, v.id).await, 1);
}

pub async fn orders_page_newest_first(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let mut ids = Vec::new();
    for _ in 0..7 {
        let o = order(t, main, &[(VariantId::new(), 1)]);
        insert_order(&s, t, &o).await;
        ids.push(o.id);
    }
    ids.reverse();
    let pages = all_pages(3, |page| {
        let orders = s.orders.clone();
        async move { orders.list(&t, &OrderFilter::default(), &page).await }
    })
    .await;
    assert_paged_in_order(&pages, &ids, |o| o.id);
    assert!(pages.iter().flatten().all(|o| o.lines.len() == 1));
}

pub async fn order_list_filters_by_status_and_time(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let base = now() - Duration::days(3);
    let mut made = Vec::new();
    for (status, hours) in [
        (OrderStatus::Placed, 0),
        (OrderStatus::Fulfilled, 1),
        (OrderStatus::Placed, 2),
        (OrderStatus::Cancelled, 3),
    ] {
        let mut o = order(t, main, &[(VariantId::new(), 1)]);
        o.status = status;
        o.created_at = base + Duration::hours(hours);
        insert_order(&s, t, &o).await;
        made.push(o.id);
    }
    let list = |filter: OrderFilter| {
        let orders = s.orders.clone();
        async move {
            orders
                .list(&t, &filter, &PageRequest::first(50))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|o| o.id)
                .collect::<Vec<_>>()
        }
    };
    let placed = OrderFilter {
        status: Some(OrderStatus::Placed),
        ..Default::default()
    };
    assert_eq!(list(placed).await, vec![made[2], made[0]]);
    let window = OrderFilter {
        from: Some(base + Duration::hours(1)),
        to: Some(base + Duration::hours(3)),
        ..Default::default()
    };
    assert_eq!(list(window).await, vec![made[2], made[1]]);
    let placed_late = OrderFilter {
        status: Some(OrderStatus::Placed),
        from: Some(base + Duration::hours(1)),
        to: None,
    };
    assert_eq!(list(placed_late).await, vec![made[2]]);
}
