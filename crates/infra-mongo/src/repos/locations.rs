//! Locations, unique by code within a tenant, and what they hold.
//!
//! A location's levels live inside the variant documents (`levels.<location id>` on hand,
//! `committed.<location id>` and the other kept claims, and the holds naming the location), so
//! listing a location's levels is a query on the variants that have a level there — or units
//! incoming there, which the variant document keeps per location too — each listed by state at the instant of the read, with what is available (on
//! hand less every claim, live holds included, which the low-stock filter compares with the
//! reorder level), and its holdings sum the units on hand: claimed units are still there. Making a
//! location the default is one transaction that clears the old default and sets the new one, so
//! no reader sees two defaults or none.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::idempotency::IdempotencyWrite;
use domain::ids::{LocationId, TenantId};
use domain::locations::models::{Holdings, LevelFilter, Location, LocationLevel};
use domain::locations::ports::LocationRepository;
use domain::pagination::{Direction, Page, PageRequest};
use domain::purchasing::models::PurchaseOrderStatus;
use domain::transfers::models::TransferStatus;
use domain::values::Sku;
use domain::StoreError;
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson};

use super::catalog_variants::{available_at, instant, integer};
use super::incoming::incoming_path;
use crate::documents::{bson_time, level_path, parse, valid, LocationDoc, VariantDoc};
use crate::errors::{unmatched_edit, StoreResult};
use crate::paging::read_page;
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

/// Statuses as their stored words.
fn statuses<S: Copy>(all: &[S], word: fn(S) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|s| word(*s)).collect()
}

#[async_trait]
impl LocationRepository for MongoStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        location: &Location,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError> {
        self.insert_with_idempotency(
            self.locations(),
            LocationDoc::of(tenant, location),
            tenant,
            idempotency,
            "creating a location",
        )
        .await
    }

    async fn get(
        &self,
        tenant: &TenantId,
        id: &LocationId,
    ) -> Result<Option<Location>, StoreError> {
        self.locations()
            .find_one(doc! { "_id": id.to_string(), "tenantId": tenant.to_string() })
            .await
            .store("reading a location")?
            .map(Location::try_from)
            .transpose()
    }

    async fn all(&self, tenant: &TenantId) -> Result<Vec<Location>, StoreError> {
        let docs: Vec<LocationDoc> = self
            .locations()
            .find(doc! { "tenantId": tenant.to_string() })
            .sort(doc! { "_id": 1 })
            .await
            .store("reading locations")?
            .try_collect()
            .await
            .store("reading locations")?;
        docs.into_iter().map(Location::try_from).collect()
    }

    async fn list(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> Result<Page<Location>, StoreError> {
        read_page(
            &self.locations(),
            doc! { "tenantId": tenant.to_string() },
            page,
            Direction::Ascending,
            Location::try_from,
            |l| l.id.to_string(),
        )
        .await
    }

    async fn update(
        &self,
        tenant: &TenantId,
        location: &Location,
        expected_version: Option<domain::precondition::Version>,
    ) -> Result<(), StoreError> {
        let key = doc! { "_id": location.id.to_string(), "tenantId": tenant.to_string() };
        let mut filter = key.clone();
        if let Some(version) = expected_version {
            // `updatedAt` in milliseconds, matched in the same single-document write.
            filter.insert("updatedAt", crate::documents::version_time(version));
        }
        let result = self
            .locations()
            .update_one(
                filter,
                doc! { "$set": {
                    "name": location.name.as_str(),
                    "active": location.active,
                    "priority": location.priority.get(),
                    "updatedAt": bson_time(location.updated_at),
                }},
            )
            .await
            .store("updating a location")?;
        if result.matched_count == 0 {
            return Err(unmatched_edit(&self.locations(), key, "location").await);
        }
        Ok(())
    }

    async fn make_default(
        &self,
        tenant: &TenantId,
        id: &LocationId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tenant = tenant.to_string();
        let id = id.to_string();
        let at = bson_time(at);
        self.in_transaction(move |session| {
            let store = self.clone();
            let tenant = tenant.clone();
            let id = id.clone();
            Box::pin(async move {
                let target = doc! { "_id": &id, "tenantId": &tenant, "active": true };
                let found = store
                    .locations()
                    .find_one(target.clone())
                    .session(&mut *session)
                    .await
                    .or_abort("reading the new default location")?;
                let Some(found) = found else {
                    return Err(Abort::Refuse(StoreError::NotFound));
                };
                // Each changed location's version moves: its time is the later of `at` and one
                // millisecond after its own.
                let later = |own: mongodb::bson::DateTime| {
                    mongodb::bson::DateTime::from_millis(
                        at.timestamp_millis().max(own.timestamp_millis() + 1),
                    )
                };
                // The old default is cleared by a filter evaluated by the write itself (a
                // reading of it could be stale under a concurrent move); its new time is one
                // millisecond past the latest of the defaults read here, or `at`.
                let clear = doc! { "tenantId": &tenant, "isDefault": true, "_id": { "$ne": &id } };
                let mut olds = store
                    .locations()
                    .find(clear.clone())
                    .session(&mut *session)
                    .await
                    .or_abort("reading the old default location")?;
                let mut latest = found.updated_at;
                while let Some(previous) = olds
                    .next(&mut *session)
                    .await
                    .transpose()
                    .or_abort("reading the old default location")?
                {
                    latest = latest.max(previous.updated_at);
                }
                store
                    .locations()
                    .update_many(
                        clear,
                        doc! { "$set": { "isDefault": false, "updatedAt": later(latest) } },
                    )
                    .session(&mut *session)
                    .await
                    .or_abort("clearing the old default location")?;
                store
                    .locations()
                    .update_one(
                        target,
                        doc! { "$set": { "isDefault": true, "updatedAt": later(found.updated_at) } },
                    )
                    .session(&mut *session)
                    .await
                    .or_abort("setting the default location")?;
                Ok(())
            })
        })
        .await
    }

    async fn levels(
        &self,
        tenant: &TenantId,
        id: &LocationId,
        filter: &LevelFilter,
        page: &PageRequest,
    ) -> Result<Page<LocationLevel>, StoreError> {
        let location = id.to_string();
        let field = level_path(&location);
        let now = instant();
        // A variant with units incoming here is listed even before its first unit arrives.
        let incoming = incoming_path(&location);
        let mut query = doc! {
            "tenantId": tenant.to_string(),
            "$or": [
                { &field: { "$exists": true } },
                { &incoming: { "$exists": true, "$ne": 0_i64 } },
            ],
        };
        if filter.low_stock {
            // The units available here (a variant with no level here has none).
            query.insert(
                "$expr",
                doc! { "$lte": [available_at(&location, now), "$reorderLevel"] },
            );
        }
        let docs = read_page(
            &self.variants(),
            query,
            page,
            Direction::Ascending,
            Ok,
            |d: &VariantDoc| d.id.clone(),
        )
        .await?;
        let items = docs
            .items
            .into_iter()
            .map(|d| {
                Ok(LocationLevel::new(
                    parse(&d.id, "variant id")?,
                    valid(Sku::new(&d.sku), "variant SKU")?,
                    d.state_at(&location, now),
                    d.incoming_at(&location),
                    d.reorder_level,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page {
            items,
            next_cursor: docs.next_cursor,
        })
    }

    async fn holdings(&self, tenant: &TenantId, id: &LocationId) -> Result<Holdings, StoreError> {
        let tenant = tenant.to_string();
        let location = id.to_string();
        let field = level_path(&location);
        let units = self
            .aggregate_rows(
                self.variants(),
                vec![
                    doc! { "$match": { "tenantId": &tenant, &field: { "$exists": true } } },
                    doc! { "$group": { "_id": Bson::Null, "units": { "$sum": format!("${field}") } } },
                ],
                "summing a location's stock",
            )
            .await?;
        let in_transit = self
            .aggregate_rows(
                self.transfers(),
                vec![
                    doc! { "$match": {
                        "tenantId": &tenant,
                        "toLocationId": &location,
                        "status": { "$in": statuses(&TransferStatus::IN_TRANSIT, TransferStatus::as_str) },
                    }},
                    doc! { "$unwind": "$lines" },
                    doc! { "$group": {
                        "_id": Bson::Null,
                        "units": { "$sum": { "$subtract": ["$lines.quantity", "$lines.received"] } },
                    }},
                ],
                "summing units in transit to a location",
            )
            .await?;
        let open_purchase_orders = self
            .purchase_orders()
            .count_documents(doc! {
                "tenantId": &tenant,
                "locationId": &location,
                "status": { "$in": statuses(&PurchaseOrderStatus::OPEN, PurchaseOrderStatus::as_str) },
            })
            .await
            .store("counting a location's purchase orders")?;
        let draft_transfers = self
            .transfers()
            .count_documents(doc! {
                "tenantId": &tenant,
                "status": TransferStatus::Draft.as_str(),
                "$or": [ { "fromLocationId": &location }, { "toLocationId": &location } ],
            })
            .await
            .store("counting a location's draft transfers")?;
        let sum = |rows: &[mongodb::bson::Document], what| {
            rows.first()
                .map_or(Ok(0), |row| integer(row.get("units"), what))
        };
        Ok(Holdings {
            units: sum(&units, "units at a location")?,
            in_transit_to: sum(&in_transit, "units in transit to a location")?,
            open_purchase_orders: open_purchase_orders as i64,
            draft_transfers: draft_transfers as i64,
        })
    }
}
