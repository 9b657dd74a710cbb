//! The rate-limiter contract, run on the in-process counters and on Redis: counting is atomic,
//! a window is opened by its first hit and never lengthened, closes on time, and `clear` starts
//! over. Keys are fresh in every run, so suites on a shared Redis can run in parallel.

use std::sync::Arc;
use std::time::Duration;

use domain::ids::TenantId;
use domain::rate_limit::RateLimiter;

fn fresh(name: &str) -> String {
    format!("contract:{name}:{}", TenantId::new())
}

/// Every case, in turn, on `limiter`.
pub async fn rate_limiter_contract(limiter: Arc<dyn RateLimiter>) {
    concurrent_hits_get_each_count_once(limiter.clone()).await;
    a_window_is_never_lengthened_and_closes_on_time(limiter.clone()).await;
    clear_starts_over_and_keys_are_independent(limiter).await;
}

/// 100 hits at once on a fresh key return exactly the counts 1 to 100.
pub async fn concurrent_hits_get_each_count_once(limiter: Arc<dyn RateLimiter>) {
    let key = fresh("concurrent");
    let hits: Vec<_> = (0..100)
        .map(|_| {
            let (limiter, key) = (limiter.clone(), key.clone());
            tokio::spawn(async move { limiter.hit(&key, Duration::from_secs(60)).await })
        })
        .collect();
    let mut counts = Vec::new();
    for hit in futures::future::join_all(hits).await {
        counts.push(hit.expect("the task ran").expect("counted").hits);
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=100).collect::<Vec<u64>>());
}

/// Later hits report the window opened by the first, and after it closes the count restarts.
pub async fn a_window_is_never_lengthened_and_closes_on_time(limiter: Arc<dyn RateLimiter>) {
    let key = fresh("window");
    let period = Duration::from_millis(400);
    let first = limiter.hit(&key, period).await.unwrap();
    assert_eq!(first.hits, 1);
    assert!(first.resets_in <= period && first.resets_in > Duration::from_millis(200));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let second = limiter.hit(&key, period).await.unwrap();
    assert_eq!(second.hits, 2);
    assert!(
        second.resets_in < first.resets_in,
        "the second hit must not lengthen the window: {first:?} then {second:?}"
    );
    tokio::time::sleep(second.resets_in + Duration::from_millis(100)).await;
    let after = limiter.hit(&key, period).await.unwrap();
    assert_eq!(after.hits, 1, "a closed window starts over");
}

/// `clear` forgets one key only.
pub async fn clear_starts_over_and_keys_are_independent(limiter: Arc<dyn RateLimiter>) {
    let (a, b) = (fresh("a"), fresh("b"));
    let minute = Duration::from_secs(60);
    for _ in 0..3 {
        limiter.hit(&a, minute).await.unwrap();
    }
    limiter.hit(&b, minute).await.unwrap();
    limiter.clear(&a).await.unwrap();
    assert_eq!(limiter.hit(&a, minute).await.unwrap().hits, 1);
    assert_eq!(limiter.hit(&b, minute).await.unwrap().hits, 2);
    limiter.clear(&fresh("never-hit")).await.unwrap();
}
