//! The shared storage and reporting contracts, run against SQLite: every case on a fresh file in
//! its own temporary folder (the deployed configuration, WAL and a reader pool), and again on
//! `sqlite::memory:` (a single connection serving everything). The in-process lock's contract
//! runs with that lock, in `infra-local`.
//!
//! On the file store, cases that change a level's stock behind the ledger's back do it with
//! plain SQL on a connection of their own to the same file, as another process would, and the
//! migration case writes a second file at schema version 1 (`SqliteStore::legacy_fixture`) and
//! opens the store on it, which applies the locations migration as a deployment would. A memory
//! database lives only inside the store's one connection, so there tampering goes through the
//! store's `set_stock_behind_the_ledger` (feature `test-support`, enabled for these tests only)
//! and there is no older database to open.

use std::path::{Path, PathBuf};

use contract_tests::{LegacyData, Stores};
use domain::ids::{LocationId, TenantId, VariantId};
use domain::Repositories;
use infra_sqlite::test_support::SET_LEVEL_SQL;
use infra_sqlite::{
    LegacyMovement, LegacyOwner, LegacyProduct, LegacyRows, LegacyTenant, LegacyVariant,
    SqliteStore,
};

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// A new database file, in a folder the store must create, removed when the case ends.
async fn fresh_file() -> Stores {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("not-yet-created").join("stockroom.db");
    let legacy_path = dir.path().join("legacy").join("stockroom.db");
    let store = SqliteStore::open(&url(&path))
        .await
        .expect("open the file store");
    Stores::of(store)
        .deriving_totals()
        .holding(dir)
        .tampering_with(move |tenant, variant, location, stock| {
            set_level(path.clone(), tenant, variant, location, stock)
        })
        .migrating_with(move |legacy| migrate(legacy_path.clone(), legacy))
}

/// Sets one level's stock on a connection of its own, committed before it returns.
async fn set_level(
    path: PathBuf,
    tenant: TenantId,
    variant: VariantId,
    location: LocationId,
    stock: i64,
) {
    tokio::task::spawn_blocking(move || {
        let raw = rusqlite::Connection::open(&path).expect("open the database file");
        raw.busy_timeout(std::time::Duration::from_secs(5))
            .expect("set a busy timeout");
        let changed = raw
            .execute(
                SET_LEVEL_SQL,
                rusqlite::params![
                    tenant.to_string(),
                    variant.to_string(),
                    location.to_string(),
                    stock
                ],
            )
            .expect("update the level behind the ledger's back");
        assert_eq!(changed, 1, "exactly one level tampered with");
    })
    .await
    .expect("the tamper ran");
}

/// Writes `legacy` into a schema-version-1 file at `path` and opens the store on it, which
/// migrates it.
async fn migrate(path: PathBuf, legacy: LegacyData) -> Repositories {
    let rows = legacy_rows(legacy);
    let fixture = path.clone();
    tokio::task::spawn_blocking(move || SqliteStore::legacy_fixture(&fixture, &rows))
        .await
        .expect("the fixture ran")
        .expect("write the pre-location database");
    let store = SqliteStore::open(&url(&path))
        .await
        .expect("open and migrate the pre-location database");
    Repositories::of(store)
}

/// The contract's legacy data as this store's version-1 rows.
fn legacy_rows(legacy: LegacyData) -> LegacyRows {
    let LegacyData {
        tenant,
        owner,
        products,
        variants,
    } = legacy;
    LegacyRows {
        tenant: LegacyTenant {
            id: tenant.id,
            slug: tenant.slug.as_str().to_owned(),
            name: tenant.name.as_str().to_owned(),
            created_at: tenant.created_at,
        },
        owner: LegacyOwner {
            id: owner.id,
            email: owner.email.as_str().to_owned(),
            name: owner.name.as_str().to_owned(),
            role: owner.role.as_str().to_owned(),
            active: owner.active,
            password_hash: owner.password_hash.as_str().to_owned(),
            created_at: owner.created_at,
            updated_at: owner.updated_at,
        },
        products: products
            .into_iter()
            .map(|p| LegacyProduct {
                id: p.id,
                name: p.name.as_str().to_owned(),
                description: p.description.map(|d| d.as_str().to_owned()),
                created_at: p.created_at,
                updated_at: p.updated_at,
            })
            .collect(),
        variants: variants
            .into_iter()
            .map(|v| LegacyVariant {
                id: v.id,
                product_id: v.product_id,
                sku: v.sku,
                attributes: v.attributes,
                price: v.price,
                reorder_level: v.reorder_level,
                stock: v.stock,
                created_at: v.created_at,
                updated_at: v.updated_at,
                movements: v
                    .movements
                    .into_iter()
                    .map(|m| LegacyMovement {
                        id: m.id,
                        kind: m.kind,
                        quantity: m.quantity,
                        stock_after: m.stock_after,
                        actor: m.actor,
                        created_at: m.created_at,
                    })
                    .collect(),
            })
            .collect(),
    }
}

async fn fresh_memory() -> Stores {
    let store = SqliteStore::open("sqlite::memory:")
        .await
        .expect("open the memory store");
    let raw = store.clone();
    Stores::of(store)
        .deriving_totals()
        .tampering_with(move |tenant, variant, location, stock| {
            let raw = raw.clone();
            async move {
                let changed = raw
                    .set_stock_behind_the_ledger(&tenant, &variant, &location, stock)
                    .await
                    .expect("change a level behind the ledger");
                assert_eq!(changed, 1, "the variant to tamper with exists");
            }
        })
        .without_migration(
            "a memory database exists only inside the store that opens it, so there is no \
             older database to migrate (the file store runs this case)",
        )
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
