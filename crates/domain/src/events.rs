//! Domain events and the publisher port.
//!
//! Events are published only after the write that caused them has committed, so a subscriber never
//! hears of a change that was rolled back. Publishing cannot fail a use case: the write is already
//! durable, and a lost notification is recovered by reading the API.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::{MovementId, OrderId, PurchaseOrderId, TenantId, VariantId};
use crate::stock::models::MovementKind;
use crate::values::{Money, Sku};

#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    /// Every movement: the new stock of a variant.
    StockChanged {
        tenant_id: TenantId,
        variant_id: VariantId,
        sku: Sku,
        stock: i64,
        delta: i64,
        movement_type: MovementKind,
        movement_id: MovementId,
        at: DateTime<Utc>,
    },
    /// A movement took stock from above the reorder level to at or below it.
    StockLow {
        tenant_id: TenantId,
        variant_id: VariantId,
        sku: Sku,
        stock: i64,
        reorder_level: i64,
        at: DateTime<Utc>,
    },
    OrderPlaced {
        tenant_id: TenantId,
        order_id: OrderId,
        total: Money,
        at: DateTime<Utc>,
    },
    OrderCancelled {
        tenant_id: TenantId,
        order_id: OrderId,
        at: DateTime<Utc>,
    },
    OrderFulfilled {
        tenant_id: TenantId,
        order_id: OrderId,
        at: DateTime<Utc>,
    },
    PurchaseOrderReceived {
        tenant_id: TenantId,
        purchase_order_id: PurchaseOrderId,
        status: &'static str,
        at: DateTime<Utc>,
    },
}

impl DomainEvent {
    pub fn tenant_id(&self) -> &TenantId {
        match self {
            DomainEvent::StockChanged { tenant_id, .. }
            | DomainEvent::StockLow { tenant_id, .. }
            | DomainEvent::OrderPlaced { tenant_id, .. }
            | DomainEvent::OrderCancelled { tenant_id, .. }
            | DomainEvent::OrderFulfilled { tenant_id, .. }
            | DomainEvent::PurchaseOrderReceived { tenant_id, .. } => tenant_id,
        }
    }

    /// The wire name of the event, e.g. `stock.changed`.
    pub fn name(&self) -> &'static str {
        match self {
            DomainEvent::StockChanged { .. } => "stock.changed",
            DomainEvent::StockLow { .. } => "stock.low",
            DomainEvent::OrderPlaced { .. } => "order.placed",
            DomainEvent::OrderCancelled { .. } => "order.cancelled",
            DomainEvent::OrderFulfilled { .. } => "order.fulfilled",
            DomainEvent::PurchaseOrderReceived { .. } => "purchaseOrder.received",
        }
    }
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Delivers committed events to subscribers of their tenant. Never fails the caller: an
    /// adapter logs its own delivery errors.
    async fn publish(&self, events: Vec<DomainEvent>);
}

/// A publisher that writes each event to the log (the default when nothing else listens).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogPublisher;

#[async_trait]
impl EventPublisher for LogPublisher {
    async fn publish(&self, events: Vec<DomainEvent>) {
        for event in events {
            match &event {
                DomainEvent::StockLow {
                    tenant_id,
                    sku,
                    stock,
                    reorder_level,
                    ..
                } => tracing::warn!(%tenant_id, %sku, stock, reorder_level, "stock low"),
                other => {
                    tracing::debug!(tenant_id = %other.tenant_id(), event = other.name(), "event")
                }
            }
        }
    }
}

/// Hands every batch of events to several publishers, in order (e.g. the log and the sockets).
pub struct CompositePublisher(pub Vec<std::sync::Arc<dyn EventPublisher>>);

#[async_trait]
impl EventPublisher for CompositePublisher {
    async fn publish(&self, events: Vec<DomainEvent>) {
        for publisher in &self.0 {
            publisher.publish(events.clone()).await;
        }
    }
}
