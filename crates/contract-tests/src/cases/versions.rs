//! Conditional catalog writes (`If-Match`): a product's or variant's update or delete that names
//! a version writes only while the stored record is at that version, in the same write.

use chrono::Duration;
use domain::ids::TenantId;
use domain::StoreError;

use crate::fixtures::*;
use crate::Stores;

pub async fn a_stale_product_version_writes_nothing_and_the_current_one_writes(s: Stores) {
    let t = TenantId::new();
    let p = product(t, "Tee shirt");
    s.products.insert(&t, &p, None).await.unwrap();
    let read = p.version();

    let mut first = p.clone();
    first.name = text("Tee shirt, first edit");
    first.updated_at = p.updated_at + Duration::milliseconds(5);
    s.products.update(&t, &first, Some(read)).await.unwrap();
    assert_eq!(
        s.products.get(&t, &p.id).await.unwrap(),
        Some(first.clone())
    );

    // A second writer that read the same version loses, and writes nothing.
    let mut second = p.clone();
    second.name = text("Tee shirt, second edit");
    second.updated_at = p.updated_at + Duration::milliseconds(9);
    let stale = s.products.update(&t, &second, Some(read)).await;
    assert!(
        matches!(stale, Err(StoreError::VersionConflict)),
        "{stale:?}"
    );
    assert_eq!(
        s.products.get(&t, &p.id).await.unwrap(),
        Some(first.clone())
    );

    let ghost = product(t, "Ghost");
    let missing = s.products.update(&t, &ghost, Some(ghost.version())).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    let stale = s.products.delete(&t, &p.id, Some(read)).await;
    assert!(
        matches!(stale, Err(StoreError::VersionConflict)),
        "{stale:?}"
    );
    assert_eq!(
        s.products.get(&t, &p.id).await.unwrap(),
        Some(first.clone())
    );
    s.products
        .delete(&t, &p.id, Some(first.version()))
        .await
        .unwrap();
    assert_eq!(s.products.get(&t, &p.id).await.unwrap(), None);
    let gone = s.products.delete(&t, &p.id, Some(first.version())).await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");
}

pub async fn of_racing_product_writes_expecting_one_version_exactly_one_lands(s: Stores) {
    let t = TenantId::new();
    let p = product(t, "Raced");
    s.products.insert(&t, &p, None).await.unwrap();
    let mut expected = p.clone();
    for round in 0..10_i64 {
        let read = expected.version();
        let edits: Vec<_> = (0..2_i64)
            .map(|writer| {
                let mut edit = expected.clone();
                edit.name = text(&format!("round {round} writer {writer}"));
                edit.updated_at = expected.updated_at + Duration::milliseconds(1 + writer);
                edit
            })
            .collect();
        let (a, b) = tokio::join!(
            s.products.update(&t, &edits[0], Some(read)),
            s.products.update(&t, &edits[1], Some(read)),
        );
        let stored = s.products.get(&t, &p.id).await.unwrap().unwrap();
        match (a, b) {
            (Ok(()), Err(StoreError::VersionConflict)) => assert_eq!(stored, edits[0]),
            (Err(StoreError::VersionConflict), Ok(())) => assert_eq!(stored, edits[1]),
            other => panic!("round {round}: expected exactly one write, got {other:?}"),
        }
        expected = stored;
    }
}

pub async fn a_stale_variant_version_writes_nothing_and_stock_leaves_the_version(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let p = product(t, "Mugs");
    s.products.insert(&t, &p, None).await.unwrap();
    let v = variant_of(&s, t, p.id, main, &format!("MUG-{}", unique()), 0).await;
    let read = v.version();

    // Stock changes go through the ledger and leave the catalog version as it was.
    stock_up(&s, t, v.id, main, 3).await;
    let stocked = s.variants.get(&t, &v.id).await.unwrap().unwrap();
    assert_eq!(stocked.stock, 3);
    assert_eq!(stocked.version(), read, "a stock change moved the version");

    let mut priced = stocked.clone();
    priced.price = money(2499);
    priced.updated_at = v.updated_at + Duration::milliseconds(5);
    s.variants.update(&t, &priced, Some(read)).await.unwrap();

    let mut stale = stocked.clone();
    stale.price = money(1);
    stale.updated_at = v.updated_at + Duration::milliseconds(9);
    let refused = s.variants.update(&t, &stale, Some(read)).await;
    assert!(
        matches!(refused, Err(StoreError::VersionConflict)),
        "{refused:?}"
    );
    let stored = s.variants.get(&t, &v.id).await.unwrap().unwrap();
    assert_eq!((stored.price, stored.stock), (money(2499), 3));
    assert_eq!(stored.version(), priced.version());

    let empty = variant_of(&s, t, p.id, main, &format!("MUG-{}", unique()), 0).await;
    let refused = s
        .variants
        .delete(&t, &empty.id, Some(empty.version() - 1))
        .await;
    assert!(
        matches!(refused, Err(StoreError::VersionConflict)),
        "{refused:?}"
    );
    assert!(s.variants.get(&t, &empty.id).await.unwrap().is_some());
    s.variants
        .delete(&t, &empty.id, Some(empty.version()))
        .await
        .unwrap();
    assert!(s.variants.get(&t, &empty.id).await.unwrap().is_none());
}

pub async fn a_stale_supplier_version_writes_nothing_and_the_current_one_writes(s: Stores) {
    let t = TenantId::new();
    let sup = supplier(t, "Acme");
    s.suppliers.insert(&t, &sup, None).await.unwrap();
    let read = sup.version();

    let mut edited = sup.clone();
    edited.name = text("Acme Ltd");
    edited.updated_at = sup.updated_at + Duration::milliseconds(4);
    s.suppliers.update(&t, &edited, Some(read)).await.unwrap();

    let mut stale = sup.clone();
    stale.name = text("Lost update");
    stale.updated_at = sup.updated_at + Duration::milliseconds(8);
    let refused = s.suppliers.update(&t, &stale, Some(read)).await;
    assert!(
        matches!(refused, Err(StoreError::VersionConflict)),
        "{refused:?}"
    );
    assert_eq!(
        s.suppliers.get(&t, &sup.id).await.unwrap(),
        Some(edited.clone())
    );

    let refused = s.suppliers.delete(&t, &sup.id, Some(read)).await;
    assert!(
        matches!(refused, Err(StoreError::VersionConflict)),
        "{refused:?}"
    );
    assert!(s.suppliers.get(&t, &sup.id).await.unwrap().is_some());
    s.suppliers
        .delete(&t, &sup.id, Some(edited.version()))
        .await
        .unwrap();
    assert_eq!(s.suppliers.get(&t, &sup.id).await.unwrap(), None);
}

pub async fn a_stale_location_version_writes_nothing_and_moving_the_default_moves_versions(
    s: Stores,
) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = location(t, "ANNEX");
    s.locations.insert(&t, &annex, None).await.unwrap();
    let read = annex.version();

    let mut edited = annex.clone();
    edited.name = text("Annex by the station");
    edited.updated_at = annex.updated_at + Duration::milliseconds(4);
    s.locations.update(&t, &edited, Some(read)).await.unwrap();

    let mut stale = annex.clone();
    stale.name = text("Lost update");
    stale.updated_at = annex.updated_at + Duration::milliseconds(8);
    let refused = s.locations.update(&t, &stale, Some(read)).await;
    assert!(
        matches!(refused, Err(StoreError::VersionConflict)),
        "{refused:?}"
    );
    assert_eq!(
        s.locations.get(&t, &annex.id).await.unwrap(),
        Some(edited.clone())
    );

    // Moving the default changes both locations, so both versions move — even at a time no
    // later than their own.
    let main_before = s.locations.get(&t, &main).await.unwrap().unwrap().version();
    s.locations
        .make_default(&t, &annex.id, edited.updated_at)
        .await
        .unwrap();
    let annex_after = s.locations.get(&t, &annex.id).await.unwrap().unwrap();
    let main_after = s.locations.get(&t, &main).await.unwrap().unwrap();
    assert!(annex_after.is_default && !main_after.is_default);
    assert!(annex_after.version() > edited.version(), "{annex_after:?}");
    assert!(main_after.version() > main_before, "{main_after:?}");
}
