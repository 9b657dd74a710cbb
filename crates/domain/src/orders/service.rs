//! Order use cases: each loads the order, asks the aggregate for the transition
//! ([`super::aggregate`]), commits it through the ledger — the order guarded by its version, its
//! stock changes by the reserve-stock invariant — and publishes what happened.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::aggregate::OrderTransition;
use super::models::{NewOrder, Order, OrderFilter, OrderStatus, ReturnRequest};
use crate::auth::models::{Action, Actor};
use crate::error::{DomainError, Shortage};
use crate::events::DomainEvent;
use crate::idempotency::{Idempotency, Outcome};
use crate::ids::{LocationId, OrderId, TenantId, VariantId};
use crate::locations::models::{allocation_order, Location};
use crate::locations::service::resolve;
use crate::pagination::{Page, PageRequest};
use crate::services::Deps;
use crate::stock::allocate::{allocate, Sources};
use crate::stock::models::{DocumentWrite, LedgerWrite, Level, MovementKind, StockChange};
use crate::stock::placing::Placing;
use crate::stock::reserve::Demand;

#[derive(Clone)]
pub struct OrderService {
    deps: Arc<Deps>,
}

impl OrderService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    /// Places an order: all lines are reserved or none. Refused with every short line listed
    /// when stock is missing, and with the offending line named when a variant is unknown.
    ///
    /// An order naming a location is served from it alone. One naming none is allocated across
    /// the active locations ([`crate::stock::allocate`]) from a fresh reading; if the ledger
    /// refuses it because the reading went stale (another writer took the units first), it is
    /// allocated again from a new reading ([`crate::stock::placing`]).
    pub async fn place(
        &self,
        actor: &Actor,
        new: NewOrder,
        idem: Option<Idempotency<Order>>,
    ) -> Result<Outcome<Order>, DomainError> {
        actor.require(Action::PlaceOrders)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let demand =
                    Demand::from_lines(new.lines.iter().map(|l| (l.variant_id, l.quantity.get())));
                let sources = self.sources(&tenant, new.location_id).await?;
                let placing = Placing {
                    deps: &self.deps,
                    tenant,
                    lines: &new.lines,
                    retry: matches!(sources, Sources::Any(_)),
                };
                let placed = placing
                    .run(
                        |variants| allocate(&demand, variants, &sources),
                        |variants, allocations, now| {
                            let OrderTransition { next, changes } =
                                Order::place(actor, &new, &demand, variants, allocations, now)?;
                            let placed = next.clone();
                            let write = LedgerWrite {
                                changes,
                                document: DocumentWrite::InsertOrder(next.clone()),
                                idempotency: scope
                                    .as_ref()
                                    .map(|s| s.ledger(move |_| placed.clone())),
                            };
                            Ok((next, write))
                        },
                    )
                    .await?;
                let order = match placed {
                    Ok(order) => order,
                    Err(short) => {
                        return Err(DomainError::InsufficientStock(
                            self.shortages(&tenant, &demand, &sources, short).await?,
                        ))
                    }
                };
                self.deps
                    .publish(vec![DomainEvent::OrderPlaced {
                        tenant_id: tenant,
                        order_id: order.id,
                        total: order.total,
                        at: order.created_at,
                    }])
                    .await;
                Ok(order)
            })
            .await
    }

    /// The locations an order may draw on: the one it names (which must be active, read fresh),
    /// or every active location in allocation order (as kept by [`crate::locations::cache`]).
    pub(crate) async fn sources(
        &self,
        tenant: &TenantId,
        requested: Option<LocationId>,
    ) -> Result<Sources, DomainError> {
        if requested.is_some() {
            let location = resolve(&self.deps, tenant, requested, "locationId").await?;
            return Ok(Sources::At(location.id));
        }
        let locations = self
            .deps
            .location_cache
            .all(self.deps.locations.as_ref(), tenant, self.deps.clock.now())
            .await?;
        Ok(Sources::Any(
            allocation_order(&locations).iter().map(|l| l.id).collect(),
        ))
    }

    /// The shortages to report when the ledger refused an order: per level for an order served
    /// from one location (what the ledger found), per variant over all sources otherwise (from
    /// a fresh reading, since the ledger saw only the levels the last allocation named). When
    /// that reading finds enough after all, the refusal is a retryable `LockTimeout`.
    pub(crate) async fn shortages(
        &self,
        tenant: &TenantId,
        demand: &Demand,
        sources: &Sources,
        ledger: Vec<Shortage>,
    ) -> Result<Vec<Shortage>, DomainError> {
        if matches!(sources, Sources::At(_)) {
            return Ok(ledger);
        }
        let ids: Vec<VariantId> = demand.iter().map(|(id, _)| *id).collect();
        let variants = self.deps.variants_by_id(tenant, &ids).await?;
        match allocate(demand, &variants, sources) {
            Err(short) => Ok(short),
            // Every attempt lost its units to another writer, yet the stock is there now: the
            // variant is contended, not short. Say so as a retryable refusal.
            Ok(_) => Err(DomainError::LockTimeout),
        }
    }

    pub async fn get(&self, actor: &Actor, id: &OrderId) -> Result<Order, DomainError> {
        actor.require(Action::ReadOrders)?;
        self.deps
            .orders
            .get(&actor.tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("order"))
    }

    pub async fn list(
        &self,
        actor: &Actor,
        filter: &OrderFilter,
        page: &PageRequest,
    ) -> Result<Page<Order>, DomainError> {
        actor.require(Action::ReadOrders)?;
        Ok(self
            .deps
            .orders
            .list(&actor.tenant_id, filter, page)
            .await?)
    }

    /// PLACED → FULFILLED: the committed units leave on hand with SALE movements where they were
    /// committed.
    pub async fn fulfil(
        &self,
        actor: &Actor,
        id: &OrderId,
        idem: Option<Idempotency<Order>>,
    ) -> Result<Outcome<Order>, DomainError> {
        actor.require(Action::FulfilOrders)?;
        self.transition(actor, id, idem, |order, now| {
            order.fulfil(actor.user_id, now)
        })
        .await
    }

    /// PLACED → CANCELLED, releasing the order's commitment (an order sold at placement returns
    /// its units with RETURN movements where they were taken from; see [`put_back`] for a
    /// location deactivated since).
    pub async fn cancel(
        &self,
        actor: &Actor,
        id: &OrderId,
        idem: Option<Idempotency<Order>>,
    ) -> Result<Outcome<Order>, DomainError> {
        actor.require(Action::CancelOrders)?;
        self.transition(actor, id, idem, |order, now| {
            order.cancel(actor.user_id, now)
        })
        .await
    }

    /// FULFILLED or PARTIALLY_RETURNED → PARTIALLY_RETURNED or RETURNED (see
    /// [`Order::return_items`]); units going back to a location deactivated since go to the
    /// default ([`put_back`]).
    pub async fn return_items(
        &self,
        actor: &Actor,
        id: &OrderId,
        request: ReturnRequest,
        idem: Option<Idempotency<Order>>,
    ) -> Result<Outcome<Order>, DomainError> {
        actor.require(Action::ReturnOrders)?;
        if request.location_id.is_some() {
            resolve(
                &self.deps,
                &actor.tenant_id,
                request.location_id,
                "locationId",
            )
            .await?;
        }
        self.transition(actor, id, idem, |order, now| {
            order.return_items(&request, actor.user_id, now)
        })
        .await
    }

    /// Loads the order, asks `decide` for the transition, and writes the next version with its
    /// stock changes in one ledger transaction, guarded by the version read.
    async fn transition(
        &self,
        actor: &Actor,
        id: &OrderId,
        idem: Option<Idempotency<Order>>,
        decide: impl FnOnce(&Order, DateTime<Utc>) -> Result<OrderTransition, DomainError>,
    ) -> Result<Outcome<Order>, DomainError> {
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let current = self.get(actor, id).await?;
                let OrderTransition { next, changes } = decide(&current, self.deps.clock.now())?;
                let changes = if changes.is_empty() {
                    changes
                } else {
                    put_back(changes, &self.deps.locations.all(&tenant).await?)
                };
                let document = DocumentWrite::UpdateOrder {
                    order: next.clone(),
                    expected_version: current.version,
                };
                let next = self
                    .deps
                    .commit_transition(
                        &tenant,
                        changes,
                        document,
                        next,
                        scope,
                        ("order", current.id.to_string()),
                    )
                    .await?;
                let event = match next.status {
                    OrderStatus::Fulfilled => Some(DomainEvent::OrderFulfilled {
                        tenant_id: tenant,
                        order_id: next.id,
                        at: next.updated_at,
                    }),
                    OrderStatus::Cancelled => Some(DomainEvent::OrderCancelled {
                        tenant_id: tenant,
                        order_id: next.id,
                        at: next.updated_at,
                    }),
                    _ => None,
                };
                self.deps.publish(event.into_iter().collect()).await;
                Ok(next)
            })
            .await
    }
}

/// Units coming back (RETURNs) to a location deactivated since they left it go to the default
/// location instead, so no unit ever lands at an inactive location; changes that then name the
/// same level are merged into one. Sales and releases stay where the units were committed.
fn put_back(changes: Vec<StockChange>, locations: &[Location]) -> Vec<StockChange> {
    let Some(default) = locations.iter().find(|l| l.is_default) else {
        return changes;
    };
    let inactive: HashSet<LocationId> = locations
        .iter()
        .filter(|l| !l.active)
        .map(|l| l.id)
        .collect();
    let mut merged: BTreeMap<Level, StockChange> = BTreeMap::new();
    for mut change in changes {
        if change.kind == MovementKind::Return && inactive.contains(&change.location_id) {
            change.location_id = default.id;
        }
        match merged.get_mut(&change.level()) {
            Some(kept) => {
                kept.delta += change.delta;
                kept.claims = kept.claims.plus(&change.claims);
            }
            None => {
                merged.insert(change.level(), change);
            }
        }
    }
    merged.into_values().collect()
}
