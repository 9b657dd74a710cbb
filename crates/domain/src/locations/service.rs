//! Location use cases, and the one rule every stock write uses to name its location.

use std::sync::Arc;

use super::models::{Holdings, LevelFilter, Location, LocationLevel, LocationPatch, NewLocation};
use crate::auth::models::{Action, Actor};
use crate::error::{DomainError, StoreError};
use crate::idempotency::{Idempotency, Outcome};
use crate::ids::{LocationId, TenantId};
use crate::pagination::{Page, PageRequest};
use crate::precondition::{lost_race, next_edit_time, retries, Precondition, EDIT_ATTEMPTS};
use crate::services::Deps;
use crate::values::LocationPriority;

#[derive(Clone)]
pub struct LocationService {
    deps: Arc<Deps>,
}

fn code_taken(location: &Location) -> DomainError {
    DomainError::Conflict(format!(
        "location code '{}' already exists in this tenant",
        location.code.as_str()
    ))
}

impl LocationService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    /// Creates an active location that is not the default.
    pub async fn create(
        &self,
        actor: &Actor,
        new: NewLocation,
        idem: Option<Idempotency<Location>>,
    ) -> Result<Outcome<Location>, DomainError> {
        actor.require(Action::WriteLocations)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let now = self.deps.clock.now();
                let location = Location {
                    id: LocationId::new(),
                    tenant_id: tenant,
                    name: new.name,
                    code: new.code,
                    is_default: false,
                    active: true,
                    priority: new.priority.unwrap_or(LocationPriority::DEFAULT),
                    created_at: now,
                    updated_at: now,
                };
                let record = scope.map(|s| s.record(&location));
                match self.deps.locations.insert(&tenant, &location, record).await {
                    Ok(()) => {
                        self.deps.location_cache.forget(&tenant);
                        Ok(location)
                    }
                    Err(StoreError::Duplicate) => Err(code_taken(&location)),
                    Err(e) => Err(e.into()),
                }
            })
            .await
    }

    pub async fn get(&self, actor: &Actor, id: &LocationId) -> Result<Location, DomainError> {
        actor.require(Action::ReadLocations)?;
        self.deps
            .locations
            .get(&actor.tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("location"))
    }

    pub async fn list(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<Location>, DomainError> {
        actor.require(Action::ReadLocations)?;
        Ok(self.deps.locations.list(&actor.tenant_id, page).await?)
    }

    /// Renames, reprioritises, (de)activates, or makes the location the default. The default
    /// cannot be deactivated (make another the default first), an inactive location cannot
    /// become the default, and a location is deactivated only while it holds no units, nothing
    /// is in transit to it and no open purchase order or draft transfer names it.
    pub async fn update(
        &self,
        actor: &Actor,
        id: &LocationId,
        patch: LocationPatch,
        precondition: Option<Precondition>,
    ) -> Result<Location, DomainError> {
        actor.require(Action::WriteLocations)?;
        let tenant = actor.tenant_id;
        let mut attempt = 0;
        let location = loop {
            attempt += 1;
            let mut location = self.get(actor, id).await?;
            let read = location.version();
            Precondition::check(precondition.as_ref(), "location", read)?;
            let active = patch.active.unwrap_or(location.active);
            if patch.make_default && !active {
                return Err(DomainError::invalid(
                    "isDefault",
                    "an inactive location cannot be the default",
                ));
            }
            if !active && location.active {
                if location.is_default && !patch.make_default {
                    return Err(DomainError::Conflict(
                        "the default location cannot be deactivated; make another location the \
                         default first"
                            .into(),
                    ));
                }
                let holdings = self.deps.locations.holdings(&tenant, id).await?;
                if !holdings.is_empty() {
                    return Err(DomainError::Conflict(still_holds(&holdings)));
                }
            }
            if let Some(name) = patch.name.clone() {
                location.name = name;
            }
            if let Some(priority) = patch.priority {
                location.priority = priority;
            }
            location.active = active;
            location.updated_at = next_edit_time(location.updated_at, self.deps.clock.now());
            self.deps.location_cache.forget(&tenant);
            match self
                .deps
                .locations
                .update(&tenant, &location, Some(read))
                .await
            {
                Ok(()) => break location,
                Err(StoreError::NotFound) => return Err(DomainError::NotFound("location")),
                Err(StoreError::VersionConflict)
                    if retries(precondition.as_ref()) && attempt < EDIT_ATTEMPTS => {}
                Err(StoreError::VersionConflict) => {
                    return Err(lost_race(precondition.as_ref(), "location", id.to_string()))
                }
                Err(e) => return Err(e.into()),
            }
        };
        let now = location.updated_at;
        if patch.make_default && !location.is_default {
            match self.deps.locations.make_default(&tenant, id, now).await {
                Ok(()) => {}
                Err(StoreError::NotFound) => {
                    return Err(DomainError::Conflict(
                        "the location was deactivated concurrently; it cannot be the default"
                            .into(),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.deps.location_cache.forget(&tenant);
        self.get(actor, id).await
    }

    /// The levels held at a location, by variant id.
    pub async fn levels(
        &self,
        actor: &Actor,
        id: &LocationId,
        filter: &LevelFilter,
        page: &PageRequest,
    ) -> Result<Page<LocationLevel>, DomainError> {
        actor.require(Action::ReadLocations)?;
        self.get(actor, id).await?;
        Ok(self
            .deps
            .locations
            .levels(&actor.tenant_id, id, filter, page)
            .await?)
    }
}

/// Why a location cannot be deactivated yet, naming everything that keeps it.
fn still_holds(h: &Holdings) -> String {
    let mut reasons = Vec::new();
    if h.units != 0 {
        reasons.push(format!("it holds {} units", h.units));
    }
    if h.in_transit_to != 0 {
        reasons.push(format!("{} units are in transit to it", h.in_transit_to));
    }
    if h.open_purchase_orders != 0 {
        reasons.push(format!(
            "{} open purchase orders are bound for it",
            h.open_purchase_orders
        ));
    }
    if h.draft_transfers != 0 {
        reasons.push(format!("{} draft transfers name it", h.draft_transfers));
    }
    format!("the location cannot be deactivated: {}", reasons.join(", "))
}

/// The location a stock write names in the field `field` of its request: the tenant's default
/// when none is given, else the named one, which MUST exist in the tenant and be active.
/// Another tenant's location reads as one that does not exist (422 naming the field).
pub(crate) async fn resolve(
    deps: &Deps,
    tenant: &TenantId,
    requested: Option<LocationId>,
    field: &str,
) -> Result<Location, DomainError> {
    match requested {
        None => default_of(deps, tenant).await,
        Some(id) => {
            let location = deps
                .locations
                .get(tenant, &id)
                .await?
                .ok_or_else(|| DomainError::invalid(field, "no such location"))?;
            if !location.active {
                return Err(DomainError::invalid(field, "the location is inactive"));
            }
            Ok(location)
        }
    }
}

/// The tenant's default location.
pub(crate) async fn default_of(deps: &Deps, tenant: &TenantId) -> Result<Location, DomainError> {
    deps.locations
        .all(tenant)
        .await?
        .into_iter()
        .find(|l| l.is_default)
        .ok_or_else(|| {
            DomainError::Unknown(anyhow::anyhow!("tenant {tenant} has no default location"))
        })
}
