//! Order use cases: each loads the order, asks the aggregate for the transition
//! ([`super::aggregate`]), commits it through the ledger — the order guarded by its version, its
//! stock changes by the reserve-stock invariant — and publishes what happened.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::aggregate::{require_known, OrderTransition};
use super::models::{NewOrder, Order, OrderFilter, OrderStatus, ReturnRequest};
use crate::auth::models::{Action, Actor};
use crate::catalog::models::Variant;
use crate::error::{DomainError, Shortage, StoreError};
use crate::events::DomainEvent;
use crate::idempotency::{Idempotency, Outcome};
use crate::ids::{LocationId, OrderId, TenantId, VariantId};
use crate::locations::models::allocation_order;
use crate::locations::service::resolve;
use crate::pagination::{Page, PageRequest};
use crate::services::Deps;
use crate::stock::allocate::{allocate, Sources};
use crate::stock::models::{DocumentWrite, LedgerError, LedgerWrite};
use crate::stock::reserve::{ledger_error, Demand};

/// How many times an order naming no location is allocated before a shortage is final.
pub const ALLOCATION_ATTEMPTS: u32 = 3;

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
    /// allocated again from a new reading, at most [`ALLOCATION_ATTEMPTS`] times in all.
    pub async fn place(
        &self,
        actor: &Actor,
        new: NewOrder,
        idem: Option<Idempotency<Order>>,
    ) -> Result<Outcome<Order>, DomainError> {
        actor.require(Action::PlaceOrders)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(&tenant, idem, |scope| async move {
                let demand =
                    Demand::from_lines(new.lines.iter().map(|l| (l.variant_id, l.quantity.get())));
                let ids: Vec<VariantId> = demand.iter().map(|(id, _)| *id).collect();
                let sources = self.sources(&tenant, new.location_id).await?;
                let mut attempt = 1;
                let order = loop {
                    let variants: HashMap<VariantId, Variant> = self
                        .deps
                        .variants
                        .get_many(&tenant, &ids)
                        .await?
                        .into_iter()
                        .map(|v| (v.id, v))
                        .collect();
                    require_known(&new.lines, |id| variants.contains_key(id))?;
                    // Refuse from the current reading without taking locks when stock is
                    // clearly short; the ledger's conditional write below remains the guard.
                    let allocations = allocate(&demand, &variants, &sources)
                        .map_err(DomainError::InsufficientStock)?;
                    let now = self.deps.clock.now();
                    let OrderTransition {
                        next: order,
                        changes,
                    } = Order::place(actor, &new, &demand, &variants, &allocations, now);
                    let placed = order.clone();
                    let write = LedgerWrite {
                        changes,
                        document: DocumentWrite::InsertOrder(order.clone()),
                        idempotency: scope.as_ref().map(|s| s.ledger(move |_| placed.clone())),
                    };
                    match self.deps.commit_stock(&tenant, write).await? {
                        Ok(_) => break order,
                        Err(LedgerError::Insufficient(_))
                            if matches!(sources, Sources::Any(_))
                                && attempt < ALLOCATION_ATTEMPTS =>
                        {
                            attempt += 1;
                        }
                        Err(LedgerError::Insufficient(short)) => {
                            return Err(DomainError::InsufficientStock(
                                self.shortages(&tenant, &demand, &sources, short).await?,
                            ))
                        }
                        Err(LedgerError::VariantMissing(id)) => {
                            return Err(require_known(&new.lines, |v| *v != id).unwrap_err())
                        }
                        Err(e) => return Err(ledger_error(e)),
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

    /// The locations an order may draw on: the one it names (which must be active), or every
    /// active location in allocation order.
    async fn sources(
        &self,
        tenant: &TenantId,
        requested: Option<LocationId>,
    ) -> Result<Sources, DomainError> {
        if requested.is_some() {
            let location = resolve(&self.deps, tenant, requested, "locationId").await?;
            return Ok(Sources::At(location.id));
        }
        let locations = self.deps.locations.all(tenant).await?;
        Ok(Sources::Any(
            allocation_order(&locations).iter().map(|l| l.id).collect(),
        ))
    }

    /// The shortages to report when the ledger refused an order: per level for an order served
    /// from one location (what the ledger found), per variant over all sources otherwise (from
    /// a fresh reading, since the ledger saw only the levels the last allocation named).
    async fn shortages(
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
        let variants: HashMap<VariantId, Variant> = self
            .deps
            .variants
            .get_many(tenant, &ids)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
        Ok(match allocate(demand, &variants, sources) {
            Err(short) => short,
            // Stock came back in the meantime; report what the ledger refused, over all sources.
            Ok(_) => ledger
                .into_iter()
                .map(|s| Shortage {
                    location_id: None,
                    requested: demand.get(&s.variant_id),
                    available: variants.get(&s.variant_id).map_or(0, |v| v.stock),
                    ..s
                })
                .collect(),
        })
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

    /// PLACED → FULFILLED.
    pub async fn fulfil(
        &self,
        actor: &Actor,
        id: &OrderId,
        idem: Option<Idempotency<Order>>,
    ) -> Result<Outcome<Order>, DomainError> {
        actor.require(Action::FulfilOrders)?;
        self.transition(actor, id, idem, |order, now| order.fulfil(now))
            .await
    }

    /// PLACED → CANCELLED, returning every unit with RETURN movements.
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
    /// [`Order::return_items`]).
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
            .idempotent(&tenant, idem, |scope| async move {
                let current = self.get(actor, id).await?;
                let OrderTransition { next, changes } = decide(&current, self.deps.clock.now())?;
                let written = next.clone();
                let write = LedgerWrite {
                    changes,
                    document: DocumentWrite::UpdateOrder {
                        order: next.clone(),
                        expected_version: current.version,
                    },
                    idempotency: scope.map(|s| s.ledger(move |_| written.clone())),
                };
                match self.deps.commit_stock(&tenant, write).await? {
                    Ok(_) => {}
                    Err(LedgerError::Store(StoreError::VersionConflict)) => {
                        return Err(DomainError::VersionConflict {
                            entity: "order",
                            id: current.id.to_string(),
                        })
                    }
                    Err(e) => return Err(ledger_error(e)),
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::models::Role;
    use crate::error::Shortage;
    use crate::lock::{LockError, LockGuard, LockKey};
    use crate::orders::models::LineRequest;
    use crate::stock::models::Committed;
    use crate::testing::{actor, variant, MockPorts};
    use crate::values::Money;
    use crate::values::Quantity;

    fn line(variant_id: VariantId, quantity: i64) -> LineRequest {
        LineRequest {
            variant_id,
            quantity: Quantity::new(quantity).unwrap(),
        }
    }

    fn order_of(lines: Vec<LineRequest>) -> NewOrder {
        NewOrder {
            lines,
            customer: None,
            note: None,
        }
    }

    /// Ports where the listed variants exist with their stock.
    fn ports_with(variants: Vec<Variant>) -> MockPorts {
        let mut ports = MockPorts::default();
        ports.variants.expect_get_many().returning(move |_, ids| {
            Ok(variants
                .iter()
                .filter(|v| ids.contains(&v.id))
                .cloned()
                .collect())
        });
        ports
    }

    #[tokio::test]
    async fn locks_are_taken_in_sorted_order_and_demand_is_summed_per_variant() {
        let who = actor(Role::Staff);
        let a = variant(who.tenant_id, 10, 0);
        let b = variant(who.tenant_id, 10, 0);
        let (a_id, b_id) = (a.id, b.id);
        assert!(a_id < b_id);
        let mut ports = ports_with(vec![a, b]);
        let tenant = who.tenant_id;
        ports
            .lock
            .expect_acquire()
            .withf(move |keys, _| {
                keys == [
                    LockKey::variant(&tenant, &a_id),
                    LockKey::variant(&tenant, &b_id),
                ]
            })
            .times(1)
            .returning(|_, _| Ok(LockGuard::empty()));
        ports
            .ledger
            .expect_commit()
            .withf(move |_, write| {
                let deltas: Vec<(VariantId, i64)> =
                    write.changes.iter().map(|c| (c.variant_id, c.delta)).collect();
                deltas == vec![(a_id, -3), (b_id, -2)]
                    && matches!(&write.document, DocumentWrite::InsertOrder(o) if o.lines.len() == 2)
            })
            .times(1)
            .returning(|_, _| Ok(Committed::default()));
        ports.events.expect_publish().return_const(());
        let services = ports.build();

        // B first, A twice: one change per variant, sorted, A summed to 3.
        let order = services
            .orders
            .place(
                &who,
                order_of(vec![line(b_id, 2), line(a_id, 1), line(a_id, 2)]),
                None,
            )
            .await
            .unwrap()
            .fresh()
            .unwrap();
        assert_eq!(order.lines[0].variant_id, b_id);
        assert_eq!(order.lines[1].quantity, 3);
        assert_eq!(order.total.minor_units(), 5 * 1250);
        assert_eq!(order.status, OrderStatus::Placed);
    }

    #[tokio::test]
    async fn a_short_line_refuses_the_whole_order_and_lists_every_shortage() {
        let who = actor(Role::Staff);
        let a = variant(who.tenant_id, 1, 0);
        let b = variant(who.tenant_id, 0, 0);
        let c = variant(who.tenant_id, 50, 0);
        let (a_id, b_id, c_id) = (a.id, b.id, c.id);
        let mut ports = ports_with(vec![a, b, c]);
        ports.lock.expect_acquire().never();
        ports.ledger.expect_commit().never();
        ports.events.expect_publish().never();
        let services = ports.build();

        let err = services
            .orders
            .place(
                &who,
                order_of(vec![line(a_id, 2), line(b_id, 1), line(c_id, 1)]),
                None,
            )
            .await
            .unwrap_err();
        let DomainError::InsufficientStock(short) = err else {
            panic!("expected insufficient stock, got {err:?}");
        };
        assert_eq!(
            short,
            vec![
                Shortage {
                    variant_id: a_id,
                    requested: 2,
                    available: 1
                },
                Shortage {
                    variant_id: b_id,
                    requested: 1,
                    available: 0
                },
            ]
        );
    }

    #[tokio::test]
    async fn the_stores_refusal_is_final_even_when_the_reading_looked_fine() {
        let who = actor(Role::Staff);
        let a = variant(who.tenant_id, 1, 0);
        let a_id = a.id;
        let mut ports = ports_with(vec![a]);
        ports
            .lock
            .expect_acquire()
            .returning(|_, _| Ok(LockGuard::empty()));
        ports
            .ledger
            .expect_commit()
            .times(1)
            .returning(move |_, _| {
                Err(LedgerError::Insufficient(vec![Shortage {
                    variant_id: a_id,
                    requested: 1,
                    available: 0,
                }]))
            });
        ports.events.expect_publish().never();
        let services = ports.build();

        let err = services
            .orders
            .place(&who, order_of(vec![line(a_id, 1)]), None)
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::InsufficientStock(s) if s[0].available == 0));
    }

    #[tokio::test]
    async fn unknown_variants_are_named_by_line() {
        let who = actor(Role::Staff);
        let a = variant(who.tenant_id, 5, 0);
        let a_id = a.id;
        let mut ports = ports_with(vec![a]);
        ports.ledger.expect_commit().never();
        let services = ports.build();

        let err = services
            .orders
            .place(
                &who,
                order_of(vec![line(a_id, 1), line(VariantId::new(), 1)]),
                None,
            )
            .await
            .unwrap_err();
        let DomainError::Validation(fields) = err else {
            panic!("expected validation error");
        };
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].field, "lines[1].variantId");
    }

    #[tokio::test]
    async fn a_lock_timeout_is_retryable_and_writes_nothing() {
        let who = actor(Role::Staff);
        let a = variant(who.tenant_id, 5, 0);
        let a_id = a.id;
        let mut ports = ports_with(vec![a]);
        ports
            .lock
            .expect_acquire()
            .returning(|_, _| Err(LockError::Timeout));
        ports.ledger.expect_commit().never();
        let services = ports.build();

        let err = services
            .orders
            .place(&who, order_of(vec![line(a_id, 1)]), None)
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::LockTimeout));
    }

    #[tokio::test]
    async fn a_cancelled_order_cannot_be_fulfilled() {
        let who = actor(Role::Manager);
        let mut ports = MockPorts::default();
        let tenant = who.tenant_id;
        let user = who.user_id;
        ports.orders.expect_get().returning(move |_, id| {
            let now = chrono::Utc::now();
            Ok(Some(Order {
                id: *id,
                tenant_id: tenant,
                status: OrderStatus::Cancelled,
                lines: Vec::new(),
                customer: None,
                note: None,
                total: Money::ZERO,
                placed_by: user,
                created_at: now,
                updated_at: now,
                version: 2,
            }))
        });
        ports.ledger.expect_commit().never();
        let services = ports.build();

        let err = services
            .orders
            .fulfil(&who, &OrderId::new(), None)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            DomainError::InvalidTransition {
                from: "CANCELLED",
                to: "FULFILLED"
            }
        ));
    }
}
