//! Expired idempotency records are purged on write: SQLite has no TTL index, and without a purge
//! the table would keep every key ever sent.

use chrono::Duration;
use contract_tests::fixtures::{insert_key, product};
use domain::catalog::ports::ProductRepository;

use crate::store_tests::{now, Shop};

/// The keys stored, in order.
async fn keys(shop: &Shop) -> Vec<String> {
    shop.store
        .read("listing idempotency keys", |tx| {
            let mut stmt = tx.prepare("SELECT key FROM idempotency_records ORDER BY key")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_write_that_stores_a_key_purges_the_expired_ones_and_keeps_the_live() {
    let shop = Shop::open().await;
    let t = shop.tenant;
    let at = now();
    // Sent 30 hours ago: expired 6 hours ago.
    let mut old = insert_key("a-expired", "fp", at - Duration::hours(30));
    old.expires_at = at - Duration::hours(6);
    shop.store
        .insert(&t, &product(t, "Old"), Some(old))
        .await
        .unwrap();
    // Sent an hour ago: live for 23 more hours.
    let live = insert_key("b-live", "fp", at - Duration::hours(1));
    shop.store
        .insert(&t, &product(t, "Live"), Some(live))
        .await
        .unwrap();
    // Another key is written now: the expired record goes, the live ones stay.
    let fresh = insert_key("c-fresh", "fp", at);
    shop.store
        .insert(&t, &product(t, "Fresh"), Some(fresh))
        .await
        .unwrap();
    assert_eq!(keys(&shop).await, ["b-live", "c-fresh"]);
}

#[tokio::test]
async fn a_purge_removes_at_most_a_batch() {
    let shop = Shop::open().await;
    let t = shop.tenant;
    let at = now();
    let extra = 5;
    let expired = crate::repo::idempotency::PURGE_BATCH as usize + extra;
    for i in 0..expired {
        // Each one is written at a time when none of the others has expired yet.
        let mut old = insert_key(&format!("old-{i:04}"), "fp", at - Duration::hours(48));
        old.expires_at = at - Duration::hours(1);
        shop.store
            .insert(&t, &product(t, &format!("Old {i}")), Some(old))
            .await
            .unwrap();
    }
    assert_eq!(keys(&shop).await.len(), expired);
    shop.store
        .insert(&t, &product(t, "Now"), Some(insert_key("now", "fp", at)))
        .await
        .unwrap();
    let left = keys(&shop).await;
    assert_eq!(
        left.len(),
        extra + 1,
        "one batch purged, the new key stored"
    );
    assert!(left.contains(&"now".to_owned()));
}
