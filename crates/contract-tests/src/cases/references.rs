//! A child written under a parent deleted at the same moment: the reference is checked inside the
//! write, so of a variant's creation and its product's deletion (a purchase order's and its
//! supplier's) one wins and the other is refused; never a variant whose product is gone, never a
//! purchase order whose supplier is gone.

use domain::purchasing::models::PurchaseOrderStatus;
use domain::stock::models::{DocumentWrite, LedgerError};
use domain::StoreError;

use crate::fixtures::*;
use crate::Stores;

/// How many times each race is run.
const ROUNDS: usize = 50;

pub async fn a_variant_is_never_created_under_a_deleted_product(s: Stores) {
    let shop = shop(&s).await;
    let t = shop.id();

    // Without a race: the product is gone before the insert.
    let gone = product(t, "Gone");
    s.products.insert(&t, &gone, None).await.unwrap();
    s.products.delete(&t, &gone.id, None).await.unwrap();
    let orphan = variant(t, gone.id, &format!("ORPHAN-{}", unique()));
    let refused = s.variants.insert(&t, &orphan, None).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
    assert_eq!(s.variants.get(&t, &orphan.id).await.unwrap(), None);

    for round in 0..ROUNDS {
        let p = product(t, &format!("Raced {round}"));
        s.products.insert(&t, &p, None).await.unwrap();
        let v = variant(t, p.id, &format!("RACE-{round}-{}", unique()));
        let (variants, products) = (s.variants.clone(), s.products.clone());
        let (child, parent) = (v.clone(), p.id);
        let create = tokio::spawn(async move { variants.insert(&t, &child, None).await });
        let delete = tokio::spawn(async move { products.delete(&t, &parent, None).await });
        let (created, deleted) = (create.await.unwrap(), delete.await.unwrap());
        assert!(
            matches!(created, Ok(()) | Err(StoreError::NotFound)),
            "round {round}: {created:?}"
        );
        assert!(
            matches!(deleted, Ok(()) | Err(StoreError::InUse)),
            "round {round}: {deleted:?}"
        );
        let product_left = s.products.get(&t, &p.id).await.unwrap().is_some();
        let variant_left = s.variants.get(&t, &v.id).await.unwrap().is_some();
        assert!(
            product_left || !variant_left,
            "round {round}: a variant outlived its product (create {created:?}, delete {deleted:?})"
        );
    }
}

pub async fn a_purchase_order_is_never_created_under_a_deleted_supplier(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let p = product(t, "Supplied");
    s.products.insert(&t, &p, None).await.unwrap();
    let v = variant(t, p.id, &format!("SUPPLIED-{}", unique()));
    s.variants.insert(&t, &v, None).await.unwrap();

    // Without a race: the supplier is gone before the purchase order is written.
    let gone = supplier(t, "Gone");
    s.suppliers.insert(&t, &gone, None).await.unwrap();
    s.suppliers.delete(&t, &gone.id, None).await.unwrap();
    let orphan = purchase_order(
        t,
        gone.id,
        main,
        PurchaseOrderStatus::Draft,
        &[(v.id, 1, 0)],
    );
    let refused = s
        .ledger
        .commit(
            &t,
            document(DocumentWrite::InsertPurchaseOrder(orphan.clone())),
        )
        .await;
    assert!(
        matches!(refused, Err(LedgerError::Store(StoreError::NotFound))),
        "{refused:?}"
    );
    assert_eq!(s.purchase_orders.get(&t, &orphan.id).await.unwrap(), None);

    for round in 0..ROUNDS {
        let sup = supplier(t, &format!("Raced {round}"));
        s.suppliers.insert(&t, &sup, None).await.unwrap();
        let po = purchase_order(
            t,
            sup.id,
            main,
            PurchaseOrderStatus::Ordered,
            &[(v.id, 1, 0)],
        );
        let (ledger, suppliers) = (s.ledger.clone(), s.suppliers.clone());
        let (child, parent) = (po.clone(), sup.id);
        let create = tokio::spawn(async move {
            ledger
                .commit(&t, document(DocumentWrite::InsertPurchaseOrder(child)))
                .await
        });
        let delete = tokio::spawn(async move { suppliers.delete(&t, &parent, None).await });
        let (created, deleted) = (create.await.unwrap(), delete.await.unwrap());
        assert!(
            matches!(
                created,
                Ok(_) | Err(LedgerError::Store(StoreError::NotFound))
            ),
            "round {round}: {created:?}"
        );
        assert!(
            matches!(deleted, Ok(()) | Err(StoreError::InUse)),
            "round {round}: {deleted:?}"
        );
        let supplier_left = s.suppliers.get(&t, &sup.id).await.unwrap().is_some();
        let po_left = s.purchase_orders.get(&t, &po.id).await.unwrap().is_some();
        assert!(
            supplier_left || !po_left,
            "round {round}: a purchase order outlived its supplier (create {created:?}, delete {deleted:?})"
        );
    }
}
