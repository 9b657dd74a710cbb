//! Ready for a sharded cluster: every index on a tenant's data leads with `tenantId`.
//!
//! A tenant's documents are sharded by tenant (see docs/deploying.md), so an index that does not
//! start with `tenantId` cannot be the shard key's prefix: a unique one could not be enforced
//! across shards (MongoDB refuses to create it), and a query served by it is broadcast to every
//! shard. The indexes are read back from a freshly started store, not from the code that defines
//! them, so a collection or index added anywhere without the tenant shows up here.

use futures::TryStreamExt;
use mongodb::bson::Document;

use crate::support::TestDb;

/// Indexes that knowingly do not lead with `tenantId`, each with the reason.
const EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "tenants",
        "slug_unique",
        "the tenants are not a tenant's data: a slug is unique across all tenants, and this \
         small collection stays unsharded on the primary shard",
    ),
    (
        "reservations",
        "status_expires",
        "the expiry sweep is the one query across tenants (ACTIVE reservations whose expiry has \
         passed); it runs in the background, so a query sent to every shard is acceptable",
    ),
    (
        "idempotencyRecords",
        "expires_ttl",
        "a TTL index must have a single field, so it cannot start with the tenant; MongoDB runs \
         the expiry on each shard by itself and no request reads through it",
    ),
];

/// Collections that are not a tenant's data at all; none of their indexes is checked.
const NOT_TENANT_DATA: &[(&str, &str)] = &[
    (
        "migrations",
        "bookkeeping of completed start-up migrations, one document per migration, no tenant",
    ),
    (
        "instances",
        "one document per running api instance (its transaction sessions and heartbeat), no \
         tenant",
    ),
];

/// Every collection's indexes after start-up, as (collection, name, keys), sorted.
async fn indexes(db: &TestDb) -> Vec<(String, String, Document)> {
    let client = mongodb::Client::with_uri_str(db.url()).await.unwrap();
    let database = client
        .default_database()
        .expect("the URL names the database");
    let mut found = Vec::new();
    let mut names = database.list_collection_names().await.unwrap();
    names.sort();
    for collection in names {
        let mut cursor = database
            .collection::<Document>(&collection)
            .list_indexes()
            .await
            .unwrap();
        while let Some(model) = cursor.try_next().await.unwrap() {
            let name = model
                .options
                .and_then(|options| options.name)
                .expect("a listed index has a name");
            found.push((collection.clone(), name, model.keys));
        }
    }
    found
}

#[tokio::test]
async fn every_index_on_tenant_data_leads_with_the_tenant() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let found = indexes(&db).await;

    // Not vacuous: start-up created the tenant collections' indexes the repositories rely on.
    for (collection, name) in [
        ("variants", "tenant_sku_unique"),
        ("movements", "tenant_variant_created"),
        ("orders", "tenant_status_id"),
        ("reservations", "tenant_status_id"),
        ("idempotencyRecords", "tenant_user_key_unique"),
    ] {
        assert!(
            found.iter().any(|(c, n, _)| c == collection && n == name),
            "start-up did not create {collection}.{name}; found {found:?}"
        );
    }

    let mut violations = Vec::new();
    for (collection, name, keys) in &found {
        if name == "_id_" || NOT_TENANT_DATA.iter().any(|(c, _)| c == collection) {
            continue;
        }
        if EXCEPTIONS
            .iter()
            .any(|(c, n, _)| c == collection && n == name)
        {
            continue;
        }
        if keys.keys().next().map(String::as_str) != Some("tenantId") {
            violations.push(format!("{collection}.{name} {keys}"));
        }
    }
    assert!(
        violations.is_empty(),
        "indexes on tenant data that do not start with tenantId: {violations:?}"
    );

    // Every exception names an index that exists, so a stale entry cannot hide a new one.
    for (collection, name, reason) in EXCEPTIONS {
        assert!(!reason.is_empty());
        assert!(
            found.iter().any(|(c, n, _)| c == collection && n == name),
            "the exception {collection}.{name} names no index"
        );
    }
    db.drop().await;
}

/// A database from before keys were scoped per user still has the per-tenant unique index, which
/// would refuse a colleague's record of the same key: start-up drops it and creates the
/// per-user one.
#[tokio::test]
async fn start_up_retires_the_per_tenant_idempotency_index() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let client = mongodb::Client::with_uri_str(db.url()).await.unwrap();
    let records = client
        .default_database()
        .expect("the URL names the database")
        .collection::<Document>("idempotencyRecords");
    records
        .drop_index("tenant_user_key_unique")
        .await
        .expect("the current index exists");
    records
        .create_index(
            mongodb::IndexModel::builder()
                .keys(mongodb::bson::doc! { "tenantId": 1, "key": 1 })
                .options(
                    mongodb::options::IndexOptions::builder()
                        .name("tenant_key_unique".to_owned())
                        .unique(true)
                        .build(),
                )
                .build(),
        )
        .await
        .unwrap();
    let again = infra_mongo::MongoStore::connect(db.url()).await.unwrap();
    drop(again);
    let names: Vec<String> = indexes(&db)
        .await
        .into_iter()
        .filter(|(c, _, _)| c == "idempotencyRecords")
        .map(|(_, n, _)| n)
        .collect();
    assert!(
        !names.contains(&"tenant_key_unique".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"tenant_user_key_unique".to_owned()),
        "{names:?}"
    );
}
