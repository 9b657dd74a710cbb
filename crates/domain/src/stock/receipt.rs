//! Units arriving against the lines of a document that sent for them: a purchase order's
//! receipts and a transfer's. Both refuse a variant not on the document by its request line,
//! and refuse the whole receipt when any line would receive more than it still expects.

use crate::error::{DomainError, FieldErrors};
use crate::ids::VariantId;
use crate::orders::models::LineRequest;
use crate::stock::reserve::Demand;

/// A line that expects units and counts those received.
pub(crate) trait ReceivingLine {
    fn variant_id(&self) -> VariantId;
    /// Units the line expects in all (ordered, or shipped).
    fn expected(&self) -> i64;
    fn received_mut(&mut self) -> &mut i64;
}

/// What a checked receipt brings: the units per variant, and whether every line is now in.
pub(crate) struct Receipt {
    pub demand: Demand,
    pub complete: bool,
}

/// Counts `request` into `lines`, or refuses it: 422 naming each request line whose variant is
/// not on the document (`on`: "this purchase order"), then 409 listing every line that would
/// receive more than `expected − received` (`expected_as`: "ordered"). On refusal `lines` may be
/// partly counted: callers count into the next version, which they drop.
pub(crate) fn receive_lines<L: ReceivingLine>(
    lines: &mut [L],
    request: &[LineRequest],
    on: &str,
    expected_as: &str,
) -> Result<Receipt, DomainError> {
    let mut errors = FieldErrors::new();
    for (i, line) in request.iter().enumerate() {
        if !lines.iter().any(|l| l.variant_id() == line.variant_id) {
            errors.add(format!("lines[{i}].variantId"), format!("is not on {on}"));
        }
    }
    errors.finish()?;
    let demand = Demand::from_lines(request.iter().map(|l| (l.variant_id, l.quantity.get())));
    let mut over = Vec::new();
    for line in lines.iter_mut() {
        let qty = demand.get(&line.variant_id());
        let (expected, received) = (line.expected(), *line.received_mut());
        if qty > expected - received {
            over.push(format!(
                "variant {}: cannot receive {qty}; {expected_as} {expected}, already received {received}",
                line.variant_id()
            ));
        }
        *line.received_mut() += qty;
    }
    if !over.is_empty() {
        return Err(DomainError::Conflict(over.join("; ")));
    }
    let complete = lines.iter_mut().all(|l| *l.received_mut() == l.expected());
    Ok(Receipt { demand, complete })
}
