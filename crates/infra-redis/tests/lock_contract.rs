//! The shared lock contract (`contract_tests::lock_contract_suite!`) run against `RedisLock`.
//!
//! Every case here needs Redis at `STOCKROOM_TEST_REDIS_URL`. Without it, CI fails; on a developer
//! machine each case skips on its own with a line naming it, and the rest of the binary runs.

use std::sync::Arc;

use contract_tests::harness::Skip;
use contract_tests::lock_cases::SharedLock;
use infra_redis::RedisLock;

async fn redis_lock() -> Result<SharedLock, Skip> {
    match std::env::var("STOCKROOM_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => {
            Ok(Arc::new(RedisLock::connect(&url).expect("valid Redis URL")))
        }
        _ if std::env::var_os("CI").is_some() => panic!(
            "STOCKROOM_TEST_REDIS_URL is not set: CI must run the Redis lock contract — source \
             scripts/lib/redis.sh and call redis_install and redis_start first"
        ),
        _ => Err(Skip::new(
            "STOCKROOM_TEST_REDIS_URL is not set, so the Redis lock contract did not run here \
             (source scripts/lib/redis.sh and call redis_install and redis_start)",
        )),
    }
}

contract_tests::lock_contract_suite!(redis_lock);
