//! The transfer's behaviour: drafting, editing while DRAFT, and its state machine.
//!
//! Like orders and purchase orders, each transition checks the current state and returns the
//! next version with the stock changes it writes; the service commits both in one ledger
//! transaction guarded by the version it read, so of two racing transitions exactly one lands.

use chrono::{DateTime, Utc};

use super::models::{NewTransfer, Transfer, TransferLine, TransferPatch, TransferStatus as Status};
use crate::auth::models::Actor;
use crate::error::DomainError;
use crate::ids::{TransferId, UserId, VariantId};
use crate::orders::models::LineRequest;
use crate::stock::models::{Level, StockChange};
use crate::stock::receipt::{receive_lines, Receipt, ReceivingLine};

/// A checked transition: the transfer as it will be stored, and the stock it moves.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferTransition {
    pub next: Transfer,
    pub changes: Vec<StockChange>,
}

impl Transfer {
    /// A new DRAFT transfer. Its lines name distinct variants (the service checks them).
    pub fn draft(actor: &Actor, new: &NewTransfer, now: DateTime<Utc>) -> Self {
        Transfer {
            id: TransferId::new(),
            tenant_id: actor.tenant_id,
            from_location_id: new.from_location_id,
            to_location_id: new.to_location_id,
            status: Status::Draft,
            lines: transfer_lines(&new.lines),
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
            shipped_at: None,
            version: 1,
        }
    }

    /// Edits a DRAFT; any other status refuses the edit.
    pub fn edit(
        &self,
        patch: &TransferPatch,
        now: DateTime<Utc>,
    ) -> Result<TransferTransition, DomainError> {
        self.require_editable()?;
        let mut next = self.next(Status::Draft, now);
        if let Some(from) = patch.from_location_id {
            next.from_location_id = from;
        }
        if let Some(to) = patch.to_location_id {
            next.to_location_id = to;
        }
        if let Some(lines) = &patch.lines {
            next.lines = transfer_lines(lines);
        }
        Ok(unmoved(next))
    }

    /// Refused unless the transfer is DRAFT, the only status that can be edited.
    pub fn require_editable(&self) -> Result<(), DomainError> {
        if self.status == Status::Draft {
            Ok(())
        } else {
            Err(DomainError::Conflict(format!(
                "a transfer can be edited only while DRAFT; this one is {}",
                self.status.as_str()
            )))
        }
    }

    /// DRAFT → SHIPPED: a TRANSFER_OUT of every line at the source.
    pub fn ship(
        &self,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> Result<TransferTransition, DomainError> {
        if self.status != Status::Draft {
            return Err(invalid(self.status, Status::Shipped));
        }
        let mut next = self.next(Status::Shipped, now);
        next.shipped_at = Some(now);
        let changes = self
            .lines
            .iter()
            .map(|l| {
                StockChange::transfer_out(
                    Level::new(l.variant_id, self.from_location_id),
                    l.quantity,
                    self.id,
                    actor,
                    now,
                )
            })
            .collect();
        Ok(TransferTransition { next, changes })
    }

    /// SHIPPED or PARTIALLY_RECEIVED → PARTIALLY_RECEIVED, or RECEIVED once every line is in: a
    /// TRANSFER_IN per variant at the destination. A variant not on the transfer is named by its
    /// request line; receiving more than shipped − received on any line refuses it all.
    pub fn receive(
        &self,
        lines: &[LineRequest],
        actor: UserId,
        now: DateTime<Utc>,
    ) -> Result<TransferTransition, DomainError> {
        if !Status::IN_TRANSIT.contains(&self.status) {
            return Err(invalid(self.status, Status::Received));
        }
        if lines.is_empty() {
            return Err(DomainError::invalid("lines", "must have at least one line"));
        }
        let mut next = self.next(self.status, now);
        let Receipt { demand, complete } =
            receive_lines(&mut next.lines, lines, "this transfer", "shipped")?;
        next.status = if complete {
            Status::Received
        } else {
            Status::PartiallyReceived
        };
        let changes = demand
            .iter()
            .map(|(variant, qty)| {
                StockChange::transfer_in(
                    Level::new(*variant, self.to_location_id),
                    *qty,
                    self.id,
                    actor,
                    now,
                )
            })
            .collect();
        Ok(TransferTransition { next, changes })
    }

    /// DRAFT → CANCELLED. Nothing has moved yet; a shipped transfer is received, not cancelled.
    pub fn cancel(&self, now: DateTime<Utc>) -> Result<TransferTransition, DomainError> {
        if self.status != Status::Draft {
            return Err(invalid(self.status, Status::Cancelled));
        }
        Ok(unmoved(self.next(Status::Cancelled, now)))
    }

    /// This transfer at `status`, one version on.
    fn next(&self, status: Status, now: DateTime<Utc>) -> Transfer {
        Transfer {
            status,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }
}

impl ReceivingLine for TransferLine {
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

fn unmoved(next: Transfer) -> TransferTransition {
    TransferTransition {
        next,
        changes: Vec::new(),
    }
}

fn transfer_lines(lines: &[LineRequest]) -> Vec<TransferLine> {
    lines
        .iter()
        .map(|l| TransferLine {
            variant_id: l.variant_id,
            quantity: l.quantity.get(),
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
    use crate::ids::{LocationId, VariantId};
    use crate::stock::models::MovementKind;
    use crate::testing::actor;
    use crate::values::Quantity;

    fn line(variant: VariantId, quantity: i64) -> LineRequest {
        LineRequest {
            variant_id: variant,
            quantity: Quantity::new(quantity).unwrap(),
        }
    }

    fn drafted(quantities: &[i64]) -> (Transfer, Vec<VariantId>) {
        let who = actor(Role::Manager);
        let ids: Vec<VariantId> = quantities.iter().map(|_| VariantId::new()).collect();
        let new = NewTransfer {
            from_location_id: LocationId::new(),
            to_location_id: LocationId::new(),
            lines: ids
                .iter()
                .zip(quantities)
                .map(|(v, q)| line(*v, *q))
                .collect(),
        };
        (Transfer::draft(&who, &new, Utc::now()), ids)
    }

    #[test]
    fn shipping_takes_every_line_out_of_the_source() {
        let (draft, ids) = drafted(&[3, 4]);
        let shipped = draft.ship(UserId::new(), Utc::now()).unwrap();
        assert_eq!(shipped.next.status, Status::Shipped);
        assert!(shipped.next.shipped_at.is_some());
        assert_eq!(shipped.next.in_transit(), 7);
        assert_eq!(shipped.changes.len(), 2);
        for (change, id) in shipped.changes.iter().zip(&ids) {
            assert_eq!(change.kind, MovementKind::TransferOut);
            assert_eq!(change.variant_id, *id);
            assert_eq!(change.location_id, draft.from_location_id);
            assert_eq!(change.transfer_id, Some(draft.id));
        }
        assert_eq!(shipped.changes[1].delta, -4);
        assert_eq!(
            shipped.changes[1].in_transit_delta, 4,
            "the units are now in transit"
        );
    }

    #[test]
    fn receipts_arrive_at_the_destination_until_every_unit_is_in() {
        let (draft, ids) = drafted(&[5]);
        let shipped = draft.ship(UserId::new(), Utc::now()).unwrap().next;
        let part = shipped
            .receive(&[line(ids[0], 2)], UserId::new(), Utc::now())
            .unwrap();
        assert_eq!(part.next.status, Status::PartiallyReceived);
        assert_eq!(part.next.in_transit(), 3);
        assert_eq!(part.changes[0].kind, MovementKind::TransferIn);
        assert_eq!(part.changes[0].location_id, draft.to_location_id);
        assert_eq!(part.changes[0].delta, 2);
        assert_eq!(part.changes[0].in_transit_delta, -2);
        let rest = part
            .next
            .receive(&[line(ids[0], 3)], UserId::new(), Utc::now())
            .unwrap();
        assert_eq!(rest.next.status, Status::Received);
        assert_eq!(rest.next.in_transit(), 0);
    }

    #[test]
    fn an_over_receipt_is_refused_whole() {
        let (draft, ids) = drafted(&[2, 2]);
        let shipped = draft.ship(UserId::new(), Utc::now()).unwrap().next;
        let err = shipped
            .receive(
                &[line(ids[0], 1), line(ids[1], 3)],
                UserId::new(),
                Utc::now(),
            )
            .unwrap_err();
        assert!(matches!(err, DomainError::Conflict(m) if m.contains("cannot receive 3")));
    }

    #[test]
    fn a_variant_not_on_the_transfer_is_named_by_its_line() {
        let (draft, _) = drafted(&[2]);
        let shipped = draft.ship(UserId::new(), Utc::now()).unwrap().next;
        let err = shipped
            .receive(&[line(VariantId::new(), 1)], UserId::new(), Utc::now())
            .unwrap_err();
        assert!(matches!(err, DomainError::Validation(f) if f[0].field == "lines[0].variantId"));
    }

    #[test]
    fn only_a_draft_is_edited_shipped_or_cancelled() {
        let (draft, _) = drafted(&[1]);
        assert!(matches!(
            draft.receive(&[], UserId::new(), Utc::now()),
            Err(DomainError::InvalidTransition { from: "DRAFT", .. })
        ));
        let shipped = draft.ship(UserId::new(), Utc::now()).unwrap().next;
        assert!(matches!(
            shipped.cancel(Utc::now()),
            Err(DomainError::InvalidTransition {
                from: "SHIPPED",
                to: "CANCELLED"
            })
        ));
        assert!(matches!(
            shipped.ship(UserId::new(), Utc::now()),
            Err(DomainError::InvalidTransition {
                from: "SHIPPED",
                ..
            })
        ));
        assert!(matches!(
            shipped.edit(&TransferPatch::default(), Utc::now()),
            Err(DomainError::Conflict(_))
        ));
        assert_eq!(
            draft.cancel(Utc::now()).unwrap().next.status,
            Status::Cancelled
        );
    }
}
