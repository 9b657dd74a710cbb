//! Products and variants: round trips, uniqueness, paging, filters, `incoming` and deletes.

use domain::catalog::models::VariantFilter;
use domain::ids::{ProductId, TenantId, VariantId};
use domain::pagination::PageRequest;
use domain::purchasing::models::PurchaseOrderStatus as Po;
use domain::stock::models::{DocumentWrite, MovementKind};
use domain::values::StockLevel;
use domain::StoreError;

use crate::fixtures::*;
use crate::paging::{all_pages, assert_paged_in_order};
use crate::Stores;

pub async fn product_round_trips_updates_and_deletes(s: Stores) {
    let t = TenantId::new();
    let mut p = product(t, "Tee shirt");
    s.products.insert(&t, &p, None).await.unwrap();
    assert_eq!(s.products.get(&t, &p.id).await.unwrap(), Some(p.clone()));

    p.name = text("Long-sleeve tee");
    p.description = None;
    p.updated_at = now() + chrono::Duration::seconds(3);
    s.products.update(&t, &p, None).await.unwrap();
    assert_eq!(s.products.get(&t, &p.id).await.unwrap(), Some(p.clone()));

    let ghost = product(t, "Ghost");
    let missing = s.products.update(&t, &ghost, None).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    assert_eq!(s.products.get(&t, &ghost.id).await.unwrap(), None);

    s.products.delete(&t, &p.id, None).await.unwrap();
    assert_eq!(s.products.get(&t, &p.id).await.unwrap(), None);
    let again = s.products.delete(&t, &p.id, None).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
}

pub async fn products_page_oldest_first(s: Stores) {
    let t = TenantId::new();
    let mut ids = Vec::new();
    for i in 0..7 {
        let p = product(t, &format!("Product {i}"));
        s.products.insert(&t, &p, None).await.unwrap();
        ids.push(p.id);
    }
    let pages = all_pages(3, |page| {
        let products = s.products.clone();
        async move { products.list(&t, &page).await }
    })
    .await;
    assert_paged_in_order(&pages, &ids, |p| p.id);
}

pub async fn product_delete_is_refused_while_a_variant_holds_stock(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let p = product(t, "Mugs");
    s.products.insert(&t, &p, None).await.unwrap();
    let empty = variant_of(&s, t, p.id, main, &format!("MUG-{}", unique()), 0).await;
    let stocked = variant_of(&s, t, p.id, main, &format!("MUG-{}", unique()), 4).await;

    let refused = s.products.delete(&t, &p.id, None).await;
    assert!(matches!(refused, Err(StoreError::InUse)), "{refused:?}");
    assert!(s.products.get(&t, &p.id).await.unwrap().is_some());
    assert!(s.variants.get(&t, &empty.id).await.unwrap().is_some());
    assert!(s.variants.get(&t, &stocked.id).await.unwrap().is_some());

    s.ledger
        .commit(
            &t,
            changes(vec![change(stocked.id, main, MovementKind::Adjustment, -4)]),
        )
        .await
        .unwrap();
    s.products.delete(&t, &p.id, None).await.unwrap();
    assert_eq!(s.products.get(&t, &p.id).await.unwrap(), None);
    assert_eq!(s.variants.get(&t, &empty.id).await.unwrap(), None);
    assert_eq!(s.variants.get(&t, &stocked.id).await.unwrap(), None);
    // The ledger keeps the history of deleted variants.
    assert_eq!(movement_count(&s, t, stocked.id).await, 2);
}

pub async fn variant_round_trips_with_stock_zero_and_updates_without_stock(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let p = product(t, "Caps");
    let other = product(t, "Hats");
    s.products.insert(&t, &p, None).await.unwrap();
    s.products.insert(&t, &other, None).await.unwrap();

    let mut v = variant(t, p.id, &format!("CAP-{}", unique()));
    v.stock = 40; // ignored: a variant is created with stock 0
    v.incoming = 9; // ignored: computed by the store
    s.variants.insert(&t, &v, None).await.unwrap();
    let stored = s.variants.get(&t, &v.id).await.unwrap().unwrap();
    assert_eq!(stored.stock, 0);
    assert_eq!(stored.incoming, 0);
    v.stock = 0;
    v.incoming = 0;
    assert_eq!(stored, v);

    s.ledger
        .commit(
            &t,
            changes(vec![change(v.id, main, MovementKind::Purchase, 6)]),
        )
        .await
        .unwrap();
    v.product_id = other.id;
    v.sku = sku(&format!("HAT-{}", unique()));
    v.price = money(2500);
    v.reorder_level = StockLevel::new(3).unwrap();
    v.stock = 999; // never written by an update
    v.updated_at = now() + chrono::Duration::seconds(4);
    s.variants.update(&t, &v, None).await.unwrap();
    let updated = s.variants.get(&t, &v.id).await.unwrap().unwrap();
    assert_eq!(updated.stock, 6);
    assert_eq!(updated.product_id, other.id);
    assert_eq!(updated.sku, v.sku);
    assert_eq!(updated.price, v.price);
    assert_eq!(updated.reorder_level, v.reorder_level);
    assert_eq!(updated.attributes, v.attributes);
    assert_eq!(updated.updated_at, v.updated_at);

    let ghost = variant(t, p.id, &format!("GHOST-{}", unique()));
    let missing = s.variants.update(&t, &ghost, None).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    let many = s
        .variants
        .get_many(&t, &[v.id, ghost.id, VariantId::new()])
        .await
        .unwrap();
    assert_eq!(many.iter().map(|x| x.id).collect::<Vec<_>>(), vec![v.id]);
    assert!(s.variants.get_many(&t, &[]).await.unwrap().is_empty());
}

pub async fn variant_sku_is_unique_per_tenant(s: Stores) {
    let (shop_a, shop_b) = (shop(&s).await, shop(&s).await);
    let (a, b) = (shop_a.id(), shop_b.id());
    let code = format!("SKU-{}", unique());
    let first = stocked_variant(&s, a, shop_a.main(), &code, 0).await;

    let twin = variant(a, first.product_id, &code);
    let refused = s.variants.insert(&a, &twin, None).await;
    assert!(matches!(refused, Err(StoreError::Duplicate)), "{refused:?}");
    assert_eq!(s.variants.get(&a, &twin.id).await.unwrap(), None);

    // The same SKU in another tenant is a different variant.
    let elsewhere = stocked_variant(&s, b, shop_b.main(), &code, 0).await;
    assert_eq!(elsewhere.sku, first.sku);

    // Renaming a variant onto a taken SKU is refused; keeping its own SKU is not.
    let mut second = stocked_variant(&s, a, shop_a.main(), &format!("SKU-{}", unique()), 0).await;
    let own = second.sku.clone();
    second.sku = first.sku.clone();
    let refused = s.variants.update(&a, &second, None).await;
    assert!(matches!(refused, Err(StoreError::Duplicate)), "{refused:?}");
    assert_eq!(
        s.variants.get(&a, &second.id).await.unwrap().unwrap().sku,
        own
    );
    second.sku = own;
    second.price = money(1);
    s.variants.update(&a, &second, None).await.unwrap();
}

pub async fn variants_page_oldest_first(s: Stores) {
    let t = TenantId::new();
    let p = product(t, "Socks");
    s.products.insert(&t, &p, None).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..7 {
        let v = variant(t, p.id, &format!("SOCK-{}", unique()));
        s.variants.insert(&t, &v, None).await.unwrap();
        ids.push(v.id);
    }
    let pages = all_pages(3, |page| {
        let variants = s.variants.clone();
        async move { variants.list(&t, &VariantFilter::default(), &page).await }
    })
    .await;
    assert_paged_in_order(&pages, &ids, |v| v.id);
}

pub async fn variant_list_filters_by_product_sku_and_low_stock(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let (p, q) = (product(t, "Pens"), product(t, "Pencils"));
    s.products.insert(&t, &p, None).await.unwrap();
    s.products.insert(&t, &q, None).await.unwrap();
    // Reorder level is 2: stock 2 and 0 are low, 3 is not.
    let at_level = variant_of(&s, t, p.id, main, &format!("PEN-{}", unique()), 2).await;
    let above = variant_of(&s, t, p.id, main, &format!("PEN-{}", unique()), 3).await;
    let empty = variant_of(&s, t, q.id, main, &format!("PENCIL-{}", unique()), 0).await;

    let list = |filter: VariantFilter| {
        let variants = s.variants.clone();
        async move {
            variants
                .list(&t, &filter, &PageRequest::first(50))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|v| v.id)
                .collect::<Vec<_>>()
        }
    };
    let by_product = |id: ProductId| VariantFilter {
        product_id: Some(id),
        ..Default::default()
    };
    assert_eq!(list(by_product(p.id)).await, vec![at_level.id, above.id]);
    assert_eq!(list(by_product(q.id)).await, vec![empty.id]);
    let by_sku = VariantFilter {
        sku: Some(above.sku.clone()),
        ..Default::default()
    };
    assert_eq!(list(by_sku).await, vec![above.id]);
    let low = VariantFilter {
        low_stock: true,
        ..Default::default()
    };
    assert_eq!(list(low).await, vec![at_level.id, empty.id]);
    let low_pens = VariantFilter {
        product_id: Some(p.id),
        low_stock: true,
        ..Default::default()
    };
    assert_eq!(list(low_pens).await, vec![at_level.id]);
}

pub async fn variant_delete_is_refused_while_it_holds_stock(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("LAMP-{}", unique()), 1).await;
    let refused = s.variants.delete(&t, &v.id, None).await;
    assert!(matches!(refused, Err(StoreError::InUse)), "{refused:?}");
    assert_eq!(stock_of(&s, t, v.id).await, 1);

    s.ledger
        .commit(
            &t,
            changes(vec![change(v.id, main, MovementKind::Sale, -1)]),
        )
        .await
        .unwrap();
    s.variants.delete(&t, &v.id, None).await.unwrap();
    assert_eq!(s.variants.get(&t, &v.id).await.unwrap(), None);
    let again = s.variants.delete(&t, &v.id, None).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
}

pub async fn incoming_counts_only_ordered_and_partially_received_lines(s: Stores) {
    let (shop, other_shop) = (shop(&s).await, shop(&s).await);
    let (t, main, other_tenant) = (shop.id(), shop.main(), other_shop.id());
    let v = stocked_variant(&s, t, main, &format!("BOX-{}", unique()), 0).await;
    let w = stocked_variant(&s, t, main, &format!("TAPE-{}", unique()), 0).await;
    let sup = supplier(t, "Boxes Ltd");
    s.suppliers.insert(&t, &sup, None).await.unwrap();

    let ordered = purchase_order(t, sup.id, main, Po::Ordered, &[(v.id, 5, 0), (w.id, 2, 0)]);
    for po in [
        purchase_order(t, sup.id, main, Po::Draft, &[(v.id, 100, 0)]),
        ordered.clone(),
        purchase_order(t, sup.id, main, Po::PartiallyReceived, &[(v.id, 8, 3)]),
        purchase_order(t, sup.id, main, Po::Received, &[(v.id, 4, 4)]),
        purchase_order(t, sup.id, main, Po::Cancelled, &[(v.id, 50, 0)]),
        purchase_order(t, sup.id, main, Po::Closed, &[(v.id, 7, 2)]),
    ] {
        insert_purchase_order(&s, t, &po).await;
    }
    // Another tenant's open order naming the same variant id counts for nobody here.
    let foreign = purchase_order(
        other_tenant,
        domain::ids::SupplierId::new(),
        other_shop.main(),
        Po::Ordered,
        &[(v.id, 1000, 0)],
    );
    insert_purchase_order(&s, other_tenant, &foreign).await;

    let incoming = |id: VariantId| {
        let variants = s.variants.clone();
        async move { variants.get(&t, &id).await.unwrap().unwrap().incoming }
    };
    assert_eq!(incoming(v.id).await, 5 + 5);
    assert_eq!(incoming(w.id).await, 2);
    let many = s.variants.get_many(&t, &[v.id, w.id]).await.unwrap();
    let of = |id| many.iter().find(|x| x.id == id).unwrap().incoming;
    assert_eq!((of(v.id), of(w.id)), (10, 2));
    let listed = s
        .variants
        .list(&t, &VariantFilter::default(), &PageRequest::first(10))
        .await
        .unwrap();
    let of = |id| listed.items.iter().find(|x| x.id == id).unwrap().incoming;
    assert_eq!((of(v.id), of(w.id)), (10, 2));
    // Every purchase order here is bound for the default location: the incoming units make a
    // level there, with no stock, before any unit arrives.
    assert_eq!(levels_of(&s, t, v.id).await, vec![(main, 0, 10)]);
    assert_eq!(levels_of(&s, t, w.id).await, vec![(main, 0, 2)]);

    // Once the ordered purchase order is received, its lines are no longer incoming.
    let mut received = ordered.clone();
    received.status = Po::Received;
    received
        .lines
        .iter_mut()
        .for_each(|l| l.received = l.quantity);
    received.version = 2;
    s.ledger
        .commit(
            &t,
            document(DocumentWrite::UpdatePurchaseOrder {
                purchase_order: received,
                expected_version: 1,
            }),
        )
        .await
        .unwrap();
    assert_eq!(incoming(v.id).await, 5);
    assert_eq!(incoming(w.id).await, 0);
    assert_eq!(levels_of(&s, t, v.id).await, vec![(main, 0, 5)]);
    // Nothing ever arrived and nothing is due: no level at all.
    assert_eq!(levels_of(&s, t, w.id).await, vec![]);
}
