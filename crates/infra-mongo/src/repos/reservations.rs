//! Reading reservations; they are written only by the ledger, together with the holds they
//! place, take, drop or extend.
//!
//! A list filtered by status judges the status at the instant given, in the query itself: ACTIVE
//! is stored ACTIVE and `expiresAt` after it, EXPIRED is stored EXPIRED or stored ACTIVE and
//! `expiresAt` at or before it. The tenant's lists are served by `{tenantId, status, _id}`; the
//! sweep's query, the one query across tenants, by `{status, expiresAt, _id}`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ids::{ReservationId, TenantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::reservations::models::{Reservation, ReservationFilter, ReservationStatus};
use domain::reservations::ports::ReservationRepository;
use domain::StoreError;
use futures::TryStreamExt;
use mongodb::bson::doc;

use crate::documents::{bson_time, ReservationDoc};
use crate::errors::StoreResult;
use crate::paging::read_page;
use crate::store::MongoStore;

#[async_trait]
impl ReservationRepository for MongoStore {
    async fn get(
        &self,
        tenant: &TenantId,
        id: &ReservationId,
    ) -> Result<Option<Reservation>, StoreError> {
        self.reservations()
            .find_one(doc! { "_id": id.to_string(), "tenantId": tenant.to_string() })
            .await
            .store("reading a reservation")?
            .map(Reservation::try_from)
            .transpose()
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &ReservationFilter,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<Reservation>, StoreError> {
        let mut query = doc! { "tenantId": tenant.to_string() };
        let now = bson_time(now);
        let active = ReservationStatus::Active.as_str();
        match filter.status {
            None => {}
            Some(ReservationStatus::Active) => {
                query.insert("status", active);
                query.insert("expiresAt", doc! { "$gt": now });
            }
            Some(ReservationStatus::Expired) => {
                query.insert(
                    "$or",
                    vec![
                        doc! { "status": ReservationStatus::Expired.as_str() },
                        doc! { "status": active, "expiresAt": { "$lte": now } },
                    ],
                );
            }
            Some(status) => {
                query.insert("status", status.as_str());
            }
        }
        read_page(
            &self.reservations(),
            query,
            page,
            Direction::Descending,
            Reservation::try_from,
            |r| r.id.to_string(),
        )
        .await
    }

    async fn expired(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Reservation>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let docs: Vec<ReservationDoc> = self
            .reservations()
            .find(doc! {
                "status": ReservationStatus::Active.as_str(),
                "expiresAt": { "$lte": bson_time(now) },
            })
            .sort(doc! { "expiresAt": 1, "_id": 1 })
            .limit(i64::from(limit))
            .await
            .store("finding expired reservations")?
            .try_collect()
            .await
            .store("finding expired reservations")?;
        docs.into_iter().map(Reservation::try_from).collect()
    }
}
