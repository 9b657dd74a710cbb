//! Bringing a database written before locations existed up to date, at start-up.
//!
//! Every tenant gets a default location ("Main", code `MAIN`), every unit of stock becomes a level
//! at it, and every movement and purchase order is said to be there; each line of an existing
//! order is allocated there in full. Several instances may start at once against the same
//! database, so every step is safe to run concurrently and again:
//!
//! - The default location's `_id` is derived from the tenant's id ([`default_location_id`]), so
//!   two instances insert the same document and the second gets a duplicate key, which it
//!   ignores.
//! - A variant without `levels` gets them with one update that matches only the variant still
//!   without levels and still at the stock that was read; if the stock changed in between (an
//!   older instance still writing), it is read again and retried.
//! - Movements, purchase orders and orders are updated with `updateMany` filters that match only
//!   documents still in the old shape, so a second run changes nothing.
//!
//! Once every step has run, a marker document in `migrations` spares later start-ups the scans.
//! [`MongoStore::migrate_locations`] itself always runs every step (it is what the marker
//! records), which is what a test of legacy data calls after inserting it.
//!
//! While it runs, no instance of a version before locations may write: its stock changes would
//! land in no level. Stop those instances first.
//!
//! A second step, with its own marker, gives every variant document the units incoming it keeps
//! since purchase-order writes count them (`repos::incoming`): each variant named on a purchase
//! order whose status counts as incoming, or whose map an instance already moved, has its map
//! recounted from the purchase orders in one transaction with the write, so a purchase-order
//! write racing it conflicts and is retried, and the map is exact when it commits. It runs after
//! the locations step (purchase orders need their destination first), and on its own on a
//! database whose locations were migrated before. Instances of a version before it must be
//! stopped first too: their purchase-order writes would not move the map.

use std::collections::HashMap;

use anyhow::{bail, Context};
use chrono::Utc;
use domain::ids::{LocationId, TenantId};
use domain::locations::models::{DEFAULT_LOCATION_CODE, DEFAULT_LOCATION_NAME};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};

use crate::documents::{bson_time, LocationDoc};
use crate::errors::{describe, is_duplicate_key};
use crate::store::{collections, MongoStore};

/// The `_id` of the marker recording that this migration completed.
const MARKER: &str = "locations";

/// The `_id` of the marker recording that every variant's units incoming were counted.
const INCOMING_MARKER: &str = "incoming";

/// Attempts at writing one variant's levels while its stock keeps changing under the migration.
const LEVEL_ATTEMPTS: u32 = 100;

/// XORed into the tenant id's random bits: the default location's id differs from the tenant's.
const DEFAULT_LOCATION_MASK: [u8; 10] =
    [0x4c, 0x6f, 0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x73, 0x21];

/// The id of the default location the migration gives `tenant`: a UUIDv7 with the tenant id's
/// timestamp (so it sorts among the tenant's oldest records) and random bits derived from the
/// tenant id's, the same on every instance.
pub fn default_location_id(tenant: &TenantId) -> LocationId {
    let uuid: uuid::Uuid = tenant.to_string().parse().expect("a tenant id is a UUID");
    let bytes = uuid.as_bytes();
    let millis = bytes[..6]
        .iter()
        .fold(0_u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut random = [0_u8; 10];
    for (i, r) in random.iter_mut().enumerate() {
        *r = bytes[6 + i] ^ DEFAULT_LOCATION_MASK[i];
    }
    LocationId::from_uuid(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
}

impl MongoStore {
    /// Runs [`MongoStore::migrate_locations`] unless a completed run is recorded, else
    /// [`MongoStore::migrate_incoming`] unless a completed run of it is recorded.
    pub(crate) async fn migrate_locations_once(&self) -> anyhow::Result<()> {
        if !self.migrated(MARKER).await? {
            return self.migrate_locations().await;
        }
        if !self.migrated(INCOMING_MARKER).await? {
            return self.migrate_incoming().await;
        }
        Ok(())
    }

    /// Whether the migration recorded as `marker` completed.
    async fn migrated(&self, marker: &str) -> anyhow::Result<bool> {
        Ok(self
            .raw(collections::MIGRATIONS)
            .find_one(doc! { "_id": marker })
            .await
            .context("reading the migration marker")?
            .is_some())
    }

    /// Records that the migration `marker` names completed.
    async fn record_migration(&self, marker: &str) -> anyhow::Result<()> {
        self.raw(collections::MIGRATIONS)
            .update_one(
                doc! { "_id": marker },
                doc! { "$setOnInsert": { "completedAt": bson_time(Utc::now()) } },
            )
            .upsert(true)
            .await
            .context("recording the migration")?;
        Ok(())
    }

    /// Counts every variant's units incoming from the purchase orders into its document (see
    /// the module docs), then records that it ran. Safe to run concurrently and again.
    pub async fn migrate_incoming(&self) -> anyhow::Result<()> {
        let variants = self
            .variants_to_recount()
            .await
            .context("listing the variants to count incoming units of")?;
        for (tenant, variant) in &variants {
            self.recount_incoming(tenant, variant)
                .await
                .with_context(|| format!("counting variant {variant}'s incoming units"))?;
        }
        self.record_migration(INCOMING_MARKER).await?;
        if !variants.is_empty() {
            tracing::info!(
                variants = variants.len(),
                "counted incoming units on variants"
            );
        }
        Ok(())
    }

    /// Migrates data written before locations existed (see the module docs): a default location
    /// per tenant, levels at it from the variants' stock, the location on movements and purchase
    /// orders, allocations on order lines, and the units incoming
    /// ([`MongoStore::migrate_incoming`]); then records that it ran. Safe to run concurrently on
    /// several instances and to run again; run by [`MongoStore::connect`] until it has completed
    /// once.
    pub async fn migrate_locations(&self) -> anyhow::Result<()> {
        let defaults = self.default_locations().await?;
        let levels = self.migrate_levels(&defaults).await?;
        let mut moved = 0;
        for (tenant, location) in &defaults {
            moved += self.migrate_documents(tenant, location).await?;
        }
        // Purchase orders have their destination now: what they have due can be counted.
        self.migrate_incoming().await?;
        self.record_migration(MARKER).await?;
        if levels + moved > 0 {
            tracing::info!(
                tenants = defaults.len(),
                variants = levels,
                documents = moved,
                "migrated data to locations"
            );
        }
        Ok(())
    }

    /// Every tenant's default location id (text), creating the ones missing.
    async fn default_locations(&self) -> anyhow::Result<HashMap<String, String>> {
        let mut defaults: HashMap<String, String> = HashMap::new();
        let mut existing = self
            .raw(collections::LOCATIONS)
            .find(doc! { "isDefault": true })
            .projection(doc! { "_id": 1, "tenantId": 1 })
            .await
            .context("reading default locations")?;
        while let Some(l) = existing
            .try_next()
            .await
            .context("reading default locations")?
        {
            defaults.insert(
                l.get_str("tenantId")
                    .context("a location's tenant")?
                    .to_owned(),
                l.get_str("_id").context("a location's id")?.to_owned(),
            );
        }
        let tenants: Vec<Document> = self
            .raw(collections::TENANTS)
            .find(doc! {})
            .projection(doc! { "_id": 1, "createdAt": 1 })
            .await
            .context("reading tenants")?
            .try_collect()
            .await
            .context("reading tenants")?;
        for t in tenants {
            let id = t.get_str("_id").context("a tenant's id")?;
            if defaults.contains_key(id) {
                continue;
            }
            let created = *t
                .get_datetime("createdAt")
                .context("a tenant's creation time")?;
            let tenant: TenantId = id.parse().with_context(|| format!("tenant id {id}"))?;
            let doc = LocationDoc {
                id: default_location_id(&tenant).to_string(),
                tenant_id: id.to_owned(),
                name: DEFAULT_LOCATION_NAME.to_owned(),
                code: DEFAULT_LOCATION_CODE.to_owned(),
                is_default: true,
                active: true,
                priority: 0,
                created_at: created,
                updated_at: created,
            };
            match self.locations().insert_one(&doc).await {
                Ok(_) => {}
                // Another instance inserted it first.
                Err(e) if is_duplicate_key(&e) => {}
                Err(e) => bail!(
                    "cannot create tenant {id}'s default location: {}",
                    describe(&e)
                ),
            }
            let found = self
                .raw(collections::LOCATIONS)
                .find_one(doc! { "tenantId": id, "isDefault": true })
                .await
                .context("reading a default location")?
                .with_context(|| {
                    format!(
                        "tenant {id} has no default location and another location holds code \
                         {DEFAULT_LOCATION_CODE}"
                    )
                })?;
            defaults.insert(
                id.to_owned(),
                found.get_str("_id").context("a location's id")?.to_owned(),
            );
        }
        Ok(defaults)
    }

    /// Gives every variant without levels a level at its tenant's default location holding its
    /// stock (none when it has neither stock nor movements). Returns how many it wrote.
    async fn migrate_levels(&self, defaults: &HashMap<String, String>) -> anyhow::Result<u64> {
        let variants = self.raw(collections::VARIANTS);
        let pending: Vec<Document> = variants
            .find(doc! { "levels": { "$exists": false } })
            .projection(doc! { "_id": 1, "tenantId": 1, "stock": 1 })
            .await
            .context("finding variants without levels")?
            .try_collect()
            .await
            .context("finding variants without levels")?;
        let mut written = 0;
        for v in pending {
            let id = v.get_str("_id").context("a variant's id")?.to_owned();
            let tenant = v
                .get_str("tenantId")
                .context("a variant's tenant")?
                .to_owned();
            let Some(location) = defaults.get(&tenant) else {
                tracing::warn!(variant = %id, %tenant, "a variant of no tenant keeps no levels");
                continue;
            };
            let mut stock = stock_of(&v)?;
            let mut attempts = 0;
            loop {
                attempts += 1;
                let levels = if stock != 0 || self.has_movements(&tenant, &id).await? {
                    doc! { location: stock }
                } else {
                    Document::new()
                };
                let updated = variants
                    .update_one(
                        doc! {
                            "_id": &id, "tenantId": &tenant,
                            "stock": stock, "levels": { "$exists": false },
                        },
                        doc! { "$set": { "levels": levels } },
                    )
                    .await
                    .context("writing a variant's levels")?;
                if updated.matched_count == 1 {
                    written += 1;
                    break;
                }
                // Another instance wrote them, the variant is gone, or its stock changed.
                let Some(now) = variants
                    .find_one(doc! { "_id": &id, "tenantId": &tenant })
                    .projection(doc! { "stock": 1, "levels": 1 })
                    .await
                    .context("reading a variant again")?
                else {
                    break;
                };
                if now.contains_key("levels") {
                    break;
                }
                if attempts >= LEVEL_ATTEMPTS {
                    bail!("variant {id}'s stock kept changing while its levels were written");
                }
                stock = stock_of(&now)?;
            }
        }
        Ok(written)
    }

    async fn has_movements(&self, tenant: &str, variant: &str) -> anyhow::Result<bool> {
        Ok(self
            .raw(collections::MOVEMENTS)
            .find_one(doc! { "tenantId": tenant, "variantId": variant })
            .projection(doc! { "_id": 1 })
            .await
            .context("looking for a variant's movements")?
            .is_some())
    }

    /// Puts the tenant's movements, purchase orders and order lines in the old shape at
    /// `location`. Returns how many documents it changed.
    async fn migrate_documents(&self, tenant: &str, location: &str) -> anyhow::Result<u64> {
        let mut changed = 0;
        for (collection, what) in [
            (collections::MOVEMENTS, "movements"),
            (collections::PURCHASE_ORDERS, "purchase orders"),
        ] {
            changed += self
                .raw(collection)
                .update_many(
                    doc! { "tenantId": tenant, "locationId": { "$exists": false } },
                    doc! { "$set": { "locationId": location } },
                )
                .await
                .with_context(|| format!("setting the location of {what}"))?
                .modified_count;
        }
        // Each line allocated in full at the location, its returns with it.
        let allocated = doc! {
            "$map": {
                "input": "$lines",
                "as": "line",
                "in": { "$mergeObjects": [
                    "$$line",
                    { "allocations": [ {
                        "locationId": { "$literal": location },
                        "quantity": "$$line.quantity",
                        "returned": "$$line.returned",
                    } ] },
                ] },
            },
        };
        changed += self
            .raw(collections::ORDERS)
            .update_many(
                doc! { "tenantId": tenant, "lines.allocations": { "$exists": false } },
                vec![doc! { "$set": { "lines": allocated } }],
            )
            .await
            .context("allocating the lines of orders")?
            .modified_count;
        Ok(changed)
    }
}

/// A variant document's stock, whichever integer width it was stored with.
fn stock_of(v: &Document) -> anyhow::Result<i64> {
    match v.get("stock") {
        Some(Bson::Int64(n)) => Ok(*n),
        Some(Bson::Int32(n)) => Ok(i64::from(*n)),
        other => bail!("a variant's stock is not an integer: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_location_id_is_derived_from_the_tenant_only() {
        let tenant = TenantId::new();
        let id = default_location_id(&tenant);
        assert_eq!(id, default_location_id(&tenant));
        assert_ne!(id.to_string(), tenant.to_string());
        assert_ne!(id, default_location_id(&TenantId::new()));
        let uuid: uuid::Uuid = id.to_string().parse().unwrap();
        assert_eq!(uuid.get_version_num(), 7);
        // The tenant's timestamp: it sorts with the tenant's oldest records.
        assert_eq!(id.to_string()[..13], tenant.to_string()[..13]);
    }
}
