//! The stock invariant under real concurrency, with no lock at all.
//!
//! These cases call the ledger port from many tasks released together by a barrier, on a
//! multi-threaded runtime: no lock port and no combiner stand in front of the store, so the
//! store's conditional write is the only thing between the writers and an oversell. Each case
//! also measures how many of its calls were inside the port at the same moment and requires
//! real overlap — a case whose writers happened to run one after another would prove nothing.
//! How a store then orders the overlapping calls is its own business: SQLite queues them for its
//! single writer connection (and commits the queue together), MongoDB runs concurrent
//! transactions that collide and retry. Either way, exactly the stock there is gets sold.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use domain::ids::{TenantId, VariantId};
use domain::pagination::PageRequest;
use domain::stock::models::{Committed, LedgerError, MovementFilter, MovementKind};

use crate::fixtures::*;
use crate::Stores;

/// Runs one call of `call(i)` per `i` in `0..n`, each in its own task, all released together;
/// returns their results in order and the most calls that were in flight at once.
pub(super) async fn overlapping<T, F, Fut>(n: usize, call: F) -> (Vec<T>, usize)
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let (in_flight, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let work = call(i);
            let (start, in_flight, peak) = (start.clone(), in_flight.clone(), peak.clone());
            tokio::spawn(async move {
                start.wait().await;
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let result = work.await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                result
            })
        })
        .collect();
    let results = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("the task ran"))
        .collect();
    (results, peak.load(Ordering::SeqCst))
}

/// Asserts that the calls of a race really overlapped.
pub(super) fn assert_overlapped(peak: usize, calls: usize) {
    assert!(
        peak > 1,
        "the {calls} calls ran one at a time (at most {peak} in flight): the race raced nothing"
    );
}

/// Counts the sales and refusals among ledger results; every refusal must be a one-unit
/// `Insufficient` with nothing left.
fn tally<'a>(
    results: impl IntoIterator<Item = &'a Result<Committed, LedgerError>>,
) -> (usize, usize) {
    let (mut sold, mut refused) = (0, 0);
    for result in results {
        match result {
            Ok(_) => sold += 1,
            Err(LedgerError::Insufficient(short)) => {
                assert_eq!(short.len(), 1);
                assert_eq!((short[0].requested, short[0].available), (1, 0));
                refused += 1;
            }
            Err(other) => panic!("unexpected refusal: {other:?}"),
        }
    }
    (sold, refused)
}

/// After a race for all 20 units of `v`: stock 0, exactly 20 sales each with its own
/// `stock_after`, no movement from a refused write, and a clean audit.
async fn assert_sold_out_exactly(s: &Stores, t: TenantId, v: VariantId) {
    assert_eq!(stock_of(s, t, v).await, 0);
    let sales = MovementFilter {
        variant_id: Some(v),
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
    assert_eq!(
        movement_count(s, t, v).await,
        21,
        "the stock-in and the 20 sales, nothing from a refused write"
    );
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{:?}", audit.drift);
}

/// 50 tasks each sell one unit of a variant holding 20, all at once and unlocked: the store's
/// conditional write alone must let exactly 20 through.
pub async fn concurrent_sales_never_oversell(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("HOT-{}", unique()), 20).await;
    let (results, peak) = overlapping(50, |_| {
        let ledger = s.ledger.clone();
        async move {
            ledger
                .commit(
                    &t,
                    changes(vec![change(v.id, main, MovementKind::Sale, -1)]),
                )
                .await
        }
    })
    .await;
    assert_eq!(tally(&results), (20, 30));
    assert_overlapped(peak, 50);
    assert_sold_out_exactly(&s, t, v.id).await;
}

/// 10 tasks each hand the ledger a batch of 5 one-unit sales (as the combiner does, but with no
/// lock, so the batches of different tasks overlap) for a variant holding 20: each write of each
/// batch stands or falls on its own and exactly 20 of the 50 go through.
pub async fn concurrent_batches_never_oversell(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("HOT-{}", unique()), 20).await;
    let (batches, peak) = overlapping(10, |_| {
        let ledger = s.ledger.clone();
        async move {
            let writes = (0..5)
                .map(|_| changes(vec![change(v.id, main, MovementKind::Sale, -1)]))
                .collect();
            ledger.commit_batch(&t, writes).await
        }
    })
    .await;
    let results: Vec<Result<Committed, LedgerError>> = batches
        .into_iter()
        .flat_map(|batch| {
            let batch = batch.expect("the batch commits");
            assert_eq!(batch.len(), 5, "one result per write");
            batch
        })
        .collect();
    assert_eq!(tally(&results), (20, 30));
    assert_overlapped(peak, 10);
    assert_sold_out_exactly(&s, t, v.id).await;
}

/// 60 inserts at once, 20 of them reusing a SKU another one takes: each write stands or falls on
/// its own — 40 variants exist, the 20 others are refused as duplicates and leave nothing.
pub async fn concurrent_writes_stand_or_fall_alone(s: Stores) {
    let t = TenantId::new();
    let product = product(t, "Crowded product");
    s.products.insert(&t, &product, None).await.unwrap();
    let codes: Vec<String> = (0..60).map(|i| format!("CROWD-{}", i % 40)).collect();
    let start = Arc::new(tokio::sync::Barrier::new(codes.len()));
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
