//! The purchase order's behaviour: drafting, editing while DRAFT, and its state machine.
//!
//! As with orders, each transition checks the current state and returns the next version with
//! the stock changes it writes ([`PurchaseOrderTransition`]); the service commits it through the
//! ledger guarded by the version it read.

use chrono::{DateTime, Utc};

use super::models::{
    check_costs, NewPurchaseOrder, PurchaseLineRequest, PurchaseOrder, PurchaseOrderLine,
    PurchaseOrderPatch, PurchaseOrderStatus as Status,
};
use crate::auth::models::Actor;
use crate::error::DomainError;
use crate::ids::{LocationId, PurchaseOrderId, UserId, VariantId};
use crate::orders::models::LineRequest;
use crate::stock::models::{Level, StockChange};
use crate::stock::receipt::{receive_lines, Receipt, ReceivingLine};

/// A checked transition: the purchase order as it will be stored, and the stock it moves.
#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseOrderTransition {
    pub next: PurchaseOrder,
    pub changes: Vec<StockChange>,
}

impl PurchaseOrder {
    /// A new DRAFT purchase order to be received at `destination`; refused when its costs pass
    /// the largest amount of money ([`check_costs`]).
    pub fn draft(
        actor: &Actor,
        new: NewPurchaseOrder,
        destination: LocationId,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        check_costs(&new.lines)?;
        Ok(PurchaseOrder {
            id: PurchaseOrderId::new(),
            tenant_id: actor.tenant_id,
            supplier_id: new.supplier_id,
            location_id: destination,
            status: Status::Draft,
            lines: order_lines(&new.lines),
            expected_at: new.expected_at,
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// Edits a DRAFT purchase order; any other status refuses the edit.
    pub fn edit(
        &self,
        patch: PurchaseOrderPatch,
        now: DateTime<Utc>,
    ) -> Result<PurchaseOrderTransition, DomainError> {
        self.require_editable()?;
        let mut next = self.next(Status::Draft, now);
        if let Some(supplier_id) = patch.supplier_id {
            next.supplier_id = supplier_id;
        }
        if let Some(location_id) = patch.location_id {
            next.location_id = location_id;
        }
        if let Some(lines) = &patch.lines {
            check_costs(lines)?;
            next.lines = order_lines(lines);
        }
        if let Some(expected_at) = patch.expected_at {
            next.expected_at = expected_at;
        }
        Ok(unmoved(next))
    }

    /// Refused unless the purchase order is DRAFT, the only status that can be edited.
    pub fn require_editable(&self) -> Result<(), DomainError> {
        if self.status == Status::Draft {
            Ok(())
        } else {
            Err(DomainError::Conflict(format!(
                "a purchase order can be edited only while DRAFT; this one is {}",
                self.status.as_str()
            )))
        }
    }

    /// DRAFT → ORDERED.
    pub fn submit(&self, now: DateTime<Utc>) -> Result<PurchaseOrderTransition, DomainError> {
        if self.status != Status::Draft {
            return Err(invalid(self.status, Status::Ordered));
        }
        Ok(unmoved(self.next(Status::Ordered, now)))
    }

    /// DRAFT or ORDERED → CANCELLED; PARTIALLY_RECEIVED → CLOSED (the rest will not come).
    pub fn cancel(&self, now: DateTime<Utc>) -> Result<PurchaseOrderTransition, DomainError> {
        let status = match self.status {
            Status::Draft | Status::Ordered => Status::Cancelled,
            Status::PartiallyReceived => Status::Closed,
            other => return Err(invalid(other, Status::Cancelled)),
        };
        Ok(unmoved(self.next(status, now)))
    }

    /// ORDERED or PARTIALLY_RECEIVED → PARTIALLY_RECEIVED, or RECEIVED once every line is in:
    /// one PURCHASE per variant at the destination, at its line's unit cost. A variant not on
    /// the order is named by its request line; receiving more than ordered − received on any
    /// line refuses it all.
    pub fn receive(
        &self,
        lines: &[LineRequest],
        actor: UserId,
        now: DateTime<Utc>,
    ) -> Result<PurchaseOrderTransition, DomainError> {
        if !matches!(self.status, Status::Ordered | Status::PartiallyReceived) {
            return Err(invalid(self.status, Status::Received));
        }
        let mut next = self.next(self.status, now);
        let Receipt { demand, complete } =
            receive_lines(&mut next.lines, lines, "this purchase order", "ordered")?;
        next.status = if complete {
            Status::Received
        } else {
            Status::PartiallyReceived
        };
        let changes = demand
            .iter()
            .map(|(variant, qty)| {
                let cost = self
                    .lines
                    .iter()
                    .find(|l| l.variant_id == *variant)
                    .map(|l| l.unit_cost);
                StockChange::purchase(
                    Level::new(*variant, self.location_id),
                    *qty,
                    self.id,
                    cost,
                    actor,
                    now,
                )
            })
            .collect();
        Ok(PurchaseOrderTransition { next, changes })
    }

    /// This purchase order at `status`, one version on.
    fn next(&self, status: Status, now: DateTime<Utc>) -> PurchaseOrder {
        PurchaseOrder {
            status,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }
}

impl ReceivingLine for PurchaseOrderLine {
    fn variant_id(&self) -> VariantId {
        self.variant_id
    }

    fn expected(&self) -> i64 {
        self.quantity
    }

    fn received_mut(&mut self) -> &mut i64 {
        &mut self.received
    }
}

fn unmoved(next: PurchaseOrder) -> PurchaseOrderTransition {
    PurchaseOrderTransition {
        next,
        changes: Vec::new(),
    }
}

fn order_lines(lines: &[PurchaseLineRequest]) -> Vec<PurchaseOrderLine> {
    lines
        .iter()
        .map(|l| PurchaseOrderLine {
            variant_id: l.variant_id,
            quantity: l.quantity.get(),
            unit_cost: l.unit_cost,
            received: 0,
        })
        .collect()
}

fn invalid(from: Status, to: Status) -> DomainError {
    DomainError::InvalidTransition {
        from: from.as_str(),
        to: to.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::models::Role;
    use crate::ids::{SupplierId, VariantId};
    use crate::stock::models::MovementKind;
    use crate::testing::actor;
    use crate::values::{Money, Quantity};

    fn ordered(quantities: &[i64]) -> (PurchaseOrder, Vec<VariantId>) {
        let who = actor(Role::Manager);
        let ids: Vec<VariantId> = quantities.iter().map(|_| VariantId::new()).collect();
        let new = NewPurchaseOrder {
            supplier_id: SupplierId::new(),
            lines: ids
                .iter()
                .zip(quantities)
                .map(|(id, q)| PurchaseLineRequest {
                    variant_id: *id,
                    quantity: Quantity::new(*q).unwrap(),
                    unit_cost: Money::new(250).unwrap(),
                })
                .collect(),
            expected_at: None,
            location_id: None,
        };
        let draft = PurchaseOrder::draft(&who, new, LocationId::new(), Utc::now()).unwrap();
        (draft.submit(Utc::now()).unwrap().next, ids)
    }

    fn receipt(variant: VariantId, quantity: i64) -> LineRequest {
        LineRequest {
            variant_id: variant,
            quantity: Quantity::new(quantity).unwrap(),
        }
    }

    #[test]
    fn receiving_part_then_the_rest_lands_on_received() {
        let (po, ids) = ordered(&[5]);
        let first = po
            .receive(&[receipt(ids[0], 2)], UserId::new(), Utc::now())
            .unwrap();
        assert_eq!(first.next.status, Status::PartiallyReceived);
        assert_eq!(first.next.version, po.version + 1);
        assert_eq!(first.changes.len(), 1);
        assert_eq!(first.changes[0].kind, MovementKind::Purchase);
        assert_eq!(first.changes[0].delta, 2);
        assert_eq!(first.changes[0].unit_cost, Some(Money::new(250).unwrap()));
        assert_eq!(first.changes[0].purchase_order_id, Some(po.id));
        assert_eq!(first.changes[0].location_id, po.location_id);
        let rest = first
            .next
            .receive(&[receipt(ids[0], 3)], UserId::new(), Utc::now())
            .unwrap();
        assert_eq!(rest.next.status, Status::Received);
    }

    #[test]
    fn an_over_receipt_is_refused_whole() {
        let (po, ids) = ordered(&[5, 5]);
        let err = po
            .receive(
                &[receipt(ids[0], 1), receipt(ids[1], 6)],
                UserId::new(),
                Utc::now(),
            )
            .unwrap_err();
        assert!(matches!(err, DomainError::Conflict(m) if m.contains("cannot receive 6")));
    }

    #[test]
    fn costs_past_the_largest_amount_are_refused_by_line_and_total() {
        use crate::purchasing::models::check_costs;
        use crate::values::{MAX_MONEY, MAX_QUANTITY};
        let line = |quantity: i64, cost: i64| PurchaseLineRequest {
            variant_id: VariantId::new(),
            quantity: Quantity::new(quantity).unwrap(),
            unit_cost: Money::new(cost).unwrap(),
        };
        let fields = |lines: &[PurchaseLineRequest]| match check_costs(lines) {
            Err(DomainError::Validation(e)) => e.into_iter().map(|e| e.field).collect::<Vec<_>>(),
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(
            fields(&[line(1, 1), line(MAX_QUANTITY, MAX_MONEY)]),
            ["lines[1].quantity"]
        );
        assert_eq!(fields(&[line(1, MAX_MONEY), line(1, 1)]), ["total"]);
        assert!(check_costs(&[line(1, MAX_MONEY - 1), line(1, 1)]).is_ok());
        let who = actor(Role::Manager);
        let new = NewPurchaseOrder {
            supplier_id: SupplierId::new(),
            lines: vec![line(2, MAX_MONEY)],
            expected_at: None,
            location_id: None,
        };
        assert!(PurchaseOrder::draft(&who, new, LocationId::new(), Utc::now()).is_err());
    }

    #[test]
    fn a_draft_cannot_be_received_and_a_received_order_cannot_be_cancelled() {
        let who = actor(Role::Manager);
        let draft = PurchaseOrder::draft(
            &who,
            NewPurchaseOrder {
                supplier_id: SupplierId::new(),
                lines: Vec::new(),
                expected_at: None,
                location_id: None,
            },
            LocationId::new(),
            Utc::now(),
        )
        .unwrap();
        assert!(matches!(
            draft.receive(&[], UserId::new(), Utc::now()),
            Err(DomainError::InvalidTransition { from: "DRAFT", .. })
        ));
        let (po, ids) = ordered(&[1]);
        let received = po
            .receive(&[receipt(ids[0], 1)], UserId::new(), Utc::now())
            .unwrap()
            .next;
        assert!(matches!(
            received.cancel(Utc::now()),
            Err(DomainError::InvalidTransition {
                from: "RECEIVED",
                ..
            })
        ));
    }

    #[test]
    fn cancelling_a_partly_received_order_closes_it() {
        let (po, ids) = ordered(&[4]);
        let part = po
            .receive(&[receipt(ids[0], 1)], UserId::new(), Utc::now())
            .unwrap()
            .next;
        assert_eq!(part.cancel(Utc::now()).unwrap().next.status, Status::Closed);
        assert_eq!(
            po.cancel(Utc::now()).unwrap().next.status,
            Status::Cancelled
        );
    }

    #[test]
    fn only_a_draft_can_be_edited() {
        let (po, _) = ordered(&[4]);
        assert!(matches!(
            po.edit(PurchaseOrderPatch::default(), Utc::now()),
            Err(DomainError::Conflict(_))
        ));
    }
}
