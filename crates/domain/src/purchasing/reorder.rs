//! Drafting a purchase order from the low-stock report: what to buy, and at what price.
//!
//! The report suggests a quantity per low variant ([`crate::reports`]); buying is purchasing's
//! business, so turning suggestions into a DRAFT purchase order lives here, priced at each
//! variant's weighted average purchase cost (0 when it was never purchased).

use super::models::{NewPurchaseOrder, PurchaseLineRequest, PurchaseOrder};
use super::service::PurchasingService;
use crate::auth::models::{Action, Actor};
use crate::error::DomainError;
use crate::idempotency::{Idempotency, Outcome};
use crate::ids::{SupplierId, VariantId};
use crate::reports::models::{LowStockLine, ValuationRow};
use crate::reports::service::{average_unit_cost, low_stock_lines};
use crate::values::{Money, Quantity};

impl PurchasingService {
    /// Drafts a purchase order for the suggested quantities (optionally only `variant_ids`).
    /// 422 on `variantIds` when nothing needs reordering.
    pub async fn reorder(
        &self,
        actor: &Actor,
        supplier_id: SupplierId,
        variant_ids: Option<Vec<VariantId>>,
        idem: Option<Idempotency<PurchaseOrder>>,
    ) -> Result<Outcome<PurchaseOrder>, DomainError> {
        actor.require(Action::WritePurchasing)?;
        actor.require(Action::ReadLowStock)?;
        let tenant = actor.tenant_id;
        let suggestions = low_stock_lines(&self.deps, &tenant, None).await?;
        let costs = self.deps.reports.valuation(&tenant, None).await?;
        let lines = reorder_lines(&suggestions, &costs, variant_ids.as_deref());
        if lines.is_empty() {
            return Err(DomainError::invalid(
                "variantIds",
                "no low-stock variant needs reordering",
            ));
        }
        self.create_purchase_order(
            actor,
            NewPurchaseOrder {
                supplier_id,
                lines,
                expected_at: None,
                location_id: None,
            },
            idem,
        )
        .await
    }
}

/// One line per suggestion with a positive quantity (only those in `only`, when given), at the
/// variant's average purchase cost.
fn reorder_lines(
    suggestions: &[LowStockLine],
    costs: &[ValuationRow],
    only: Option<&[VariantId]>,
) -> Vec<PurchaseLineRequest> {
    suggestions
        .iter()
        .filter(|l| l.suggested_quantity > 0)
        .filter(|l| only.is_none_or(|ids| ids.contains(&l.variant.id)))
        .filter_map(|l| {
            let cost = costs
                .iter()
                .find(|c| c.variant_id == l.variant.id)
                .map_or(0, average_unit_cost);
            Some(PurchaseLineRequest {
                variant_id: l.variant.id,
                quantity: Quantity::new(l.suggested_quantity).ok()?,
                unit_cost: Money::new(cost).ok()?,
            })
        })
        .collect()
}
