//! Reading reservations. Reservations are written only through the ledger, together with the
//! holds they place, take, drop or extend.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::models::{Reservation, ReservationFilter};
use crate::error::StoreError;
use crate::ids::{ReservationId, TenantId};
use crate::pagination::{Page, PageRequest};

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReservationRepository: Send + Sync {
    /// The reservation as stored (an expired one may still be stored ACTIVE).
    async fn get(
        &self,
        tenant: &TenantId,
        id: &ReservationId,
    ) -> Result<Option<Reservation>, StoreError>;

    /// Reservations of the tenant, newest first, as stored. `filter.status` is matched as the
    /// status reads at `now`: ACTIVE matches those stored ACTIVE with `expires_at > now`;
    /// EXPIRED those stored EXPIRED or stored ACTIVE with `expires_at <= now`; the others as
    /// stored.
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &ReservationFilter,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<Reservation>, StoreError>;

    /// Up to `limit` reservations of any tenant stored ACTIVE whose `expires_at <= now`, the
    /// earliest expiry first: what a sweep stores as EXPIRED.
    async fn expired(&self, now: DateTime<Utc>, limit: u32)
        -> Result<Vec<Reservation>, StoreError>;
}
