//! The [`EventPublisher`] adapters: straight to local sockets, or through Redis to every instance.
//!
//! With one API instance, [`SocketPublisher`] emits each event to the sockets of this process.
//! With several, a client may be connected to an instance other than the one that handled the
//! write, so [`FanoutPublisher`] publishes each event to Redis instead, and every instance's
//! subscriber (the publishing one's included) emits what it hears to its own sockets. Each event
//! thus reaches each socket once. If Redis cannot take an event, it is emitted locally so at
//! least this instance's clients hear of it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::events::{DomainEvent, EventPublisher};
use infra_redis::{RedisFanout, Subscription};

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

/// Publishes events through Redis and delivers the events of every instance to this instance's
/// sockets. Owns its subscriber: it runs for as long as any clone of the publisher lives.
#[derive(Clone, Debug)]
pub struct FanoutPublisher {
    fanout: RedisFanout,
    local: Realtime,
    subscription: Arc<Subscription>,
}

impl FanoutPublisher {
    /// Subscribes `realtime` to the events on `fanout` and returns the publisher that sends to it.
    /// Must be called within a Tokio runtime.
    pub fn start(realtime: &Realtime, fanout: RedisFanout) -> Self {
        let local = realtime.clone();
        let subscription = fanout.subscribe(move |bytes| {
            let local = local.clone();
            async move {
                match serde_json::from_slice::<WireEvent>(&bytes) {
                    Ok(event) => local.emit(&event).await,
                    Err(error) => tracing::warn!(%error, "ignoring a malformed fan-out event"),
                }
            }
        });
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
}

#[async_trait]
impl EventPublisher for FanoutPublisher {
    async fn publish(&self, events: Vec<DomainEvent>) {
        for event in &events {
            let wire = to_wire(event);
            if let Err(error) = self.fanout.publish_json(&wire).await {
                tracing::warn!(
                    error = %format!("{error:#}"),
                    event = %wire.name,
                    "cannot fan out event through Redis; emitting it locally only"
                );
                self.local.emit(&wire).await;
            }
        }
    }
}
