//! Domain events, the publisher port and the cross-instance fan-out port.
//!
//! Events are published only after the write that caused them has committed, so a subscriber never
//! hears of a change that was rolled back. Publishing cannot fail a use case: the write is already
//! durable, and a lost notification is recovered by reading the API.
//!
//! With several API instances, an event caused on one must reach the clients connected to the
//! others. [`EventFanout`] is that channel between instances. It carries opaque bytes, so the
//! adapter behind it (Redis pub/sub) knows nothing of the wire format, and the publisher that
//! uses it (the Socket.IO one) knows nothing of the adapter.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::ids::{
    LocationId, MovementId, OrderId, PurchaseOrderId, ReservationId, TenantId, TransferId,
    VariantId,
};
use crate::lock::Unreachable;
use crate::stock::models::MovementKind;
use crate::stock::state::StockState;
use crate::values::{Money, Sku};

#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    /// Every movement: the new stock of a variant (its total) and of the level it changed.
    StockChanged {
        tenant_id: TenantId,
        variant_id: VariantId,
        location_id: LocationId,
        sku: Sku,
        /// The variant's total after the change, by state (its `available()` is the variant's
        /// `stock`).
        total: StockState,
        /// The level (`variant_id`, `location_id`) after the change, by state.
        level: StockState,
        /// How on hand moved: the movement's quantity, 0 for a change of claims alone.
        delta: i64,
        /// The movement recorded, when on hand moved.
        movement: Option<(MovementKind, MovementId)>,
        /// The order whose units were committed, released or sold, when there is one.
        order_id: Option<OrderId>,
        /// The reservation whose hold the change placed, took, dropped or extended.
        reservation_id: Option<ReservationId>,
        at: DateTime<Utc>,
    },
    /// A movement took the variant's total from above its reorder level to at or below it.
    StockLow {
        tenant_id: TenantId,
        variant_id: VariantId,
        /// Where the movement that crossed the level happened.
        location_id: LocationId,
        sku: Sku,
        /// The variant's total.
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
        /// The destination the units arrived at.
        location_id: LocationId,
        status: &'static str,
        at: DateTime<Utc>,
    },
    /// A transfer's units left its source and are in transit.
    TransferShipped {
        tenant_id: TenantId,
        transfer_id: TransferId,
        from_location_id: LocationId,
        to_location_id: LocationId,
        units: i64,
        at: DateTime<Utc>,
    },
    /// Units of a transfer arrived (all of them when `status` is RECEIVED).
    TransferReceived {
        tenant_id: TenantId,
        transfer_id: TransferId,
        from_location_id: LocationId,
        to_location_id: LocationId,
        units: i64,
        status: &'static str,
        at: DateTime<Utc>,
    },
    /// A checkout hold was placed: its units are reserved until `expires_at`.
    ReservationCreated {
        tenant_id: TenantId,
        reservation_id: ReservationId,
        units: i64,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// A hold became an order: its units are committed to `order_id`.
    ReservationConfirmed {
        tenant_id: TenantId,
        reservation_id: ReservationId,
        order_id: OrderId,
        at: DateTime<Utc>,
    },
    /// A hold was released: its units are available again.
    ReservationReleased {
        tenant_id: TenantId,
        reservation_id: ReservationId,
        at: DateTime<Utc>,
    },
    /// A live hold's expiry moved.
    ReservationExtended {
        tenant_id: TenantId,
        reservation_id: ReservationId,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// A sweep stored an expired hold as EXPIRED. Its units stopped counting at `expired_at`,
    /// before this event.
    ReservationExpired {
        tenant_id: TenantId,
        reservation_id: ReservationId,
        expired_at: DateTime<Utc>,
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
            | DomainEvent::PurchaseOrderReceived { tenant_id, .. }
            | DomainEvent::TransferShipped { tenant_id, .. }
            | DomainEvent::TransferReceived { tenant_id, .. }
            | DomainEvent::ReservationCreated { tenant_id, .. }
            | DomainEvent::ReservationConfirmed { tenant_id, .. }
            | DomainEvent::ReservationReleased { tenant_id, .. }
            | DomainEvent::ReservationExtended { tenant_id, .. }
            | DomainEvent::ReservationExpired { tenant_id, .. } => tenant_id,
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
            DomainEvent::TransferShipped { .. } => "transfer.shipped",
            DomainEvent::TransferReceived { .. } => "transfer.received",
            DomainEvent::ReservationCreated { .. } => "reservation.created",
            DomainEvent::ReservationConfirmed { .. } => "reservation.confirmed",
            DomainEvent::ReservationReleased { .. } => "reservation.released",
            DomainEvent::ReservationExtended { .. } => "reservation.extended",
            DomainEvent::ReservationExpired { .. } => "reservation.expired",
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

/// Why the fan-out could not take a payload.
#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    /// The channel between instances cannot be reached or did not answer in time.
    #[error("event fan-out unavailable: {0}")]
    Unavailable(String),
}

/// Where a fan-out subscription hands the payloads it hears.
#[async_trait]
pub trait FanoutSink: Send + Sync {
    /// Takes one payload. The subscription awaits it before handing over the next one, so a slow
    /// sink slows delivery rather than reordering it.
    async fn deliver(&self, payload: Vec<u8>);
}

/// A running fan-out subscription. Dropping it stops delivery to its sink.
pub struct FanoutSubscription {
    subscribed: watch::Receiver<bool>,
    _running: Box<dyn Send + Sync>,
}

impl FanoutSubscription {
    /// A subscription whose state `subscribed` follows (`true` while payloads are being heard),
    /// kept running for as long as `running` lives (an adapter passes what stops it on drop).
    pub fn new(subscribed: watch::Receiver<bool>, running: impl Send + Sync + 'static) -> Self {
        Self {
            subscribed,
            _running: Box::new(running),
        }
    }

    /// Whether payloads published now would be heard.
    pub fn is_subscribed(&self) -> bool {
        *self.subscribed.borrow()
    }

    /// Waits until the subscription hears payloads; `false` if `timeout` passes first. Payloads
    /// published before then are never delivered to it.
    pub async fn wait_subscribed(&self, timeout: Duration) -> bool {
        let mut subscribed = self.subscribed.clone();
        tokio::time::timeout(timeout, subscribed.wait_for(|subscribed| *subscribed))
            .await
            .is_ok_and(|result| result.is_ok())
    }
}

impl std::fmt::Debug for FanoutSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanoutSubscription")
            .field("subscribed", &self.is_subscribed())
            .finish_non_exhaustive()
    }
}

/// The channel every instance of one deployment publishes its events to and hears everyone's
/// events from (its own included), as opaque payloads.
///
/// Delivery is best effort, like the events it carries: a payload published while an instance is
/// not subscribed is lost to that instance, and nothing is kept for later.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventFanout: Send + Sync {
    /// Sends `payload` to every current subscriber of the deployment, this instance's included.
    ///
    /// MUST return `Unavailable` within the adapter's own timeout, never hang, when the channel
    /// cannot take the payload, so the caller can still deliver it locally.
    async fn publish(&self, payload: &[u8]) -> Result<(), FanoutError>;

    /// Starts handing every payload of the channel to `sink`, one at a time and in the order
    /// they were published, until the returned subscription is dropped.
    ///
    /// MUST return at once (the subscribing happens in the background), MUST re-subscribe by
    /// itself after losing the channel, and MUST keep the subscription's state current. Must be
    /// called within a Tokio runtime.
    fn subscribe(&self, sink: Arc<dyn FanoutSink>) -> FanoutSubscription;

    /// `Ok` when the server the channel runs on answers (readiness probe). A fan-out that needs
    /// no server keeps this default.
    ///
    /// An adapter that talks to a server MUST override it, MUST answer within its own command
    /// timeout, and MUST name that server in the [`Unreachable`] it returns.
    async fn ping(&self) -> Result<(), Unreachable> {
        Ok(())
    }
}

#[cfg(test)]
mod fanout_tests {
    use super::*;

    #[tokio::test]
    async fn a_subscription_follows_its_state_and_keeps_what_runs_it() {
        let (state, subscribed) = watch::channel(false);
        let running = Arc::new(());
        let subscription = FanoutSubscription::new(subscribed, running.clone());
        assert!(!subscription.is_subscribed());
        assert!(
            !subscription
                .wait_subscribed(Duration::from_millis(10))
                .await
        );
        state.send_replace(true);
        assert!(subscription.is_subscribed());
        assert!(
            subscription
                .wait_subscribed(Duration::from_millis(10))
                .await
        );
        assert_eq!(Arc::strong_count(&running), 2);
        drop(subscription);
        assert_eq!(
            Arc::strong_count(&running),
            1,
            "dropping it stops what runs it"
        );
    }
}
