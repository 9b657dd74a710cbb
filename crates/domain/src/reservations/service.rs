//! Reservation use cases: each loads the reservation, asks the aggregate for the transition
//! ([`super::aggregate`]) at the instant it runs, commits it through the ledger — the
//! reservation guarded by its version, its holds by the ledger's conditional write — and
//! publishes what happened.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::aggregate::{ConfirmedReservation, ReservationTransition};
use super::models::{
    Confirmation, HoldRequest, NewReservation, Reservation, ReservationFilter, ReservationStatus,
    Ttl,
};
use crate::auth::models::{Action, Actor};
use crate::catalog::models::Variant;
use crate::error::{DomainError, FieldErrors, Shortage, StoreError};
use crate::events::DomainEvent;
use crate::idempotency::{Idempotency, Outcome};
use crate::ids::{LocationId, ReservationId, TenantId, VariantId};
use crate::locations::service::resolve;
use crate::orders::models::{LineRequest, Order};
use crate::orders::service::OrderService;
use crate::pagination::{Page, PageRequest};
use crate::services::Deps;
use crate::stock::allocate::{allocate, Allocations, Sources};
use crate::stock::models::{DocumentWrite, LedgerError, LedgerWrite};
use crate::stock::placing::Placing;
use crate::stock::reserve::{ledger_error, Demand};

#[derive(Clone)]
pub struct ReservationService {
    deps: Arc<Deps>,
    orders: OrderService,
}

impl ReservationService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self {
            orders: OrderService::new(deps.clone()),
            deps,
        }
    }

    /// Holds every line or none, like placing an order: refused with every short line listed.
    /// A line naming a location is held there alone; the others are allocated across the
    /// active locations, again from a fresh reading when the ledger found the reading stale
    /// (another writer took the units first; see [`crate::stock::placing`]).
    pub async fn reserve(
        &self,
        actor: &Actor,
        new: NewReservation,
        idem: Option<Idempotency<Reservation>>,
    ) -> Result<Outcome<Reservation>, DomainError> {
        actor.require(Action::HoldStock)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let groups = self.groups(&tenant, &new).await?;
                let lines: Vec<LineRequest> = new.lines.iter().map(HoldRequest::line).collect();
                let ids: Vec<VariantId> = lines.iter().map(|l| l.variant_id).collect();
                let demand =
                    Demand::from_lines(lines.iter().map(|l| (l.variant_id, l.quantity.get())));
                let placing = Placing {
                    deps: &self.deps,
                    tenant,
                    lines: &lines,
                    retry: groups.iter().any(|(s, _)| matches!(s, Sources::Any(_))),
                };
                let placed = placing
                    .run(
                        |variants| allocate_groups(&groups, variants),
                        |variants, allocations, now| {
                            let ReservationTransition { next, changes } = Reservation::place(
                                actor,
                                &new,
                                &demand,
                                variants,
                                allocations,
                                now,
                            );
                            let placed = next.clone();
                            let write = LedgerWrite {
                                changes,
                                document: DocumentWrite::InsertReservation(next.clone()),
                                idempotency: scope
                                    .as_ref()
                                    .map(|s| s.ledger(move |_| placed.clone())),
                            };
                            Ok((next, write))
                        },
                    )
                    .await?;
                let reservation = match placed {
                    Ok(reservation) => reservation,
                    Err(short) => {
                        return Err(self.shortages(&tenant, &ids, &groups, short).await?)
                    }
                };
                self.deps
                    .publish(vec![event(&reservation, ReservationEvent::Created)])
                    .await;
                // Its time runs from when it was decided, lock wait included: a hold whose time
                // ran out while it waited to be written answers as what it is by now.
                Ok(reservation.as_of(self.deps.clock.now()))
            })
            .await
    }

    /// The request's demand grouped by where it may be held: each location a line names (checked
    /// active), and every active location for the lines naming none. 422 for a variant whose
    /// lines name different locations.
    async fn groups(
        &self,
        tenant: &TenantId,
        new: &NewReservation,
    ) -> Result<Vec<(Sources, Demand)>, DomainError> {
        let mut by_location: BTreeMap<Option<LocationId>, Demand> = BTreeMap::new();
        let mut named: HashMap<VariantId, Option<LocationId>> = HashMap::new();
        let mut errors = FieldErrors::new();
        for (i, line) in new.lines.iter().enumerate() {
            match named.insert(line.variant_id, line.location_id) {
                Some(earlier) if earlier != line.location_id => errors.add(
                    format!("lines[{i}].locationId"),
                    "differs from the location an earlier line of this variant names",
                ),
                _ => by_location
                    .entry(line.location_id)
                    .or_default()
                    .add(line.variant_id, line.quantity.get()),
            }
        }
        errors.finish()?;
        let mut groups = Vec::with_capacity(by_location.len());
        for (location, demand) in by_location {
            let field = new
                .lines
                .iter()
                .position(|l| l.location_id == location && location.is_some())
                .map(|i| format!("lines[{i}].locationId"));
            let sources = match field {
                Some(field) => {
                    let location = resolve(&self.deps, tenant, location, &field).await?;
                    Sources::At(location.id)
                }
                None => self.orders.sources(tenant, None).await?,
            };
            groups.push((sources, demand));
        }
        Ok(groups)
    }

    /// The shortages to report when the ledger refused a reservation: what the ledger found for
    /// lines held at a named location, and for the others what a fresh reading finds over
    /// every source. When that finds nothing short, the refusal is a retryable `LockTimeout`.
    async fn shortages(
        &self,
        tenant: &TenantId,
        ids: &[VariantId],
        groups: &[(Sources, Demand)],
        ledger: Vec<Shortage>,
    ) -> Result<DomainError, DomainError> {
        let variants = self.deps.variants_by_id(tenant, ids).await?;
        let mut short = Vec::new();
        for (sources, demand) in groups {
            match sources {
                Sources::At(_) => short.extend(
                    ledger
                        .iter()
                        .filter(|s| demand.get(&s.variant_id) > 0)
                        .cloned(),
                ),
                Sources::Any(_) => {
                    if let Err(s) = allocate(demand, &variants, sources) {
                        short.extend(s);
                    }
                }
            }
        }
        if short.is_empty() {
            Err(DomainError::LockTimeout)
        } else {
            Ok(DomainError::InsufficientStock(short))
        }
    }

    /// ACTIVE → CONFIRMED: places the order from the held units (reserved ↓, committed ↑).
    /// Refused 409 when the reservation is not ACTIVE at this instant — or its holds are no
    /// longer live when the ledger writes — and with `VersionConflict` when another transition
    /// (a release, a sweep, a second confirmation) landed first.
    pub async fn confirm(
        &self,
        actor: &Actor,
        id: &ReservationId,
        confirmation: Confirmation,
        idem: Option<Idempotency<Order>>,
    ) -> Result<Outcome<Order>, DomainError> {
        actor.require(Action::HoldStock)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let current = self.stored(&tenant, id).await?;
                let ids: Vec<VariantId> = current.lines.iter().map(|l| l.variant_id).collect();
                let variants = self.deps.variants_by_id(&tenant, &ids).await?;
                if let Some(line) = current
                    .lines
                    .iter()
                    .find(|l| !variants.contains_key(&l.variant_id))
                {
                    return Err(DomainError::Conflict(format!(
                        "variant {} of the reservation no longer exists",
                        line.variant_id
                    )));
                }
                let now = self.deps.clock.now();
                let ConfirmedReservation {
                    next,
                    order,
                    changes,
                } = current.confirm(actor, &confirmation, &variants, now)?;
                let placed = order.clone();
                let write = LedgerWrite {
                    changes,
                    document: DocumentWrite::ConfirmReservation {
                        reservation: next.clone(),
                        expected_version: current.version,
                        order: order.clone(),
                    },
                    idempotency: scope.as_ref().map(|s| s.ledger(move |_| placed.clone())),
                };
                match self.deps.commit_stock(&tenant, write).await? {
                    Ok(_) => {}
                    Err(e) => return Err(self.refusal(&current, e)),
                }
                self.deps
                    .publish(vec![
                        event(&next, ReservationEvent::Confirmed),
                        DomainEvent::OrderPlaced {
                            tenant_id: tenant,
                            order_id: order.id,
                            total: order.total,
                            at: order.created_at,
                        },
                    ])
                    .await;
                Ok(order)
            })
            .await
    }

    /// ACTIVE → RELEASED: the held units go back to available at once.
    pub async fn release(
        &self,
        actor: &Actor,
        id: &ReservationId,
        idem: Option<Idempotency<Reservation>>,
    ) -> Result<Outcome<Reservation>, DomainError> {
        actor.require(Action::HoldStock)?;
        self.transition(actor, id, idem, ReservationEvent::Released, |r, now| {
            r.release(actor.user_id, now)
        })
        .await
    }

    /// A live reservation held for `ttl` from now instead (longer or shorter).
    pub async fn extend(
        &self,
        actor: &Actor,
        id: &ReservationId,
        ttl: Ttl,
        idem: Option<Idempotency<Reservation>>,
    ) -> Result<Outcome<Reservation>, DomainError> {
        actor.require(Action::HoldStock)?;
        self.transition(actor, id, idem, ReservationEvent::Extended, |r, now| {
            r.extend(actor.user_id, ttl, now)
        })
        .await
    }

    /// The reservation as it reads now (EXPIRED once its `expiresAt` has passed).
    pub async fn get(&self, actor: &Actor, id: &ReservationId) -> Result<Reservation, DomainError> {
        actor.require(Action::ReadReservations)?;
        Ok(self
            .stored(&actor.tenant_id, id)
            .await?
            .as_of(self.deps.clock.now()))
    }

    /// Reservations newest first, each as it reads now; `filter.status` matches that status.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: &ReservationFilter,
        page: &PageRequest,
    ) -> Result<Page<Reservation>, DomainError> {
        actor.require(Action::ReadReservations)?;
        let now = self.deps.clock.now();
        let page = self
            .deps
            .reservations
            .list(&actor.tenant_id, filter, now, page)
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|r| r.as_of(now)).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Stores EXPIRED on up to `limit` reservations whose holds have expired, removing their
    /// holds, and publishes `reservation.expired` for each one this call stored. Safe on several
    /// instances at once: each transition is guarded by the version read, so a reservation is
    /// swept (or confirmed, or released) exactly once. Returns how many this call swept.
    ///
    /// Expiry never waits for this: an expired hold already counts for nothing in every read
    /// and write. Sweeping only keeps the stored status and the holds tidy.
    pub async fn sweep(&self, limit: u32) -> Result<usize, DomainError> {
        let now = self.deps.clock.now();
        let due = self.deps.reservations.expired(now, limit).await?;
        let mut swept = Vec::new();
        for reservation in due {
            let Some(ReservationTransition { next, mut changes }) = reservation.sweep(now) else {
                continue;
            };
            loop {
                let write = LedgerWrite {
                    changes: changes.clone(),
                    document: DocumentWrite::UpdateReservation {
                        reservation: next.clone(),
                        expected_version: reservation.version,
                    },
                    idempotency: None,
                };
                match self
                    .deps
                    .commit_stock(&reservation.tenant_id, write)
                    .await?
                {
                    Ok(_) => swept.push(event(&next, ReservationEvent::Expired)),
                    // Confirmed, released or swept by someone else since it was read.
                    Err(LedgerError::Store(StoreError::VersionConflict)) => {}
                    // A variant deleted once its hold had expired took the hold with it: there
                    // is nothing left to drop there.
                    Err(LedgerError::VariantMissing(gone)) => {
                        changes.retain(|c| c.variant_id != gone);
                        continue;
                    }
                    Err(e) => return Err(ledger_error(e)),
                }
                break;
            }
        }
        let count = swept.len();
        self.deps.publish(swept).await;
        Ok(count)
    }

    async fn transition(
        &self,
        actor: &Actor,
        id: &ReservationId,
        idem: Option<Idempotency<Reservation>>,
        what: ReservationEvent,
        decide: impl FnOnce(&Reservation, DateTime<Utc>) -> Result<ReservationTransition, DomainError>,
    ) -> Result<Outcome<Reservation>, DomainError> {
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let current = self.stored(&tenant, id).await?;
                let ReservationTransition { next, changes } =
                    decide(&current, self.deps.clock.now())?;
                let written = next.clone();
                let write = LedgerWrite {
                    changes,
                    document: DocumentWrite::UpdateReservation {
                        reservation: next.clone(),
                        expected_version: current.version,
                    },
                    idempotency: scope.map(|s| s.ledger(move |_| written.clone())),
                };
                match self.deps.commit_stock(&tenant, write).await? {
                    Ok(_) => {}
                    Err(e) => return Err(self.refusal(&current, e)),
                }
                self.deps.publish(vec![event(&next, what)]).await;
                Ok(next)
            })
            .await
    }

    /// A refused transition, phrased: a hold gone at the write is an expired reservation; a
    /// version conflict means another transition landed first (say which, when it did).
    fn refusal(&self, current: &Reservation, e: LedgerError) -> DomainError {
        match e {
            LedgerError::HoldGone(_) => DomainError::Conflict(format!(
                "reservation is {} and cannot be changed",
                ReservationStatus::Expired.as_str()
            )),
            LedgerError::Store(StoreError::VersionConflict) => DomainError::VersionConflict {
                entity: "reservation",
                id: current.id.to_string(),
            },
            e => ledger_error(e),
        }
    }

    async fn stored(
        &self,
        tenant: &TenantId,
        id: &ReservationId,
    ) -> Result<Reservation, DomainError> {
        self.deps
            .reservations
            .get(tenant, id)
            .await?
            .ok_or(DomainError::NotFound("reservation"))
    }
}

/// Allocates each group's demand over its sources, or lists every short variant of every group.
fn allocate_groups(
    groups: &[(Sources, Demand)],
    variants: &HashMap<VariantId, Variant>,
) -> Result<Allocations, Vec<Shortage>> {
    let mut allocations = Allocations::new();
    let mut short = Vec::new();
    for (sources, demand) in groups {
        match allocate(demand, variants, sources) {
            Ok(a) => allocations.extend(a),
            Err(s) => short.extend(s),
        }
    }
    if short.is_empty() {
        Ok(allocations)
    } else {
        Err(short)
    }
}

/// Which `reservation.*` event a transition publishes.
#[derive(Debug, Clone, Copy)]
enum ReservationEvent {
    Created,
    Confirmed,
    Released,
    Extended,
    Expired,
}

fn event(r: &Reservation, what: ReservationEvent) -> DomainEvent {
    let (tenant_id, reservation_id, at) = (r.tenant_id, r.id, r.updated_at);
    match what {
        ReservationEvent::Created => DomainEvent::ReservationCreated {
            tenant_id,
            reservation_id,
            units: r.lines.iter().map(|l| l.quantity).sum(),
            expires_at: r.expires_at,
            at,
        },
        ReservationEvent::Confirmed => DomainEvent::ReservationConfirmed {
            tenant_id,
            reservation_id,
            order_id: r.order_id.expect("a confirmed reservation names its order"),
            at,
        },
        ReservationEvent::Released => DomainEvent::ReservationReleased {
            tenant_id,
            reservation_id,
            at,
        },
        ReservationEvent::Extended => DomainEvent::ReservationExtended {
            tenant_id,
            reservation_id,
            expires_at: r.expires_at,
            at,
        },
        ReservationEvent::Expired => DomainEvent::ReservationExpired {
            tenant_id,
            reservation_id,
            expired_at: r.expires_at,
            at,
        },
    }
}
