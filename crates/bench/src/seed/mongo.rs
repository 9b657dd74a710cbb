//! Seeding a MongoDB store with `insert_many`, in the document shapes of `crates/infra-mongo`
//! (camelCase fields, `_id` = the UUIDv7 text, times as BSON DateTime).
//!
//! As the ledger does: a variant's levels are a map `levels: {"<locationId>": stock}` in its
//! document, next to the total `stock`; a level appears at its first movement, and both change by
//! what the movements moved. Every document is written in the current shape, so the store's
//! start-up migration of pre-location data has nothing to do with a seeded tenant.

use anyhow::Context;
use domain::locations::models::{DEFAULT_LOCATION_CODE, DEFAULT_LOCATION_NAME};
use futures::{StreamExt, TryStreamExt};
use mongodb::bson::{doc, DateTime, Document};
use mongodb::{Client, Database};

use super::{level_sums, levels_of, new_id, total_of, Movement, TenantSeed};

/// Documents per `insert_many` call.
const BATCH: usize = 5_000;

/// Writes in flight at once while seeding: the server works on several while the seeder waits
/// for one, so seeding is bound by the server's throughput rather than by round trips.
const IN_FLIGHT: usize = 8;

pub struct MongoSeeder {
    db: Database,
}

impl MongoSeeder {
    /// Connects to the database named in `url`.
    pub async fn connect(url: &str, database: &str) -> anyhow::Result<Self> {
        let client = Client::with_uri_str(url)
            .await
            .context("connecting to MongoDB")?;
        Ok(MongoSeeder {
            db: client.database(database),
        })
    }

    /// A tenant with its default location and one product of `variants` variants (stock 0,
    /// reorder level 10, no level yet).
    pub async fn add_tenant(
        &self,
        slug: &str,
        variants: usize,
        now_ms: i64,
    ) -> anyhow::Result<TenantSeed> {
        let (tenant_id, location_id, product_id) = (new_id(), new_id(), new_id());
        let now = DateTime::from_millis(now_ms);
        self.db
            .collection::<Document>("tenants")
            .insert_one(doc! { "_id": &tenant_id, "name": format!("Seeded {slug}"), "slug": slug, "createdAt": now })
            .await?;
        self.db
            .collection::<Document>("locations")
            .insert_one(doc! {
                "_id": &location_id, "tenantId": &tenant_id, "name": DEFAULT_LOCATION_NAME,
                "code": DEFAULT_LOCATION_CODE, "isDefault": true, "active": true,
                "priority": 0_i64, "createdAt": now, "updatedAt": now,
            })
            .await?;
        self.db
            .collection::<Document>("products")
            .insert_one(doc! {
                "_id": &product_id, "tenantId": &tenant_id, "name": "Seeded product",
                "description": null, "createdAt": now, "updatedAt": now,
            })
            .await?;
        let ids: Vec<String> = (0..variants).map(|_| new_id()).collect();
        let docs: Vec<Document> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                doc! {
                    "_id": id, "tenantId": &tenant_id, "productId": &product_id,
                    "sku": format!("SEED-{i:05}"), "attributes": [{ "name": "size", "value": "M" }],
                    "price": 1999_i64, "reorderLevel": 10_i64, "stock": 0_i64, "levels": {},
                    "createdAt": now, "updatedAt": now,
                }
            })
            .collect();
        for chunk in docs.chunks(BATCH) {
            self.db
                .collection::<Document>("variants")
                .insert_many(chunk.to_vec())
                .await?;
        }
        Ok(TenantSeed {
            tenant_id,
            location_id,
            actor: new_id(),
            variants: ids,
        })
    }

    /// Appends `movements` of `tenant` and adds to each level, and to each variant's total
    /// `stock`, what they moved.
    pub async fn add_ledger(
        &self,
        tenant: &TenantSeed,
        movements: &[Movement],
    ) -> anyhow::Result<()> {
        let collection = self.db.collection::<Document>("movements");
        futures::stream::iter(movements.chunks(BATCH))
            .map(|chunk| {
                let docs: Vec<Document> = chunk.iter().map(movement_doc).collect();
                let collection = collection.clone();
                async move {
                    collection
                        .insert_many(docs)
                        .ordered(false)
                        .await
                        .context("inserting movements")
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .try_collect::<Vec<_>>()
            .await?;
        let levels = level_sums(movements);
        let variants = self.db.collection::<Document>("variants");
        futures::stream::iter(&tenant.variants)
            .map(|variant| {
                let mut inc = doc! { "stock": total_of(&levels, variant) };
                for (location, moved) in levels_of(&levels, variant) {
                    inc.insert(format!("levels.{location}"), moved);
                }
                let variants = variants.clone();
                async move {
                    let updated = variants
                        .update_one(
                            doc! { "_id": variant, "tenantId": &tenant.tenant_id },
                            doc! { "$inc": inc },
                        )
                        .await?;
                    anyhow::ensure!(
                        updated.matched_count == 1,
                        "variant {variant} is not in the store"
                    );
                    Ok(())
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// Movements in the database (all tenants).
    pub async fn movement_count(&self) -> anyhow::Result<i64> {
        let n = self
            .db
            .collection::<Document>("movements")
            .count_documents(doc! {})
            .await?;
        Ok(n as i64)
    }
}

fn movement_doc(m: &Movement) -> Document {
    doc! {
        "_id": &m.id, "tenantId": &m.tenant_id, "variantId": &m.variant_id,
        "locationId": &m.location_id, "kind": m.kind, "quantity": m.quantity,
        "stockAfter": m.stock_after, "reason": m.reason, "orderId": null, "purchaseOrderId": null,
        "transferId": null, "unitCost": m.unit_cost, "actor": &m.actor,
        "createdAt": DateTime::from_millis(m.created_at_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{test_mongo_url, with_database};
    use crate::seed::{assert_clean_through_ports, movements};
    use rand::SeedableRng;

    #[tokio::test]
    async fn a_seeded_ledger_passes_the_adapters_own_audit() {
        let Some(url) = test_mongo_url("the MongoDB seeding test") else {
            return;
        };
        let database = format!("bench_seed_{}", uuid::Uuid::now_v7().simple());
        let url = with_database(&url, &database).unwrap();
        let store = infra_mongo::MongoStore::connect(&url).await.unwrap();
        let seeder = MongoSeeder::connect(&url, &database).await.unwrap();
        let tenant = seeder.add_tenant("seeded-mongo", 4, 1_000).await.unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let (ms, stock) = movements(&mut rng, &tenant, 300, 10_000, 20_000_000);
        seeder.add_ledger(&tenant, &ms).await.unwrap();
        assert_eq!(seeder.movement_count().await.unwrap(), 300);

        // The database is dropped whatever the checks find.
        let checked = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
            assert_clean_through_ports(&store, &tenant, &stock),
        ))
        .await;
        seeder.db.drop().await.unwrap();
        if let Err(panic) = checked {
            std::panic::resume_unwind(panic);
        }
    }
}
