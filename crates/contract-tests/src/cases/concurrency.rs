//! The stock invariant under real concurrency, with no lock at all.

use std::collections::BTreeSet;

use domain::ids::TenantId;
use domain::pagination::PageRequest;
use domain::stock::models::{LedgerError, MovementFilter, MovementKind};

use crate::fixtures::*;
use crate::Stores;

/// 50 tasks each sell one unit of a variant holding 20, all at once and unlocked: the store's
/// conditional write alone must let exactly 20 through.
pub async fn concurrent_sales_never_oversell(s: Stores) {
    let t = TenantId::new();
    let v = stocked_variant(&s, t, &format!("HOT-{}", unique()), 20).await;
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(50));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (ledger, start) = (s.ledger.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                ledger
                    .commit(&t, changes(vec![change(v.id, MovementKind::Sale, -1)]))
                    .await
            })
        })
        .collect();
    let (mut sold, mut refused) = (0, 0);
    for result in futures::future::join_all(tasks).await {
        match result.expect("the task ran") {
            Ok(_) => sold += 1,
            Err(LedgerError::Insufficient(short)) => {
                assert_eq!(short.len(), 1);
                assert_eq!((short[0].requested, short[0].available), (1, 0));
                refused += 1;
            }
            Err(other) => panic!("unexpected refusal: {other:?}"),
        }
    }
    assert_eq!((sold, refused), (20, 30));
    assert_eq!(stock_of(&s, t, v.id).await, 0);

    let sales = MovementFilter {
        variant_id: Some(v.id),
        kind: Some(MovementKind::Sale),
        ..Default::default()
    };
    let movements = s
        .ledger
        .list_movements(&t, &sales, &PageRequest::first(100))
        .await
        .unwrap()
        .items;
    let after: BTreeSet<i64> = movements.iter().map(|m| m.stock_after).collect();
    assert_eq!(movements.len(), 20);
    assert_eq!(after, (0..20).collect(), "every sale saw its own stock");
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);
}

/// 60 inserts at once, 20 of them reusing a SKU another one takes: each write stands or falls on
/// its own — 40 variants exist, the 20 others are refused as duplicates and leave nothing.
pub async fn concurrent_writes_stand_or_fall_alone(s: Stores) {
    let t = TenantId::new();
    let product = product(t, "Crowded product");
    s.products.insert(&t, &product, None).await.unwrap();
    let codes: Vec<String> = (0..60).map(|i| format!("CROWD-{}", i % 40)).collect();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(codes.len()));
    let tasks: Vec<_> = codes
        .iter()
        .map(|code| {
            let (variants, start) = (s.variants.clone(), start.clone());
            let variant = variant(t, product.id, code);
            tokio::spawn(async move {
                start.wait().await;
                variants
                    .insert(&t, &variant, None)
                    .await
                    .map(|()| variant.id)
            })
        })
        .collect();
    let (mut inserted, mut duplicates) = (BTreeSet::new(), 0);
    for result in futures::future::join_all(tasks).await {
        match result.expect("the task ran") {
            Ok(id) => {
                inserted.insert(id);
            }
            Err(domain::StoreError::Duplicate) => duplicates += 1,
            Err(other) => panic!("unexpected refusal: {other:?}"),
        }
    }
    assert_eq!((inserted.len(), duplicates), (40, 20));
    let stored = s
        .variants
        .list(&t, &Default::default(), &PageRequest::first(100))
        .await
        .unwrap()
        .items;
    let stored: BTreeSet<_> = stored.iter().map(|v| v.id).collect();
    assert_eq!(stored, inserted, "exactly the accepted inserts are stored");
}
