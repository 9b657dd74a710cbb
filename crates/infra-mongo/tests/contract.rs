//! The shared storage and reporting contracts (`contract-tests`), run against MongoDB: every
//! case gets a store on a fresh database of its own.
//!
//! Without `STOCKROOM_TEST_MONGO_URL`, each case skips on its own with a line naming it (the rest
//! of the binary still runs); in CI the factory fails the case instead (see
//! `common::configured_url`). Cases that change stock behind the ledger's back do it with a
//! plain driver update on the case's database, as another client of the server would. Cases of
//! the migration get another fresh database, with the legacy documents inserted raw and then
//! migrated by two store instances at once, as two instances starting together would.

mod common;

use contract_tests::harness::Skip;
use contract_tests::legacy::LegacyData;
use contract_tests::Stores;
use domain::ids::{LocationId, TenantId, VariantId};
use domain::Repositories;
use infra_mongo::{LegacyMovement, LegacyRows, LegacyVariant, MongoStore};
use mongodb::bson::{doc, Document};

async fn fresh() -> Result<Stores, Skip> {
    let url = common::configured_url(common::URL_VAR).map_err(Skip::new)?;
    let url = common::with_database(&url, &database_name());
    let store = connect(&url).await;
    let raw = raw_database(&url).await;
    let migration_url = url.clone();
    Ok(Stores::of(store)
        .tampering_with(move |tenant, variant, location, stock| {
            set_level(raw.clone(), tenant, variant, location, stock)
        })
        .migrating_with(move |legacy| migrated(migration_url.clone(), legacy)))
}

fn database_name() -> String {
    format!("stockroom_contract_{}", uuid::Uuid::new_v4().simple())
}

async fn connect(url: &str) -> MongoStore {
    MongoStore::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test server: {e:#}"))
}

async fn raw_database(url: &str) -> mongodb::Database {
    let client = mongodb::Client::with_uri_str(url)
        .await
        .expect("a raw client of the test server");
    client
        .default_database()
        .expect("the test URL names its database")
}

/// `$set` of one level in the variant document, outside any transaction of the store; the
/// total `stock` is left as it is.
async fn set_level(
    db: mongodb::Database,
    tenant: TenantId,
    variant: VariantId,
    location: LocationId,
    stock: i64,
) {
    let level = format!("levels.{location}");
    let result = db
        .collection::<Document>("variants")
        .update_one(
            doc! {
                "_id": variant.to_string(),
                "tenantId": tenant.to_string(),
                &level: { "$exists": true },
            },
            doc! { "$set": { &level: stock } },
        )
        .await
        .expect("update the level behind the ledger's back");
    assert_eq!(
        result.matched_count, 1,
        "exactly one existing level tampered with"
    );
}

/// A database of its own (next to the case's) holding `legacy` as the old version wrote it,
/// migrated by two stores at once; the repositories of one of them.
async fn migrated(url_of_case: String, legacy: LegacyData) -> Repositories {
    let url = common::with_database(&url_of_case, &database_name());
    let first = connect(&url).await;
    let second = connect(&url).await;
    first
        .insert_legacy(&rows_of(legacy))
        .await
        .expect("insert the legacy documents");
    let (a, b) = tokio::join!(first.migrate_locations(), second.migrate_locations());
    a.expect("the first instance migrates");
    b.expect("the second instance migrates");
    Repositories::of(first)
}

/// The contract's legacy data as this store's legacy rows (no purchase orders or orders).
fn rows_of(legacy: LegacyData) -> LegacyRows {
    LegacyRows {
        tenant: legacy.tenant,
        owner: legacy.owner,
        products: legacy.products,
        variants: legacy
            .variants
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
                        reason: None,
                        order_id: None,
                        purchase_order_id: None,
                        unit_cost: None,
                        actor: m.actor,
                        created_at: m.created_at,
                    })
                    .collect(),
            })
            .collect(),
        purchase_orders: Vec::new(),
        orders: Vec::new(),
    }
}

contract_tests::contract_suite!(fresh);
contract_tests::reports_contract_suite!(fresh);
