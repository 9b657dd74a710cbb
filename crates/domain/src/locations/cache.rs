//! The tenant's locations as an order's allocation reads them, kept for a moment.
//!
//! Every order that names no location needs the tenant's active locations in allocation order,
//! and they change a few times a year while orders come in by the thousand per second. Reading
//! them from the store for each order cost a store round trip per order — a tenth of the
//! throughput of a flash sale on the embedded store. So an allocation reads them from here, at
//! most [`crate::Settings::location_cache_ttl`] old. A location change made through this
//! process forgets its tenant's entry at once; one made on another instance reaches this one's
//! allocations within the time to live.
//!
//! Nothing that decides whether a write is allowed reads this: a named location, the default
//! location of an adjustment or receipt and the put-back of a cancellation are read fresh. A
//! stale list only changes the order in which locations are drawn on, or misses a location
//! created a moment ago; the ledger's conditional write still guards every unit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::models::Location;
use super::ports::LocationRepository;
use crate::error::StoreError;
use crate::ids::TenantId;

type Entry = (DateTime<Utc>, Arc<Vec<Location>>);

/// Locations per tenant with the time they were read.
pub(crate) struct LocationCache {
    ttl: chrono::Duration,
    entries: Mutex<HashMap<TenantId, Entry>>,
}

impl std::fmt::Debug for LocationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocationCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl LocationCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl: chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::zero()),
            entries: Mutex::default(),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<TenantId, Entry>> {
        // Each statement leaves the map whole, so a panic elsewhere cannot leave it torn.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The tenant's locations, read from `store` when the kept ones are older than the time to
    /// live at `now` (or were never read).
    pub(crate) async fn all(
        &self,
        store: &dyn LocationRepository,
        tenant: &TenantId,
        now: DateTime<Utc>,
    ) -> Result<Arc<Vec<Location>>, StoreError> {
        if let Some((read_at, locations)) = self.entries().get(tenant) {
            if now >= *read_at && now - *read_at < self.ttl {
                return Ok(locations.clone());
            }
        }
        let locations = Arc::new(store.all(tenant).await?);
        self.entries().insert(*tenant, (now, locations.clone()));
        Ok(locations)
    }

    /// Drops what is kept of the tenant, after this process changed its locations.
    pub(crate) fn forget(&self, tenant: &TenantId) {
        self.entries().remove(tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locations::ports::MockLocationRepository;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[tokio::test]
    async fn locations_are_read_once_per_time_to_live_and_again_once_forgotten() {
        let tenant = TenantId::new();
        let mut store = MockLocationRepository::new();
        store
            .expect_all()
            .times(3)
            .returning(|t| Ok(vec![Location::first_of(*t, at(0))]));
        let cache = LocationCache::new(Duration::from_secs(1));

        cache.all(&store, &tenant, at(0)).await.unwrap();
        cache.all(&store, &tenant, at(0)).await.unwrap();
        // One second later the entry is too old: read again (2).
        cache.all(&store, &tenant, at(1)).await.unwrap();
        cache.all(&store, &tenant, at(1)).await.unwrap();
        // Forgotten after a change here: read again (3).
        cache.forget(&tenant);
        let got = cache.all(&store, &tenant, at(1)).await.unwrap();
        assert_eq!(got.len(), 1);
    }

    #[tokio::test]
    async fn a_clock_that_went_back_reads_again() {
        let tenant = TenantId::new();
        let mut store = MockLocationRepository::new();
        store.expect_all().times(2).returning(|_| Ok(Vec::new()));
        let cache = LocationCache::new(Duration::from_secs(1));
        cache.all(&store, &tenant, at(5)).await.unwrap();
        cache.all(&store, &tenant, at(4)).await.unwrap();
    }
}
