//! The rate-limiter contract on the in-process counters.

use std::sync::Arc;

use infra_local::InMemoryRateLimiter;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_memory_counters_keep_the_rate_limiter_contract() {
    contract_tests::rate_limit_cases::rate_limiter_contract(Arc::new(InMemoryRateLimiter::new()))
        .await;
}
