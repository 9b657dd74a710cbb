//! The shared storage and reporting contracts (`contract-tests`), run against MongoDB: every
//! case gets a store on a fresh database of its own.
//!
//! Without `STOCKROOM_TEST_MONGO_URL`, each case skips on its own with a line naming it (the rest
//! of the binary still runs); in CI the factory fails the case instead (see
//! `common::configured_url`). Cases that change stock behind the ledger's back do it with a
//! plain driver update on the case's database, as another client of the server would.

mod common;

use contract_tests::harness::Skip;
use contract_tests::Stores;
use domain::ids::{TenantId, VariantId};
use infra_mongo::MongoStore;
use mongodb::bson::{doc, Document};

async fn fresh() -> Result<Stores, Skip> {
    let url = common::configured_url(common::URL_VAR).map_err(Skip::new)?;
    let database = format!("stockroom_contract_{}", uuid::Uuid::new_v4().simple());
    let url = common::with_database(&url, &database);
    let store = MongoStore::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test server: {e:#}"));
    let raw = mongodb::Client::with_uri_str(&url)
        .await
        .expect("a raw client of the test server")
        .database(&database);
    Ok(
        Stores::of(store).tampering_with(move |tenant, variant, stock| {
            set_stock(raw.clone(), tenant, variant, stock)
        }),
    )
}

/// `$set` of the variant document's stock, outside any transaction of the store.
async fn set_stock(db: mongodb::Database, tenant: TenantId, variant: VariantId, stock: i64) {
    let result = db
        .collection::<Document>("variants")
        .update_one(
            doc! { "_id": variant.to_string(), "tenantId": tenant.to_string() },
            doc! { "$set": { "stock": stock } },
        )
        .await
        .expect("update the stock behind the ledger's back");
    assert_eq!(result.matched_count, 1, "exactly one variant tampered with");
}

contract_tests::contract_suite!(fresh);
contract_tests::reports_contract_suite!(fresh);
