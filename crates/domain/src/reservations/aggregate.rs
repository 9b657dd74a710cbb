//! The reservation's behaviour: placing one, and every transition of its state machine.
//!
//! Each method checks the transition is allowed from the reservation's status *at the instant
//! given* ([`Reservation::status_at`]) and returns the next version with the stock changes to
//! write with it. The service commits them through the ledger guarded by the version read, and
//! the ledger refuses to take or extend a hold that is no longer live when written, so a
//! confirmation racing the expiry instant ends confirmed or expired, never both.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::models::{
    Confirmation, HoldAllocation, NewReservation, Reservation, ReservationLine, ReservationStatus,
    Ttl,
};
use crate::auth::models::Actor;
use crate::catalog::models::Variant;
use crate::error::DomainError;
use crate::ids::{ReservationId, UserId, VariantId};
use crate::orders::models::{LineRequest, NewOrder, Order};
use crate::stock::allocate::Allocations;
use crate::stock::models::{Level, StockChange};
use crate::stock::reserve::Demand;
use crate::values::Quantity;

/// A checked transition: the reservation as it will be stored, and the holds it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ReservationTransition {
    pub next: Reservation,
    pub changes: Vec<StockChange>,
}

/// A confirmation: the reservation CONFIRMED, the order placed from its units, and the changes
/// that turn its holds into the order's commitment.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmedReservation {
    pub next: Reservation,
    pub order: Order,
    pub changes: Vec<StockChange>,
}

impl Reservation {
    /// A new ACTIVE reservation for `demand`, one line per variant in the order first
    /// requested, holding its units where `allocations` says until `new.ttl` from `now`. Every
    /// requested variant MUST be in `variants` and in `allocations`.
    pub fn place(
        actor: &Actor,
        new: &NewReservation,
        demand: &Demand,
        variants: &HashMap<VariantId, Variant>,
        allocations: &Allocations,
        now: DateTime<Utc>,
    ) -> ReservationTransition {
        let mut lines: Vec<ReservationLine> = Vec::with_capacity(demand.len());
        for request in &new.lines {
            if lines.iter().any(|l| l.variant_id == request.variant_id) {
                continue;
            }
            let variant = &variants[&request.variant_id];
            lines.push(ReservationLine {
                variant_id: variant.id,
                sku: variant.sku.clone(),
                quantity: demand.get(&variant.id),
                allocations: allocations[&variant.id]
                    .iter()
                    .map(|(location_id, quantity)| HoldAllocation {
                        location_id: *location_id,
                        quantity: *quantity,
                    })
                    .collect(),
            });
        }
        let reservation = Reservation {
            id: ReservationId::new(),
            tenant_id: actor.tenant_id,
            status: ReservationStatus::Active,
            lines,
            reference: new.reference.clone(),
            expires_at: new.ttl.from(now),
            order_id: None,
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let changes = reservation
            .held_levels()
            .into_iter()
            .map(|(level, qty)| {
                StockChange::place_hold(
                    level,
                    qty,
                    reservation.id,
                    reservation.expires_at,
                    actor.user_id,
                    now,
                )
            })
            .collect();
        ReservationTransition {
            next: reservation,
            changes,
        }
    }

    /// ACTIVE → CONFIRMED: an order placed from the held units, at the prices of `variants`
    /// now, committed where they were held. The order's own availability is never judged
    /// again: its units are the hold's.
    pub fn confirm(
        &self,
        actor: &Actor,
        confirmation: &Confirmation,
        variants: &HashMap<VariantId, Variant>,
        now: DateTime<Utc>,
    ) -> Result<ConfirmedReservation, DomainError> {
        self.require_active(now, "confirmed")?;
        let new = NewOrder {
            lines: self
                .lines
                .iter()
                .map(|l| LineRequest {
                    variant_id: l.variant_id,
                    quantity: Quantity::new(l.quantity).expect("a held line has units"),
                })
                .collect(),
            customer: confirmation.customer.clone(),
            note: confirmation.note.clone(),
            location_id: None,
        };
        let demand = Demand::from_lines(self.lines.iter().map(|l| (l.variant_id, l.quantity)));
        let allocations: Allocations = self
            .lines
            .iter()
            .map(|l| {
                (
                    l.variant_id,
                    l.allocations
                        .iter()
                        .map(|a| (a.location_id, a.quantity))
                        .collect(),
                )
            })
            .collect();
        let order = Order::place(actor, &new, &demand, variants, &allocations, now)?.next;
        let changes = self
            .held_levels()
            .into_iter()
            .map(|(level, qty)| {
                StockChange::take_hold(level, qty, self.id, order.id, actor.user_id, now)
            })
            .collect();
        let mut next = self.next(ReservationStatus::Confirmed, now);
        next.order_id = Some(order.id);
        Ok(ConfirmedReservation {
            next,
            order,
            changes,
        })
    }

    /// ACTIVE → RELEASED: the held units go back to available.
    pub fn release(
        &self,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> Result<ReservationTransition, DomainError> {
        self.require_active(now, "released")?;
        Ok(ReservationTransition {
            next: self.next(ReservationStatus::Released, now),
            changes: self.drops(true, actor, now),
        })
    }

    /// A live ACTIVE reservation held for `ttl` from `now` instead.
    pub fn extend(
        &self,
        actor: UserId,
        ttl: Ttl,
        now: DateTime<Utc>,
    ) -> Result<ReservationTransition, DomainError> {
        self.require_active(now, "extended")?;
        let mut next = self.next(ReservationStatus::Active, now);
        next.expires_at = ttl.from(now);
        let changes = self
            .held_levels()
            .into_keys()
            .map(|level| StockChange::extend_hold(level, self.id, next.expires_at, actor, now))
            .collect();
        Ok(ReservationTransition { next, changes })
    }

    /// Stored ACTIVE but expired at `now` → stored EXPIRED, its holds (which count for nothing
    /// already) removed. `None` when there is nothing to sweep.
    pub fn sweep(&self, now: DateTime<Utc>) -> Option<ReservationTransition> {
        (self.status == ReservationStatus::Active
            && self.status_at(now) == ReservationStatus::Expired)
            .then(|| ReservationTransition {
                next: self.next(ReservationStatus::Expired, now),
                changes: self.drops(false, self.created_by, now),
            })
    }

    /// Units held per level, in level order.
    pub fn held_levels(&self) -> BTreeMap<Level, i64> {
        let mut at = BTreeMap::new();
        for line in &self.lines {
            for a in &line.allocations {
                *at.entry(Level::new(line.variant_id, a.location_id))
                    .or_insert(0) += a.quantity;
            }
        }
        at
    }

    fn drops(&self, live: bool, actor: UserId, now: DateTime<Utc>) -> Vec<StockChange> {
        self.held_levels()
            .into_iter()
            .map(|(level, qty)| StockChange::drop_hold(level, qty, live, self.id, actor, now))
            .collect()
    }

    /// Refused (409) unless ACTIVE at `now`, saying what it is instead.
    fn require_active(&self, now: DateTime<Utc>, verb: &str) -> Result<(), DomainError> {
        match self.status_at(now) {
            ReservationStatus::Active => Ok(()),
            status => Err(DomainError::Conflict(format!(
                "reservation is {} and cannot be {verb}",
                status.as_str()
            ))),
        }
    }

    /// This reservation at `status`, one version on.
    fn next(&self, status: ReservationStatus, now: DateTime<Utc>) -> Reservation {
        Reservation {
            status,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::auth::models::Role;
    use crate::ids::LocationId;
    use crate::orders::aggregate::allocated_at;
    use crate::orders::models::OrderStatus;
    use crate::reservations::models::HoldRequest;
    use crate::testing::{actor, variant};

    fn placed(ttl: i64, now: DateTime<Utc>) -> (Reservation, Vec<StockChange>, Actor, Variant) {
        let who = actor(Role::Staff);
        let v = variant(who.tenant_id, 10, 0);
        let new = NewReservation {
            lines: vec![
                HoldRequest {
                    variant_id: v.id,
                    quantity: Quantity::new(2).unwrap(),
                    location_id: None,
                },
                HoldRequest {
                    variant_id: v.id,
                    quantity: Quantity::new(1).unwrap(),
                    location_id: None,
                },
            ],
            ttl: Ttl::new(ttl).unwrap(),
            reference: None,
        };
        let demand = Demand::from_lines(new.lines.iter().map(|l| (l.variant_id, l.quantity.get())));
        let variants = HashMap::from([(v.id, v.clone())]);
        let t = Reservation::place(
            &who,
            &new,
            &demand,
            &variants,
            &allocated_at(&demand, LocationId::new()),
            now,
        );
        (t.next, t.changes, who, v)
    }

    #[test]
    fn placing_merges_lines_and_holds_each_level_until_the_ttl() {
        let now = Utc::now();
        let (r, changes, _, _) = placed(60, now);
        assert_eq!(r.status, ReservationStatus::Active);
        assert_eq!(r.lines.len(), 1);
        assert_eq!(r.lines[0].quantity, 3);
        assert_eq!(r.expires_at, now + Duration::seconds(60));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].claims.reserved, 3);
        assert_eq!(changes[0].available_delta(), -3);
        assert_eq!(changes[0].requirements().available, 3);
        assert_eq!(changes[0].delta, 0);
    }

    #[test]
    fn it_reads_expired_from_the_instant_its_ttl_passes() {
        let now = Utc::now();
        let (r, _, _, _) = placed(1, now);
        let expiry = now + Duration::seconds(1);
        assert_eq!(
            r.status_at(expiry - Duration::milliseconds(1)),
            ReservationStatus::Active
        );
        assert_eq!(r.status_at(expiry), ReservationStatus::Expired);
        assert!(r.sweep(expiry - Duration::milliseconds(1)).is_none());
        let swept = r.sweep(expiry).expect("expired");
        assert_eq!(swept.next.status, ReservationStatus::Expired);
        assert_eq!(swept.changes[0].claims.reserved, 0);
    }

    #[test]
    fn confirming_turns_the_hold_into_a_commitment_of_a_placed_order() {
        let now = Utc::now();
        let (r, _, who, v) = placed(60, now);
        let c = r
            .confirm(
                &who,
                &Confirmation::default(),
                &HashMap::from([(v.id, v.clone())]),
                now,
            )
            .unwrap();
        assert_eq!(c.next.status, ReservationStatus::Confirmed);
        assert_eq!(c.next.order_id, Some(c.order.id));
        assert_eq!(c.next.version, r.version + 1);
        assert_eq!(c.order.status, OrderStatus::Placed);
        assert_eq!(c.order.lines[0].quantity, 3);
        assert_eq!(
            c.order.lines[0].allocations[0].location_id,
            r.lines[0].allocations[0].location_id
        );
        let change = &c.changes[0];
        assert_eq!((change.claims.reserved, change.claims.committed), (-3, 3));
        assert_eq!(change.available_delta(), 0);
        assert_eq!(change.order_id, Some(c.order.id));
    }

    #[test]
    fn an_expired_released_or_confirmed_hold_cannot_be_confirmed_released_or_extended() {
        let now = Utc::now();
        let (r, _, who, v) = placed(1, now);
        let later = now + Duration::seconds(1);
        let variants = HashMap::from([(v.id, v)]);
        assert!(matches!(
            r.confirm(&who, &Confirmation::default(), &variants, later),
            Err(DomainError::Conflict(m)) if m.contains("EXPIRED")
        ));
        assert!(r.release(who.user_id, later).is_err());
        assert!(r.extend(who.user_id, Ttl::new(5).unwrap(), later).is_err());
        let released = r.release(who.user_id, now).unwrap().next;
        assert!(matches!(
            released.confirm(&who, &Confirmation::default(), &variants, now),
            Err(DomainError::Conflict(m)) if m.contains("RELEASED")
        ));
    }

    #[test]
    fn releasing_gives_back_what_a_live_hold_held() {
        let now = Utc::now();
        let (r, _, who, _) = placed(60, now);
        let t = r.release(who.user_id, now).unwrap();
        assert_eq!(t.next.status, ReservationStatus::Released);
        assert_eq!(t.changes[0].claims.reserved, -3);
        assert!(t.changes[0].requirements().met_by_nothing());
    }

    #[test]
    fn extending_moves_the_expiry_from_now() {
        let now = Utc::now();
        let (r, _, who, _) = placed(5, now);
        let later = now + Duration::seconds(3);
        let t = r.extend(who.user_id, Ttl::new(10).unwrap(), later).unwrap();
        assert_eq!(t.next.expires_at, later + Duration::seconds(10));
        assert_eq!(t.next.status, ReservationStatus::Active);
        assert!(t.changes[0].claims.is_zero());
    }

    #[test]
    fn ttl_bounds_are_enforced() {
        assert!(Ttl::new(0).is_err());
        assert!(Ttl::new(1).is_ok());
        assert!(Ttl::new(86_400).is_ok());
        assert!(Ttl::new(86_401).is_err());
    }
}
