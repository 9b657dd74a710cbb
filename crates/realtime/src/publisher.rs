//! The [`EventPublisher`] adapters: straight to local sockets, or through the cross-instance
//! fan-out to every instance.
//!
//! With one API instance, [`SocketPublisher`] emits each event to the sockets of this process.
//! With several, a client may be connected to an instance other than the one that handled the
//! write, so [`FanoutPublisher`] publishes each event to the [`EventFanout`] port instead (Redis
//! pub/sub, wired by the API), and every instance's subscriber (the publishing one's included)
//! emits what it hears to its own sockets. Each event thus reaches each socket once. If the
//! fan-out cannot take an event, it is emitted locally so at least this instance's clients hear
//! of it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::events::{DomainEvent, EventFanout, EventPublisher, FanoutSink, FanoutSubscription};

use crate::server::Realtime;
use crate::wire::{to_wire, WireEvent};

/// Emits events to the sockets connected to this instance.
#[derive(Clone, Debug)]
pub struct SocketPublisher {
    realtime: Realtime,
}

impl SocketPublisher {
    pub fn new(realtime: Realtime) -> Self {
        Self { realtime }
    }
}

#[async_trait]
impl EventPublisher for SocketPublisher {
    async fn publish(&self, events: Vec<DomainEvent>) {
        for event in &events {
            self.realtime.emit(&to_wire(event)).await;
        }
    }
}

/// Publishes events through the fan-out and delivers the events of every instance to this
/// instance's sockets. Owns its subscription: it runs for as long as any clone of the publisher
/// lives.
#[derive(Clone)]
pub struct FanoutPublisher {
    fanout: Arc<dyn EventFanout>,
    local: Realtime,
    subscription: Arc<FanoutSubscription>,
}

impl std::fmt::Debug for FanoutPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanoutPublisher")
            .field("local", &self.local)
            .field("subscription", &self.subscription)
            .finish_non_exhaustive()
    }
}

/// Emits what the fan-out hears to this instance's sockets.
struct LocalSockets(Realtime);

#[async_trait]
impl FanoutSink for LocalSockets {
    async fn deliver(&self, payload: Vec<u8>) {
        match serde_json::from_slice::<WireEvent>(&payload) {
            Ok(event) => self.0.emit(&event).await,
            Err(error) => tracing::warn!(%error, "ignoring a malformed fan-out event"),
        }
    }
}

impl FanoutPublisher {
    /// Subscribes `realtime` to the events on `fanout` and returns the publisher that sends to it.
    /// Must be called within a Tokio runtime.
    pub fn start(realtime: &Realtime, fanout: impl EventFanout + 'static) -> Self {
        Self::start_shared(realtime, Arc::new(fanout))
    }

    /// [`FanoutPublisher::start`] on a fan-out the caller shares (e.g. with a readiness probe).
    pub fn start_shared(realtime: &Realtime, fanout: Arc<dyn EventFanout>) -> Self {
        let subscription = fanout.subscribe(Arc::new(LocalSockets(realtime.clone())));
        Self {
            fanout,
            local: realtime.clone(),
            subscription: Arc::new(subscription),
        }
    }

    /// Whether this instance currently hears the other instances' events.
    pub fn is_subscribed(&self) -> bool {
        self.subscription.is_subscribed()
    }

    /// Waits until the subscriber is in place; `false` if `timeout` passes first.
    pub async fn wait_subscribed(&self, timeout: Duration) -> bool {
        self.subscription.wait_subscribed(timeout).await
    }

    /// Hands `wire` to the fan-out as JSON; why not, if it could not.
    async fn send(&self, wire: &WireEvent) -> Result<(), String> {
        let payload = serde_json::to_vec(wire)
            .map_err(|error| format!("cannot serialize the message: {error}"))?;
        self.fanout
            .publish(&payload)
            .await
            .map_err(|error| error.to_string())
    }
}

#[async_trait]
impl EventPublisher for FanoutPublisher {
    async fn publish(&self, events: Vec<DomainEvent>) {
        for event in &events {
            let wire = to_wire(event);
            if let Err(error) = self.send(&wire).await {
                tracing::warn!(
                    %error,
                    event = %wire.name,
                    "cannot fan out event; emitting it locally only"
                );
                self.local.emit(&wire).await;
            }
        }
    }
}
