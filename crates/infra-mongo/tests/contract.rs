//! The shared storage and reporting contracts (`contract-tests`), run against MongoDB: every
//! case gets a store on a fresh database of its own.
//!
//! The shared suite's factory must return a store, so a missing server cannot be a per-test
//! early return here. Outside CI the first case to find `STOCKROOM_TEST_MONGO_URL` unset prints
//! the skip line and ends this test binary with success; in CI it fails instead (see
//! `common::server_url`).

mod common;

use contract_tests::Stores;
use infra_mongo::MongoStore;

async fn fresh() -> Stores {
    let Some(url) = common::server_url(common::URL_VAR) else {
        common::loud("!!!!! SKIPPED: the MongoDB storage contract suite did not run. !!!!!");
        std::process::exit(0);
    };
    let database = format!("stockroom_contract_{}", uuid::Uuid::new_v4().simple());
    let store = MongoStore::connect(&common::with_database(&url, &database))
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test server: {e:#}"));
    Stores::of(store)
}

contract_tests::contract_suite!(fresh);
contract_tests::reports_contract_suite!(fresh);
