//! The indexes Stockroom needs, created at start-up.
//!
//! Creating an index that already exists with the same keys and options is a no-op in MongoDB, so
//! this runs on every start. The unique indexes are part of the contract, not an optimisation:
//! they are what turns a second SKU, email, slug or idempotency key into a duplicate-key error.

use std::time::Duration;

use mongodb::bson::{doc, Document};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;

use crate::store::{collections, MongoStore};

/// One index: its collection, name, keys and whether it is unique or a TTL index.
struct IndexSpec {
    collection: &'static str,
    name: &'static str,
    keys: Document,
    unique: bool,
    /// Expire documents when the time in the (single) key field has passed.
    ttl: bool,
}

fn index(collection: &'static str, name: &'static str, keys: Document) -> IndexSpec {
    IndexSpec {
        collection,
        name,
        keys,
        unique: false,
        ttl: false,
    }
}

fn unique(collection: &'static str, name: &'static str, keys: Document) -> IndexSpec {
    IndexSpec {
        unique: true,
        ..index(collection, name, keys)
    }
}

fn specs() -> Vec<IndexSpec> {
    use collections::*;
    vec![
        unique(TENANTS, "slug_unique", doc! { "slug": 1 }),
        unique(
            USERS,
            "tenant_email_unique",
            doc! { "tenantId": 1, "email": 1 },
        ),
        index(USERS, "tenant_id", doc! { "tenantId": 1, "_id": 1 }),
        index(PRODUCTS, "tenant_id", doc! { "tenantId": 1, "_id": 1 }),
        unique(
            VARIANTS,
            "tenant_sku_unique",
            doc! { "tenantId": 1, "sku": 1 },
        ),
        index(VARIANTS, "tenant_id", doc! { "tenantId": 1, "_id": 1 }),
        index(
            VARIANTS,
            "tenant_product",
            doc! { "tenantId": 1, "productId": 1, "_id": 1 },
        ),
        index(
            MOVEMENTS,
            "tenant_variant_created",
            doc! { "tenantId": 1, "variantId": 1, "createdAt": 1 },
        ),
        index(
            MOVEMENTS,
            "tenant_created",
            doc! { "tenantId": 1, "createdAt": 1 },
        ),
        // Reports that read one kind of movement over a time range (top movers, recent sales,
        // purchases for valuation).
        index(
            MOVEMENTS,
            "tenant_kind_created",
            doc! { "tenantId": 1, "kind": 1, "createdAt": 1 },
        ),
        index(MOVEMENTS, "tenant_id", doc! { "tenantId": 1, "_id": 1 }),
        index(
            ORDERS,
            "tenant_status_id",
            doc! { "tenantId": 1, "status": 1, "_id": 1 },
        ),
        index(ORDERS, "tenant_id", doc! { "tenantId": 1, "_id": 1 }),
        index(
            ORDERS,
            "tenant_created",
            doc! { "tenantId": 1, "createdAt": 1 },
        ),
        index(SUPPLIERS, "tenant_id", doc! { "tenantId": 1, "_id": 1 }),
        index(
            PURCHASE_ORDERS,
            "tenant_status_id",
            doc! { "tenantId": 1, "status": 1, "_id": 1 },
        ),
        index(
            PURCHASE_ORDERS,
            "tenant_supplier",
            doc! { "tenantId": 1, "supplierId": 1 },
        ),
        index(
            PURCHASE_ORDERS,
            "tenant_id",
            doc! { "tenantId": 1, "_id": 1 },
        ),
        // Which open purchase orders are bound for a location (incoming per level, holdings).
        index(
            PURCHASE_ORDERS,
            "tenant_location_status",
            doc! { "tenantId": 1, "locationId": 1, "status": 1 },
        ),
        unique(
            LOCATIONS,
            "tenant_code_unique",
            doc! { "tenantId": 1, "code": 1 },
        ),
        index(LOCATIONS, "tenant_id", doc! { "tenantId": 1, "_id": 1 }),
        index(TRANSFERS, "tenant_id", doc! { "tenantId": 1, "_id": 1 }),
        // In-transit units (by status and variant) and filtered transfer lists.
        index(
            TRANSFERS,
            "tenant_status_id",
            doc! { "tenantId": 1, "status": 1, "_id": 1 },
        ),
        // Every tenant query of reservations leads with the tenant: by id, and filtered lists
        // (newest first) by status.
        index(RESERVATIONS, "tenant_id", doc! { "tenantId": 1, "_id": 1 }),
        index(
            RESERVATIONS,
            "tenant_status_id",
            doc! { "tenantId": 1, "status": 1, "_id": 1 },
        ),
        // The sweep's query — reservations stored ACTIVE whose expiry has passed, earliest
        // first — is the only one across tenants, so it alone does not lead with the tenant.
        index(
            RESERVATIONS,
            "status_expires",
            doc! { "status": 1, "expiresAt": 1, "_id": 1 },
        ),
        // A key is its sender's own: unique per (tenant, user, key), not per tenant.
        unique(
            IDEMPOTENCY,
            "tenant_user_key_unique",
            doc! { "tenantId": 1, "userId": 1, "key": 1 },
        ),
        IndexSpec {
            ttl: true,
            ..index(IDEMPOTENCY, "expires_ttl", doc! { "expiresAt": 1 })
        },
    ]
}

/// Indexes an earlier version created that must not stay: `(collection, name)`.
///
/// `idempotency_records.tenant_key_unique` made a key unique per tenant, so a colleague's record
/// of the same key would refuse (and so replay) another user's request.
const RETIRED: &[(&str, &str)] = &[(collections::IDEMPOTENCY, "tenant_key_unique")];

impl MongoStore {
    /// Drops the [`RETIRED`] indexes still present, then creates every index that does not exist
    /// yet.
    pub(crate) async fn create_indexes(&self) -> mongodb::error::Result<()> {
        for (collection, name) in RETIRED {
            let collection = self.db.collection::<Document>(collection);
            // A collection not created yet has no index to drop.
            let names = collection.list_index_names().await.unwrap_or_default();
            if names.iter().any(|n| n == name) {
                collection.drop_index(*name).await?;
            }
        }
        for spec in specs() {
            let mut options = IndexOptions::builder().name(spec.name.to_owned()).build();
            if spec.unique {
                options.unique = Some(true);
            }
            if spec.ttl {
                options.expire_after = Some(Duration::ZERO);
            }
            let model = IndexModel::builder()
                .keys(spec.keys)
                .options(options)
                .build();
            self.db
                .collection::<Document>(spec.collection)
                .create_index(model)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_are_unique_per_collection() {
        let specs = specs();
        for (i, a) in specs.iter().enumerate() {
            for b in &specs[i + 1..] {
                assert!(
                    a.collection != b.collection || a.name != b.name,
                    "{}.{} defined twice",
                    a.collection,
                    a.name
                );
            }
        }
    }
}
