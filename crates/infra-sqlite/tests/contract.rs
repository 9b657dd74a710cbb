//! The shared storage and reporting contracts, run against SQLite: every case on a fresh file in
//! its own temporary folder (the deployed configuration, WAL and a reader pool), and again on
//! `sqlite::memory:` (a single connection serving everything). The in-process lock's contract
//! runs with that lock, in `infra-local`.

use contract_tests::Stores;
use infra_sqlite::SqliteStore;

/// A new database file, in a folder the store must create, removed when the case ends.
async fn fresh_file() -> Stores {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("not-yet-created").join("stockroom.db");
    let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("open the file store");
    Stores::of(store).holding(dir)
}

async fn fresh_memory() -> Stores {
    let store = SqliteStore::open("sqlite::memory:")
        .await
        .expect("open the memory store");
    Stores::of(store)
}

mod on_file {
    contract_tests::contract_suite!(super::fresh_file);
}

mod on_memory {
    contract_tests::contract_suite!(super::fresh_memory);
}

mod reports_on_file {
    contract_tests::reports_contract_suite!(super::fresh_file);
}

mod reports_on_memory {
    contract_tests::reports_contract_suite!(super::fresh_memory);
}
