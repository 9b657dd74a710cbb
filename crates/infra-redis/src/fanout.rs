//! Cross-instance fan-out of events over Redis pub/sub.
//!
//! Every API instance publishes the events it caused to one channel and subscribes to the same
//! channel, handing each message (its own included) to a sink that delivers it to the clients
//! connected to that instance. Pub/sub keeps nothing: a message published while an instance is
//! disconnected is lost to it, which fits events that are notifications (clients recover by
//! reading the API), not records.
//!
//! The subscriber owns a dedicated connection (a subscribed connection can do nothing else). It
//! pings it periodically, because a Redis that vanished without closing the socket would otherwise
//! look like a quiet channel forever, and reconnects with backoff whenever the connection is lost.
//! Payloads are opaque bytes, so this module knows nothing of the wire format.
//!
//! [`RedisFanout`] is the [`EventFanout`] port's adapter; its own `publish` and `subscribe` (with
//! any closure as the sink) are what the port's methods call.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use deadpool_redis::Pool;
use domain::events::{EventFanout, FanoutError, FanoutSink, FanoutSubscription};
use domain::lock::Unreachable;
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backoff::Backoff;
use crate::pool::{self, build_pool};

/// A running subscriber, as the port hands it out: its state and the task that stops with it.
pub type Subscription = FanoutSubscription;

/// The channel events travel on unless another one is chosen.
pub const EVENTS_CHANNEL: &str = "stockroom:events";

/// How long publishing or (re)subscribing may take before Redis is deemed unavailable.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// How often an idle subscription checks that its connection is still alive.
const HEALTH_CHECK_EVERY: Duration = Duration::from_secs(5);
const RECONNECT_MIN: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// Publishes to and subscribes on one Redis pub/sub channel. Cheap to clone.
#[derive(Clone)]
pub struct RedisFanout {
    client: redis::Client,
    pool: Pool,
    channel: Arc<str>,
}

impl std::fmt::Debug for RedisFanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisFanout")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl RedisFanout {
    /// A fan-out on [`EVENTS_CHANNEL`] of the Redis at `url`. Connects lazily.
    pub fn connect(url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: redis::Client::open(url).context("invalid Redis URL")?,
            pool: build_pool(url, COMMAND_TIMEOUT)?,
            channel: Arc::from(EVENTS_CHANNEL),
        })
    }

    /// The same Redis on another channel (separate deployments, or tests, sharing one Redis).
    pub fn with_channel(mut self, channel: &str) -> Self {
        self.channel = Arc::from(channel);
        self
    }

    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Sends `payload` to every subscriber of the channel, this instance's included.
    pub async fn publish(&self, payload: &[u8]) -> anyhow::Result<()> {
        let work = async {
            let mut conn = self.pool.get().await.context("no Redis connection")?;
            redis::cmd("PUBLISH")
                .arg(&*self.channel)
                .arg(payload)
                .query_async::<i64>(&mut conn)
                .await
                .context("PUBLISH failed")
        };
        tokio::time::timeout(COMMAND_TIMEOUT, work)
            .await
            .context("Redis did not answer PUBLISH in time")??;
        Ok(())
    }

    /// Publishes `value` serialized as JSON.
    pub async fn publish_json<T: Serialize + ?Sized>(&self, value: &T) -> anyhow::Result<()> {
        let payload = serde_json::to_vec(value).context("cannot serialize the message")?;
        self.publish(&payload).await
    }

    /// Starts a task that hands every message of the channel to `sink`, one at a time and in
    /// order, reconnecting whenever the connection is lost. Dropping the returned
    /// [`Subscription`] stops it. Must be called within a Tokio runtime.
    pub fn subscribe<F, Fut>(&self, sink: F) -> Subscription
    where
        F: FnMut(Vec<u8>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (state, subscribed) = watch::channel(false);
        let task = tokio::spawn(run_subscriber(
            self.client.clone(),
            self.channel.clone(),
            sink,
            state,
        ));
        FanoutSubscription::new(subscribed, AbortOnDrop(task))
    }
}

/// Stops the subscriber task when the subscription holding it is dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[async_trait]
impl EventFanout for RedisFanout {
    async fn publish(&self, payload: &[u8]) -> Result<(), FanoutError> {
        RedisFanout::publish(self, payload)
            .await
            .map_err(|error| FanoutError::Unavailable(format!("{error:#}")))
    }

    fn subscribe(&self, sink: Arc<dyn FanoutSink>) -> FanoutSubscription {
        RedisFanout::subscribe(self, move |payload| {
            let sink = sink.clone();
            async move { sink.deliver(payload).await }
        })
    }

    /// Succeeds when Redis answers a PING through the publishing pool (readiness probe).
    async fn ping(&self) -> Result<(), Unreachable> {
        pool::ping(&self.pool, COMMAND_TIMEOUT).await
    }
}

async fn run_subscriber<F, Fut>(
    client: redis::Client,
    channel: Arc<str>,
    mut sink: F,
    state: watch::Sender<bool>,
) where
    F: FnMut(Vec<u8>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut backoff = Backoff::new(RECONNECT_MIN, RECONNECT_MAX);
    loop {
        match subscribe_once(&client, &channel).await {
            Ok((health, messages)) => {
                backoff.reset();
                state.send_replace(true);
                tracing::info!(channel = &*channel, "subscribed to Redis events");
                let reason = deliver(health, messages, &mut sink).await;
                state.send_replace(false);
                tracing::warn!(channel = &*channel, %reason, "lost Redis events subscription");
            }
            Err(error) => {
                tracing::warn!(channel = &*channel, error = %format!("{error:#}"), "cannot subscribe to Redis events");
            }
        }
        tokio::time::sleep(backoff.next_wait()).await;
    }
}

async fn subscribe_once(
    client: &redis::Client,
    channel: &str,
) -> anyhow::Result<(redis::aio::PubSubSink, redis::aio::PubSubStream)> {
    let work = async {
        let (mut sink, stream) = client.get_async_pubsub().await?.split();
        sink.subscribe(channel).await?;
        Ok::<_, redis::RedisError>((sink, stream))
    };
    Ok(tokio::time::timeout(COMMAND_TIMEOUT, work)
        .await
        .context("timed out")??)
}

/// Delivers messages until the connection is lost; returns why it stopped.
async fn deliver<F, Fut>(
    mut health: redis::aio::PubSubSink,
    mut messages: redis::aio::PubSubStream,
    sink: &mut F,
) -> String
where
    F: FnMut(Vec<u8>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut check = tokio::time::interval(HEALTH_CHECK_EVERY);
    check.tick().await;
    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(message) => sink(message.get_payload_bytes().to_vec()).await,
                None => return "connection closed".into(),
            },
            _ = check.tick() => {
                let ping = tokio::time::timeout(COMMAND_TIMEOUT, health.ping::<redis::Value>()).await;
                match ping {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => return format!("health check failed: {error}"),
                    Err(_) => return "health check timed out".into(),
                }
            }
        }
    }
}
