//! Suppliers and purchase orders: round trips, versions, paging, filters and guarded deletes.

use chrono::Duration;
use domain::ids::{SupplierId, TenantId, VariantId};
use domain::pagination::PageRequest;
use domain::purchasing::models::{PurchaseOrderFilter, PurchaseOrderStatus as Po};
use domain::stock::models::{DocumentWrite, LedgerError, MovementKind};
use domain::StoreError;

use crate::fixtures::*;
use crate::paging::{all_pages, assert_paged_in_order};
use crate::Stores;

pub async fn supplier_round_trips_updates_and_deletes(s: Stores) {
    let t = TenantId::new();
    let mut sup = supplier(t, "Paper Co");
    s.suppliers.insert(&t, &sup, None).await.unwrap();
    assert_eq!(
        s.suppliers.get(&t, &sup.id).await.unwrap(),
        Some(sup.clone())
    );

    sup.name = text("Paper Company");
    sup.email = None;
    sup.phone = None;
    sup.lead_time_days = None;
    sup.updated_at = now() + Duration::seconds(2);
    s.suppliers.update(&t, &sup, None).await.unwrap();
    assert_eq!(
        s.suppliers.get(&t, &sup.id).await.unwrap(),
        Some(sup.clone())
    );

    let ghost = supplier(t, "Ghost");
    let missing = s.suppliers.update(&t, &ghost, None).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    s.suppliers.delete(&t, &sup.id, None).await.unwrap();
    assert_eq!(s.suppliers.get(&t, &sup.id).await.unwrap(), None);
    let again = s.suppliers.delete(&t, &sup.id, None).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
}

pub async fn suppliers_page_oldest_first(s: Stores) {
    let t = TenantId::new();
    let mut ids = Vec::new();
    for i in 0..7 {
        let sup = supplier(t, &format!("Supplier {i}"));
        s.suppliers.insert(&t, &sup, None).await.unwrap();
        ids.push(sup.id);
    }
    let pages = all_pages(3, |page| {
        let suppliers = s.suppliers.clone();
        async move { suppliers.list(&t, &page).await }
    })
    .await;
    assert_paged_in_order(&pages, &ids, |x| x.id);
}

pub async fn supplier_delete_is_refused_while_a_purchase_order_is_open(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    for status in Po::OPEN {
        let sup = supplier(t, "Busy supplier");
        s.suppliers.insert(&t, &sup, None).await.unwrap();
        let po = purchase_order(t, sup.id, main, status, &[(VariantId::new(), 3, 1)]);
        insert_purchase_order(&s, t, &po).await;
        let refused = s.suppliers.delete(&t, &sup.id, None).await;
        assert!(
            matches!(refused, Err(StoreError::InUse)),
            "{status:?}: {refused:?}"
        );
        assert!(s.suppliers.get(&t, &sup.id).await.unwrap().is_some());
    }
    for status in [Po::Received, Po::Cancelled, Po::Closed] {
        let sup = supplier(t, "Done supplier");
        s.suppliers.insert(&t, &sup, None).await.unwrap();
        let po = purchase_order(t, sup.id, main, status, &[(VariantId::new(), 3, 3)]);
        insert_purchase_order(&s, t, &po).await;
        s.suppliers.delete(&t, &sup.id, None).await.unwrap();
        assert_eq!(s.suppliers.get(&t, &sup.id).await.unwrap(), None);
    }
}

pub async fn purchase_order_round_trips_through_the_ledger(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let sup = supplier(t, "Glass Works");
    s.suppliers.insert(&t, &sup, None).await.unwrap();
    let lines = [(VariantId::new(), 10, 0), (VariantId::new(), 4, 0)];
    let po = purchase_order(t, sup.id, main, Po::Draft, &lines);
    insert_purchase_order(&s, t, &po).await;
    assert_eq!(
        s.purchase_orders.get(&t, &po.id).await.unwrap(),
        Some(po.clone())
    );

    // Bound for another location: the destination reads back as written.
    let annex = new_location(&s, t, "ANNEX").await.id;
    let elsewhere = purchase_order(t, sup.id, annex, Po::Ordered, &lines);
    insert_purchase_order(&s, t, &elsewhere).await;
    let read = s.purchase_orders.get(&t, &elsewhere.id).await.unwrap();
    assert_eq!(read.as_ref().map(|po| po.location_id), Some(annex));
    assert_eq!(read, Some(elsewhere));

    let mut undated = purchase_order(t, sup.id, main, Po::Draft, &lines[..1]);
    undated.expected_at = None;
    insert_purchase_order(&s, t, &undated).await;
    assert_eq!(
        s.purchase_orders.get(&t, &undated.id).await.unwrap(),
        Some(undated)
    );
}

pub async fn stale_purchase_order_update_is_a_version_conflict(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("JAR-{}", unique()), 0).await;
    let sup = supplier(t, "Jar Makers");
    s.suppliers.insert(&t, &sup, None).await.unwrap();
    let po = purchase_order(t, sup.id, main, Po::Ordered, &[(v.id, 10, 0)]);
    insert_purchase_order(&s, t, &po).await;

    // Receive 4 units: stock and the purchase order change together.
    let mut partly = po.clone();
    partly.status = Po::PartiallyReceived;
    partly.lines[0].received = 4;
    partly.version = 2;
    partly.updated_at = now() + Duration::seconds(1);
    let mut receipt = changes(vec![change(v.id, main, MovementKind::Purchase, 4)]);
    receipt.document = DocumentWrite::UpdatePurchaseOrder {
        purchase_order: partly.clone(),
        expected_version: 1,
    };
    s.ledger.commit(&t, receipt).await.unwrap();
    assert_eq!(
        s.purchase_orders.get(&t, &po.id).await.unwrap(),
        Some(partly.clone())
    );
    assert_eq!(stock_of(&s, t, v.id).await, 4);

    // A second receipt computed from version 1 is refused whole.
    let mut stale = changes(vec![change(v.id, main, MovementKind::Purchase, 4)]);
    stale.document = DocumentWrite::UpdatePurchaseOrder {
        purchase_order: partly.clone(),
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
    assert_eq!(
        s.purchase_orders.get(&t, &po.id).await.unwrap(),
        Some(partly)
    );
    assert_eq!(stock_of(&s, t, v.id).await, 4);
    assert_eq!(movement_count(&s, t, v.id).await, 1);
}

pub async fn purchase_orders_page_newest_first(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let sup = SupplierId::new();
    let mut ids = Vec::new();
    for _ in 0..7 {
        let po = purchase_order(t, sup, main, Po::Draft, &[(VariantId::new(), 1, 0)]);
        insert_purchase_order(&s, t, &po).await;
        ids.push(po.id);
    }
    ids.reverse();
    let pages = all_pages(3, |page| {
        let pos = s.purchase_orders.clone();
        async move { pos.list(&t, &PurchaseOrderFilter::default(), &page).await }
    })
    .await;
    assert_paged_in_order(&pages, &ids, |po| po.id);
    assert!(pages.iter().flatten().all(|po| po.lines.len() == 1));
}

pub async fn purchase_order_list_filters_by_status_and_supplier(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let (x, y) = (SupplierId::new(), SupplierId::new());
    let mut made = Vec::new();
    for (sup, status) in [
        (x, Po::Draft),
        (x, Po::Ordered),
        (y, Po::Ordered),
        (y, Po::Received),
    ] {
        let po = purchase_order(t, sup, main, status, &[(VariantId::new(), 2, 0)]);
        insert_purchase_order(&s, t, &po).await;
        made.push(po.id);
    }
    let list = |filter: PurchaseOrderFilter| {
        let pos = s.purchase_orders.clone();
        async move {
            pos.list(&t, &filter, &PageRequest::first(50))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|po| po.id)
                .collect::<Vec<_>>()
        }
    };
    let ordered = PurchaseOrderFilter {
        status: Some(Po::Ordered),
        supplier_id: None,
    };
    assert_eq!(list(ordered).await, vec![made[2], made[1]]);
    let from_y = PurchaseOrderFilter {
        status: None,
        supplier_id: Some(y),
    };
    assert_eq!(list(from_y).await, vec![made[3], made[2]]);
    let ordered_from_x = PurchaseOrderFilter {
        status: Some(Po::Ordered),
        supplier_id: Some(x),
    };
    assert_eq!(list(ordered_from_x).await, vec![made[1]]);
}
