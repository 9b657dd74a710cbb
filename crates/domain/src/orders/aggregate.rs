//! The order's behaviour: placing one, and every transition of its state machine.
//!
//! Each method checks that the transition is allowed from the order's current state and returns
//! what it changes — the next version of the order and the stock changes to write with it — as an
//! [`OrderTransition`]. Nothing is written here: the service commits the transition through the
//! ledger, guarded by the order's version, so of two racing transitions exactly one lands.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::models::{
    Allocation, LineRequest, NewOrder, Order, OrderLine, OrderStatus, ReturnRequest,
};
use crate::auth::models::Actor;
use crate::catalog::models::Variant;
use crate::error::{DomainError, FieldErrors};
use crate::ids::{LocationId, OrderId, UserId, VariantId};
use crate::stock::allocate::Allocations;
use crate::stock::models::{Level, StockChange};
use crate::stock::reserve::Demand;
use crate::stock::state::UnitState;
use crate::values::Money;

/// The reason recorded on the RETURN movements of a cancelled order placed before orders
/// committed units ([`Order::sold_at_placement`]).
pub const CANCEL_REASON: &str = "order-cancelled";

/// A checked transition: the order as it will be stored, and the stock it moves.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderTransition {
    pub next: Order,
    pub changes: Vec<StockChange>,
}

impl Order {
    /// A new PLACED order for `demand` (summed per variant), one line per variant in the order
    /// the variants were first requested, prices captured from `variants` now, and the changes
    /// that commit its units where `allocations` says. Every requested variant MUST
    /// be in `variants` and in `allocations`.
    ///
    /// Refused (422) when a line's price × quantity, or the order's total, would pass
    /// [`crate::values::MAX_MONEY`]: the line by the first request line of its variant
    /// (`lines[i].quantity`), the sum as `total`. Such an order could not be read back.
    pub fn place(
        actor: &Actor,
        new: &NewOrder,
        demand: &Demand,
        variants: &HashMap<VariantId, Variant>,
        allocations: &Allocations,
        now: DateTime<Utc>,
    ) -> Result<OrderTransition, DomainError> {
        let mut lines: Vec<OrderLine> = Vec::with_capacity(demand.len());
        let mut errors = FieldErrors::new();
        let mut total = Some(Money::ZERO);
        for (i, request) in new.lines.iter().enumerate() {
            if lines.iter().any(|l| l.variant_id == request.variant_id) {
                continue;
            }
            let variant = &variants[&request.variant_id];
            let quantity = demand.get(&request.variant_id);
            let line_total = errors.check(
                format!("lines[{i}].quantity"),
                variant.price.checked_times(quantity),
            );
            total = match (total, line_total) {
                (Some(t), Some(l)) => errors.check("total", t.checked_plus(l)),
                _ => None,
            };
            lines.push(OrderLine {
                variant_id: variant.id,
                sku: variant.sku.clone(),
                quantity,
                unit_price: variant.price,
                line_total: line_total.unwrap_or(Money::ZERO),
                returned: 0,
                allocations: allocations[&variant.id]
                    .iter()
                    .map(|(location_id, quantity)| Allocation {
                        location_id: *location_id,
                        quantity: *quantity,
                        returned: 0,
                    })
                    .collect(),
            });
        }
        errors.finish()?;
        let total = total.expect("every line and the sum are within the limit");
        let order = Order {
            id: OrderId::new(),
            tenant_id: actor.tenant_id,
            status: OrderStatus::Placed,
            lines,
            customer: new.customer.clone(),
            note: new.note.clone(),
            location_id: new.location_id,
            sold_at_placement: false,
            total,
            placed_by: actor.user_id,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let changes = allocations
            .iter()
            .flat_map(|(variant, drawn)| {
                drawn.iter().map(|(location, qty)| {
                    StockChange::commit(
                        Level::new(*variant, *location),
                        *qty,
                        order.id,
                        actor.user_id,
                        now,
                    )
                })
            })
            .collect();
        Ok(OrderTransition {
            next: order,
            changes,
        })
    }

    /// PLACED → FULFILLED: the committed units leave with one SALE per level they were
    /// committed at. An order sold at placement moves nothing.
    pub fn fulfil(
        &self,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> Result<OrderTransition, DomainError> {
        self.require(OrderStatus::Fulfilled)?;
        let changes = if self.sold_at_placement {
            Vec::new()
        } else {
            self.committed_levels()
                .into_iter()
                .map(|(level, qty)| StockChange::sale(level, qty, self.id, actor, now))
                .collect()
        };
        Ok(OrderTransition {
            next: self.next(OrderStatus::Fulfilled, now),
            changes,
        })
    }

    /// PLACED → CANCELLED: the commitment is released at every level (no movement). An order
    /// sold at placement brings every unit back with a RETURN to the location it was taken from.
    pub fn cancel(
        &self,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> Result<OrderTransition, DomainError> {
        self.require(OrderStatus::Cancelled)?;
        let back = self.committed_levels();
        let changes = if self.sold_at_placement {
            returns(
                back,
                UnitState::Available,
                self.id,
                CANCEL_REASON,
                actor,
                now,
            )
        } else {
            back.into_iter()
                .map(|(level, qty)| StockChange::release(level, qty, self.id, actor, now))
                .collect()
        };
        Ok(OrderTransition {
            next: self.next(OrderStatus::Cancelled, now),
            changes,
        })
    }

    /// Units of a placed order per level they were taken from, in level order.
    fn committed_levels(&self) -> BTreeMap<Level, i64> {
        let mut at = BTreeMap::new();
        for line in &self.lines {
            for a in &line.allocations {
                *at.entry(Level::new(line.variant_id, a.location_id))
                    .or_insert(0) += a.quantity - a.returned;
            }
        }
        at.retain(|_, qty| *qty > 0);
        at
    }

    /// FULFILLED or PARTIALLY_RETURNED → PARTIALLY_RETURNED, or RETURNED once every unit is back.
    /// A line cannot bring back more than was sold minus what already came back; a variant not
    /// on the order is named by its request line. Units go back to `request.location_id` when
    /// given, else to the locations they were taken from, counted against the line's
    /// allocations in the order they were drawn. The caller checks the named location.
    pub fn return_items(
        &self,
        request: &ReturnRequest,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> Result<OrderTransition, DomainError> {
        self.require(OrderStatus::Returned)?;
        if request.state == UnitState::SafetyStock {
            return Err(DomainError::invalid(
                "state",
                "returned units go back available, damaged or in quality control",
            ));
        }
        let lines: HashMap<VariantId, &OrderLine> =
            self.lines.iter().map(|l| (l.variant_id, l)).collect();
        require_known(&request.lines, |v| lines.contains_key(v))?;
        let demand = Demand::from_lines(
            request
                .lines
                .iter()
                .map(|l| (l.variant_id, l.quantity.get())),
        );
        let refused: Vec<String> = demand
            .iter()
            .filter_map(|(variant, qty)| {
                let line = lines[variant];
                (*qty > line.quantity - line.returned).then(|| {
                    format!(
                        "variant {variant}: cannot return {qty}; sold {}, already returned {}",
                        line.quantity, line.returned
                    )
                })
            })
            .collect();
        if !refused.is_empty() {
            return Err(DomainError::Conflict(refused.join("; ")));
        }
        let mut next = self.next(OrderStatus::Returned, now);
        let mut back = BTreeMap::new();
        for line in next.lines.iter_mut() {
            let mut left = demand.get(&line.variant_id);
            line.returned += left;
            for a in line.allocations.iter_mut() {
                let take = (a.quantity - a.returned).min(left);
                if take > 0 {
                    a.returned += take;
                    left -= take;
                    let to = request.location_id.unwrap_or(a.location_id);
                    *back.entry(Level::new(line.variant_id, to)).or_insert(0) += take;
                }
            }
        }
        if next.lines.iter().any(|l| l.returned < l.quantity) {
            next.status = OrderStatus::PartiallyReturned;
        }
        let changes = returns(
            back,
            request.state,
            self.id,
            request.reason.as_str(),
            actor,
            now,
        );
        Ok(OrderTransition { next, changes })
    }

    /// Refused unless the state machine allows moving to `to` from the current status.
    fn require(&self, to: OrderStatus) -> Result<(), DomainError> {
        use OrderStatus::*;
        let allowed = matches!(
            (self.status, to),
            (Placed, Fulfilled)
                | (Placed, Cancelled)
                | (Fulfilled, Returned)
                | (PartiallyReturned, Returned)
        );
        if allowed {
            Ok(())
        } else {
            Err(DomainError::InvalidTransition {
                from: self.status.as_str(),
                to: to.as_str(),
            })
        }
    }

    /// This order at `status`, one version on.
    fn next(&self, status: OrderStatus, now: DateTime<Utc>) -> Order {
        Order {
            status,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }
}

/// One RETURN per level with units coming back into `state`, in level order.
fn returns(
    back: BTreeMap<Level, i64>,
    state: UnitState,
    order: OrderId,
    reason: &str,
    actor: UserId,
    now: DateTime<Utc>,
) -> Vec<StockChange> {
    back.into_iter()
        .filter(|(_, qty)| *qty > 0)
        .map(|(level, qty)| {
            StockChange::order_return(level, qty, state, order, reason.to_owned(), actor, now)
        })
        .collect()
}

/// Allocates every demanded variant wholly to `location` (for callers that already know where
/// the units come from).
pub fn allocated_at(demand: &Demand, location: LocationId) -> Allocations {
    demand
        .iter()
        .map(|(variant, qty)| (*variant, vec![(location, *qty)]))
        .collect()
}

/// 422 naming every line whose variant fails `known`.
pub fn require_known(
    lines: &[LineRequest],
    known: impl Fn(&VariantId) -> bool,
) -> Result<(), DomainError> {
    let mut errors = FieldErrors::new();
    for (i, line) in lines.iter().enumerate() {
        if !known(&line.variant_id) {
            errors.add(format!("lines[{i}].variantId"), "no such variant");
        }
    }
    errors.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::models::Role;
    use crate::stock::models::MovementKind;
    use crate::testing::{actor, variant};
    use crate::values::{Quantity, Text};

    fn placed(quantities: &[i64]) -> (Order, Actor) {
        let who = actor(Role::Staff);
        let variants: HashMap<VariantId, Variant> = quantities
            .iter()
            .map(|_| {
                let v = variant(who.tenant_id, 100, 0);
                (v.id, v)
            })
            .collect();
        let ids: Vec<VariantId> = variants.keys().copied().collect();
        let new = NewOrder {
            lines: ids
                .iter()
                .zip(quantities)
                .map(|(id, q)| LineRequest {
                    variant_id: *id,
                    quantity: Quantity::new(*q).unwrap(),
                })
                .collect(),
            customer: None,
            note: None,
            location_id: None,
        };
        let demand = Demand::from_lines(new.lines.iter().map(|l| (l.variant_id, l.quantity.get())));
        let allocations = allocated_at(&demand, LocationId::new());
        (
            Order::place(&who, &new, &demand, &variants, &allocations, Utc::now())
                .unwrap()
                .next,
            who,
        )
    }

    fn returning(order: &Order, quantities: &[i64]) -> ReturnRequest {
        ReturnRequest {
            lines: order
                .lines
                .iter()
                .zip(quantities)
                .map(|(l, q)| LineRequest {
                    variant_id: l.variant_id,
                    quantity: Quantity::new(*q).unwrap(),
                })
                .collect(),
            reason: Text::long("damaged").unwrap(),
            location_id: None,
            state: UnitState::Available,
        }
    }

    /// Places `lines` of (price, quantity), each its own variant.
    fn place_priced(lines: &[(i64, i64)]) -> Result<OrderTransition, DomainError> {
        let who = actor(Role::Staff);
        let variants: Vec<Variant> = lines
            .iter()
            .map(|(price, _)| Variant {
                price: Money::new(*price).unwrap(),
                ..variant(who.tenant_id, 0, 0)
            })
            .collect();
        let new = NewOrder {
            lines: variants
                .iter()
                .zip(lines)
                .map(|(v, (_, q))| LineRequest {
                    variant_id: v.id,
                    quantity: Quantity::new(*q).unwrap(),
                })
                .collect(),
            customer: None,
            note: None,
            location_id: None,
        };
        let demand = Demand::from_lines(new.lines.iter().map(|l| (l.variant_id, l.quantity.get())));
        let allocations = allocated_at(&demand, LocationId::new());
        let variants = variants.into_iter().map(|v| (v.id, v)).collect();
        Order::place(&who, &new, &demand, &variants, &allocations, Utc::now())
    }

    fn refused_fields(result: Result<OrderTransition, DomainError>) -> Vec<String> {
        match result {
            Err(DomainError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn an_order_whose_line_or_total_passes_the_largest_amount_is_refused() {
        use crate::values::{MAX_MONEY, MAX_QUANTITY};
        assert_eq!(
            refused_fields(place_priced(&[(1, 1), (MAX_MONEY, 2)])),
            ["lines[1].quantity"]
        );
        // Far past i64, not only past the limit.
        assert_eq!(
            refused_fields(place_priced(&[(MAX_MONEY, MAX_QUANTITY)])),
            ["lines[0].quantity"]
        );
        assert_eq!(
            refused_fields(place_priced(&[(MAX_MONEY, 1), (1, 1)])),
            ["total"]
        );
        let largest = place_priced(&[(MAX_MONEY - 1, 1), (1, 1)]).unwrap();
        assert_eq!(largest.next.total.minor_units(), MAX_MONEY);
    }

    #[test]
    fn placing_commits_every_line_without_moving_on_hand() {
        let who = actor(Role::Staff);
        let v = variant(who.tenant_id, 10, 0);
        let line = |q| LineRequest {
            variant_id: v.id,
            quantity: Quantity::new(q).unwrap(),
        };
        let new = NewOrder {
            lines: vec![line(2), line(3)],
            customer: None,
            note: None,
            location_id: None,
        };
        let demand = Demand::from_lines(new.lines.iter().map(|l| (l.variant_id, l.quantity.get())));
        let variants = HashMap::from([(v.id, v.clone())]);
        let (a, b) = (LocationId::new(), LocationId::new());
        let allocations = Allocations::from([(v.id, vec![(a, 4), (b, 1)])]);
        let t = Order::place(&who, &new, &demand, &variants, &allocations, Utc::now()).unwrap();
        assert_eq!(t.next.lines.len(), 1);
        assert_eq!(t.next.lines[0].quantity, 5);
        assert_eq!(t.next.total, v.price.checked_times(5).unwrap());
        assert_eq!(t.next.lines[0].allocations.len(), 2);
        assert_eq!(t.changes.len(), 2);
        let committed: Vec<_> = t
            .changes
            .iter()
            .map(|c| (c.location_id, c.delta, c.claims.committed))
            .collect();
        assert_eq!(committed, vec![(a, 0, 4), (b, 0, 1)]);
        assert!(!t.next.sold_at_placement);
        assert_eq!(t.changes[0].order_id, Some(t.next.id));
    }

    #[test]
    fn fulfilling_sells_the_committed_units_where_they_were_committed() {
        let (order, who) = placed(&[2, 3]);
        let t = order.fulfil(who.user_id, Utc::now()).unwrap();
        assert_eq!(t.next.status, OrderStatus::Fulfilled);
        let mut sold: Vec<(i64, i64)> = t
            .changes
            .iter()
            .map(|c| (c.delta, c.claims.committed))
            .collect();
        sold.sort();
        assert_eq!(sold, vec![(-3, -3), (-2, -2)]);
        assert!(t
            .changes
            .iter()
            .all(|c| c.kind == MovementKind::Sale && c.order_id == Some(order.id)));
    }

    #[test]
    fn cancelling_releases_the_commitment_and_bumps_the_version() {
        let (order, who) = placed(&[2, 3]);
        let t = order.cancel(who.user_id, Utc::now()).unwrap();
        assert_eq!(t.next.status, OrderStatus::Cancelled);
        assert_eq!(t.next.version, order.version + 1);
        let mut released: Vec<(i64, i64)> = t
            .changes
            .iter()
            .map(|c| (c.delta, c.claims.committed))
            .collect();
        released.sort();
        assert_eq!(released, vec![(0, -3), (0, -2)]);
    }

    #[test]
    fn an_order_sold_at_placement_returns_its_units_when_cancelled_and_moves_none_when_fulfilled() {
        let (mut order, who) = placed(&[2, 3]);
        order.sold_at_placement = true;
        let t = order.cancel(who.user_id, Utc::now()).unwrap();
        let mut back: Vec<i64> = t.changes.iter().map(|c| c.delta).collect();
        back.sort();
        assert_eq!(back, vec![2, 3]);
        assert!(t.changes.iter().all(|c| c.kind == MovementKind::Return
            && c.claims.is_zero()
            && c.reason.as_deref() == Some(CANCEL_REASON)));
        assert!(order
            .fulfil(who.user_id, Utc::now())
            .unwrap()
            .changes
            .is_empty());
    }

    #[test]
    fn a_fulfilled_order_cannot_be_cancelled_or_fulfilled_again() {
        let (order, who) = placed(&[1]);
        let fulfilled = order.fulfil(who.user_id, Utc::now()).unwrap().next;
        assert!(fulfilled.fulfil(who.user_id, Utc::now()).is_err());
        assert!(matches!(
            fulfilled.cancel(who.user_id, Utc::now()),
            Err(DomainError::InvalidTransition {
                from: "FULFILLED",
                to: "CANCELLED"
            })
        ));
    }

    #[test]
    fn a_placed_order_cannot_be_returned() {
        let (order, who) = placed(&[1]);
        let request = returning(&order, &[1]);
        assert!(matches!(
            order.return_items(&request, who.user_id, Utc::now()),
            Err(DomainError::InvalidTransition { from: "PLACED", .. })
        ));
    }

    #[test]
    fn returns_land_on_partially_returned_then_returned() {
        let (order, who) = placed(&[3]);
        let fulfilled = order.fulfil(who.user_id, Utc::now()).unwrap().next;
        let first = fulfilled
            .return_items(&returning(&fulfilled, &[1]), who.user_id, Utc::now())
            .unwrap();
        assert_eq!(first.next.status, OrderStatus::PartiallyReturned);
        assert_eq!(first.next.lines[0].returned, 1);
        assert_eq!(first.changes[0].delta, 1);
        let second = first
            .next
            .return_items(&returning(&first.next, &[2]), who.user_id, Utc::now())
            .unwrap();
        assert_eq!(second.next.status, OrderStatus::Returned);
        assert_eq!(second.next.lines[0].returned, 3);
    }

    #[test]
    fn returning_more_than_is_left_is_refused() {
        let (order, who) = placed(&[3]);
        let fulfilled = order.fulfil(who.user_id, Utc::now()).unwrap().next;
        let part = fulfilled
            .return_items(&returning(&fulfilled, &[2]), who.user_id, Utc::now())
            .unwrap()
            .next;
        let err = part
            .return_items(&returning(&part, &[2]), who.user_id, Utc::now())
            .unwrap_err();
        assert!(matches!(err, DomainError::Conflict(m) if m.contains("already returned 2")));
    }

    #[test]
    fn a_return_naming_a_variant_not_on_the_order_names_the_line() {
        let (order, who) = placed(&[3]);
        let fulfilled = order.fulfil(who.user_id, Utc::now()).unwrap().next;
        let request = ReturnRequest {
            lines: vec![LineRequest {
                variant_id: VariantId::new(),
                quantity: Quantity::new(1).unwrap(),
            }],
            reason: Text::long("wrong").unwrap(),
            location_id: None,
            state: UnitState::Available,
        };
        let err = fulfilled
            .return_items(&request, who.user_id, Utc::now())
            .unwrap_err();
        assert!(matches!(err, DomainError::Validation(f) if f[0].field == "lines[0].variantId"));
    }

    #[test]
    fn units_come_back_where_they_were_taken_from_unless_a_location_is_named() {
        let who = actor(Role::Staff);
        let v = variant(who.tenant_id, 10, 0);
        let new = NewOrder {
            lines: vec![LineRequest {
                variant_id: v.id,
                quantity: Quantity::new(5).unwrap(),
            }],
            customer: None,
            note: None,
            location_id: None,
        };
        let demand = Demand::from_lines([(v.id, 5)]);
        let (a, b, elsewhere) = (LocationId::new(), LocationId::new(), LocationId::new());
        let allocations = Allocations::from([(v.id, vec![(a, 3), (b, 2)])]);
        let variants = HashMap::from([(v.id, v.clone())]);
        let placed = Order::place(&who, &new, &demand, &variants, &allocations, Utc::now())
            .unwrap()
            .next;

        let cancelled = placed.cancel(who.user_id, Utc::now()).unwrap();
        let back: Vec<(LocationId, i64)> = cancelled
            .changes
            .iter()
            .map(|c| (c.location_id, -c.claims.committed))
            .collect();
        let mut expected = vec![(a, 3), (b, 2)];
        expected.sort_by_key(|(l, _)| Level::new(v.id, *l));
        assert_eq!(back, expected);

        let fulfilled = placed.fulfil(who.user_id, Utc::now()).unwrap().next;
        let mut request = returning(&fulfilled, &[4]);
        let first = fulfilled
            .return_items(&request, who.user_id, Utc::now())
            .unwrap();
        let mut back: Vec<(LocationId, i64)> = first
            .changes
            .iter()
            .map(|c| (c.location_id, c.delta))
            .collect();
        back.sort();
        let mut expected = vec![(a, 3), (b, 1)];
        expected.sort();
        assert_eq!(back, expected);
        request = returning(&first.next, &[1]);
        request.location_id = Some(elsewhere);
        let second = first
            .next
            .return_items(&request, who.user_id, Utc::now())
            .unwrap();
        assert_eq!(second.changes.len(), 1);
        assert_eq!(
            (second.changes[0].location_id, second.changes[0].delta),
            (elsewhere, 1)
        );
        assert_eq!(second.next.status, OrderStatus::Returned);
        assert!(second.next.lines[0]
            .allocations
            .iter()
            .all(|al| al.returned == al.quantity));
    }

    #[test]
    fn returns_go_back_available_damaged_or_in_quality_control_but_not_to_safety_stock() {
        let (order, who) = placed(&[3]);
        let fulfilled = order.fulfil(who.user_id, Utc::now()).unwrap().next;
        let mut request = returning(&fulfilled, &[2]);
        request.state = UnitState::Damaged;
        let back = fulfilled
            .return_items(&request, who.user_id, Utc::now())
            .unwrap();
        assert_eq!(back.changes[0].claims.unavailable.damaged, 2);
        assert_eq!(back.changes[0].available_delta(), 0);
        request.state = UnitState::SafetyStock;
        assert!(matches!(
            fulfilled.return_items(&request, who.user_id, Utc::now()),
            Err(DomainError::Validation(f)) if f[0].field == "state"
        ));
    }
}
