//! The shared lock contract (`contract_tests::lock_contract_suite!`) run against `InProcessLock`.

use std::sync::Arc;

use contract_tests::lock_cases::SharedLock;
use infra_local::InProcessLock;

async fn in_process_lock() -> SharedLock {
    Arc::new(InProcessLock::new())
}

contract_tests::lock_contract_suite!(in_process_lock);
