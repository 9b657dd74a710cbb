//! The shared storage and reporting contracts, run against SQLite: every case on a fresh file in
//! its own temporary folder (the deployed configuration, WAL and a reader pool), and again on
//! `sqlite::memory:` (a single connection serving everything). The in-process lock's contract
//! runs with that lock, in `infra-local`.
//!
//! On the file store, cases that change stock behind the ledger's back do it with plain SQL on a
//! connection of their own to the same file, as another process would. A memory database lives
//! only inside the store's one connection, so there they go through the store's
//! `set_stock_behind_the_ledger` (feature `test-support`, enabled for these tests only).

use std::path::PathBuf;

use contract_tests::Stores;
use domain::ids::{TenantId, VariantId};
use infra_sqlite::SqliteStore;

/// A new database file, in a folder the store must create, removed when the case ends.
async fn fresh_file() -> Stores {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("not-yet-created").join("stockroom.db");
    let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("open the file store");
    Stores::of(store)
        .holding(dir)
        .tampering_with(move |tenant, variant, stock| {
            set_stock(path.clone(), tenant, variant, stock)
        })
}

/// `UPDATE variants SET stock` on a connection of its own, committed before it returns.
async fn set_stock(path: PathBuf, tenant: TenantId, variant: VariantId, stock: i64) {
    tokio::task::spawn_blocking(move || {
        let raw = rusqlite::Connection::open(&path).expect("open the database file");
        raw.busy_timeout(std::time::Duration::from_secs(5))
            .expect("set a busy timeout");
        let changed = raw
            .execute(
                "UPDATE variants SET stock = ?1 WHERE tenant_id = ?2 AND id = ?3",
                rusqlite::params![stock, tenant.to_string(), variant.to_string()],
            )
            .expect("update the stock behind the ledger's back");
        assert_eq!(changed, 1, "exactly one variant tampered with");
    })
    .await
    .expect("the tamper ran");
}

async fn fresh_memory() -> Stores {
    let store = SqliteStore::open("sqlite::memory:")
        .await
        .expect("open the memory store");
    let raw = store.clone();
    Stores::of(store).tampering_with(move |tenant, variant, stock| {
        let raw = raw.clone();
        async move {
            let changed = raw
                .set_stock_behind_the_ledger(&tenant, &variant, stock)
                .await
                .expect("change stock behind the ledger");
            assert_eq!(changed, 1, "the variant to tamper with exists");
        }
    })
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
