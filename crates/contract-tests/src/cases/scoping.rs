//! Tenant isolation: another tenant's id finds, lists, changes and deletes nothing.

use domain::auth::models::Role;
use domain::catalog::models::VariantFilter;
use domain::ids::TenantId;
use domain::orders::models::{OrderFilter, OrderStatus};
use domain::pagination::PageRequest;
use domain::purchasing::models::{PurchaseOrderFilter, PurchaseOrderStatus as Po};
use domain::stock::models::{DocumentWrite, LedgerError, MovementFilter, MovementKind};
use domain::StoreError;

use crate::fixtures::*;
use crate::Stores;

/// One of everything, owned by tenant A.
struct Estate {
    user: domain::auth::models::User,
    product: domain::catalog::models::Product,
    variant: domain::catalog::models::Variant,
    order: domain::orders::models::Order,
    supplier: domain::purchasing::models::Supplier,
    purchase_order: domain::purchasing::models::PurchaseOrder,
    key: String,
}

async fn estate_of(s: &Stores) -> (TenantId, Estate) {
    let shop = shop(s).await;
    let (a, main) = (shop.id(), shop.main());
    let user = user(a, "only-a@acme.example", Role::Staff);
    s.users.insert(&a, &user, None).await.unwrap();
    let variant = stocked_variant(s, a, main, &format!("ISO-{}", unique()), 5).await;
    let product = s
        .products
        .get(&a, &variant.product_id)
        .await
        .unwrap()
        .unwrap();
    let order = order(a, main, &[(variant.id, 1)]);
    let key = format!("key-{}", unique());
    let mut write = changes(vec![change(variant.id, main, MovementKind::Sale, -1)]);
    write.document = DocumentWrite::InsertOrder(order.clone());
    write.idempotency = Some(ledger_key(&key, "fp", now()));
    s.ledger.commit(&a, write).await.unwrap();
    let supplier = supplier(a, "A's supplier");
    s.suppliers.insert(&a, &supplier, None).await.unwrap();
    let purchase_order = purchase_order(a, supplier.id, main, Po::Ordered, &[(variant.id, 3, 0)]);
    insert_purchase_order(s, a, &purchase_order).await;
    let variant = s.variants.get(&a, &variant.id).await.unwrap().unwrap();
    let estate = Estate {
        user,
        product,
        variant,
        order,
        supplier,
        purchase_order,
        key,
    };
    (a, estate)
}

pub async fn another_tenant_sees_nothing(s: Stores) {
    let ((a, e), b) = (estate_of(&s).await, TenantId::new());
    let page = PageRequest::first(50);

    assert_eq!(s.users.get(&b, &e.user.id).await.unwrap(), None);
    assert_eq!(
        s.users.find_by_email(&b, &e.user.email).await.unwrap(),
        None
    );
    assert!(s.users.list(&b, &page).await.unwrap().items.is_empty());
    assert_eq!(s.products.get(&b, &e.product.id).await.unwrap(), None);
    assert!(s.products.list(&b, &page).await.unwrap().items.is_empty());
    assert_eq!(s.variants.get(&b, &e.variant.id).await.unwrap(), None);
    assert!(s
        .variants
        .get_many(&b, &[e.variant.id])
        .await
        .unwrap()
        .is_empty());
    let by_sku = VariantFilter {
        sku: Some(e.variant.sku.clone()),
        ..Default::default()
    };
    assert!(s
        .variants
        .list(&b, &by_sku, &page)
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(s.orders.get(&b, &e.order.id).await.unwrap(), None);
    assert!(s
        .orders
        .list(&b, &OrderFilter::default(), &page)
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(s.suppliers.get(&b, &e.supplier.id).await.unwrap(), None);
    assert!(s.suppliers.list(&b, &page).await.unwrap().items.is_empty());
    assert_eq!(
        s.purchase_orders
            .get(&b, &e.purchase_order.id)
            .await
            .unwrap(),
        None
    );
    assert!(s
        .purchase_orders
        .list(&b, &PurchaseOrderFilter::default(), &page)
        .await
        .unwrap()
        .items
        .is_empty());
    let of_variant = MovementFilter {
        variant_id: Some(e.variant.id),
        ..Default::default()
    };
    assert!(s
        .ledger
        .list_movements(&b, &of_variant, &page)
        .await
        .unwrap()
        .items
        .is_empty());
    let audit = s.ledger.audit(&b).await.unwrap();
    assert_eq!(
        (
            audit.variants_checked,
            audit.levels_checked,
            audit.drift.len()
        ),
        (0, 0, 0)
    );
    assert_eq!(
        s.idempotency
            .find(&b, &key_sender(), &e.key, now())
            .await
            .unwrap(),
        None
    );

    // A still sees all of it.
    assert_eq!(e.variant.stock, 4);
    assert_eq!(e.variant.incoming, 3);
    assert!(s
        .idempotency
        .find(&a, &key_sender(), &e.key, now())
        .await
        .unwrap()
        .is_some());
    assert_eq!(s.orders.get(&a, &e.order.id).await.unwrap(), Some(e.order));
}

pub async fn another_tenant_changes_nothing(s: Stores) {
    let ((a, e), b) = (estate_of(&s).await, TenantId::new());
    let not_found = |r: Result<(), StoreError>| matches!(r, Err(StoreError::NotFound));

    let mut user = e.user.clone();
    user.role = Role::Owner;
    assert!(not_found(
        s.users.update(&b, &user, Default::default()).await
    ));
    let keep_an_owner = domain::auth::ports::UserWrite {
        end_sessions: true,
        keep_an_owner: true,
        expected_version: None,
    };
    assert!(not_found(s.users.update(&b, &user, keep_an_owner).await));
    assert!(not_found(
        s.users
            .replace_password(&b, &user.id, &user.password_hash, now())
            .await
    ));
    let mut product = e.product.clone();
    product.name = text("Hijacked");
    assert!(not_found(s.products.update(&b, &product, None).await));
    assert!(not_found(s.products.delete(&b, &e.product.id, None).await));
    let mut variant = e.variant.clone();
    variant.price = money(1);
    assert!(not_found(s.variants.update(&b, &variant, None).await));
    assert!(not_found(s.variants.delete(&b, &e.variant.id, None).await));
    let mut supplier = e.supplier.clone();
    supplier.name = text("Hijacked");
    assert!(not_found(s.suppliers.update(&b, &supplier, None).await));
    assert!(not_found(
        s.suppliers.delete(&b, &e.supplier.id, None).await
    ));

    let steal = s
        .ledger
        .commit(
            &b,
            changes(vec![change(
                e.variant.id,
                e.order.lines[0].allocations[0].location_id,
                MovementKind::Sale,
                -1,
            )]),
        )
        .await;
    assert!(
        matches!(steal, Err(LedgerError::VariantMissing(id)) if id == e.variant.id),
        "{steal:?}"
    );
    // The hijacking documents carry no lines, so nothing but the tenant check can stop them.
    let mut cancelled = e.order.clone();
    cancelled.status = OrderStatus::Cancelled;
    cancelled.lines.clear();
    cancelled.version = 2;
    let update = s
        .ledger
        .commit(
            &b,
            document(DocumentWrite::UpdateOrder {
                order: cancelled,
                expected_version: 1,
            }),
        )
        .await;
    assert!(matches!(update, Err(LedgerError::Store(_))), "{update:?}");
    let mut received = e.purchase_order.clone();
    received.status = Po::Received;
    received.lines.clear();
    received.version = 2;
    let update = s
        .ledger
        .commit(
            &b,
            document(DocumentWrite::UpdatePurchaseOrder {
                purchase_order: received,
                expected_version: 1,
            }),
        )
        .await;
    assert!(matches!(update, Err(LedgerError::Store(_))), "{update:?}");

    // Everything of A is as it was.
    assert_eq!(s.users.get(&a, &e.user.id).await.unwrap(), Some(e.user));
    assert_eq!(
        s.products.get(&a, &e.product.id).await.unwrap(),
        Some(e.product)
    );
    assert_eq!(
        s.variants.get(&a, &e.variant.id).await.unwrap(),
        Some(e.variant)
    );
    assert_eq!(
        s.suppliers.get(&a, &e.supplier.id).await.unwrap(),
        Some(e.supplier)
    );
    assert_eq!(s.orders.get(&a, &e.order.id).await.unwrap(), Some(e.order));
    assert_eq!(
        s.purchase_orders
            .get(&a, &e.purchase_order.id)
            .await
            .unwrap(),
        Some(e.purchase_order)
    );
}
