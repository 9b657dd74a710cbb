//! Cross-instance announcements of changed sessions over Redis pub/sub.
//!
//! When a user's role or active flag changes on one instance, every instance must forget what it
//! kept of that user (see `domain::auth::cache`). [`RedisSessionInvalidation`] is the
//! [`SessionInvalidation`] port's adapter: it publishes `{"tenant": …, "user": …}` on its own
//! channel and hands each one heard to the domain's sink. Connections, health checks and
//! reconnecting are those of [`RedisFanout`] on a separate channel, so that a flood of events
//! never delays an announcement behind it.
//!
//! The subscription's state decides how long the domain trusts what it keeps (60 s while heard,
//! 1 s while not), so it must turn false quickly when announcements stop arriving — including
//! over a connection that died without closing, which the fan-out's health check notices only
//! after seconds. So each subscriber publishes a heartbeat every [`BEAT_EVERY`] and counts as
//! heard only while some message (a heartbeat, its own at least) arrived within [`HEARD_WITHIN`]:
//! an instance that stops hearing falls back to the short bound within a second.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use domain::auth::ports::{InvalidationError, SessionInvalidation, SessionSink};
use domain::events::FanoutSubscription;
use domain::ids::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::fanout::RedisFanout;

/// The channel announcements travel on unless another one is chosen.
pub const SESSIONS_CHANNEL: &str = "stockroom:sessions";

/// How often each subscriber publishes a heartbeat.
pub const BEAT_EVERY: Duration = Duration::from_millis(200);
/// How recent the last message heard must be for the subscription to count as heard.
pub const HEARD_WITHIN: Duration = Duration::from_millis(600);

/// One announcement: forget this user of this tenant.
#[derive(Debug, Serialize, Deserialize)]
struct Changed {
    tenant: String,
    user: String,
}

/// What travels on the channel.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Message {
    Changed(Changed),
    /// A subscriber's proof that the channel delivers; carries nothing to act on.
    Beat {
        beat: bool,
    },
}

/// Announces and hears changed sessions on one Redis pub/sub channel. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RedisSessionInvalidation {
    channel: RedisFanout,
}

impl RedisSessionInvalidation {
    /// Announcements on [`SESSIONS_CHANNEL`] of the Redis at `url`. Connects lazily.
    pub fn connect(url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            channel: RedisFanout::connect(url)?.with_channel(SESSIONS_CHANNEL),
        })
    }

    /// The same Redis on another channel (separate deployments, or tests, sharing one Redis).
    pub fn with_channel(mut self, channel: &str) -> Self {
        self.channel = self.channel.with_channel(channel);
        self
    }

    pub fn channel(&self) -> &str {
        self.channel.channel()
    }
}

/// What a payload asks: `Some(Some(user))` to forget a user, `Some(None)` for a heartbeat,
/// `None` for garbage.
fn decode(payload: &[u8]) -> Option<Option<(TenantId, UserId)>> {
    match serde_json::from_slice(payload).ok()? {
        Message::Changed(changed) => Some(Some((
            changed.tenant.parse().ok()?,
            changed.user.parse().ok()?,
        ))),
        Message::Beat { .. } => Some(None),
    }
}

/// Stops the heartbeat task when the subscription holding it is dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[async_trait]
impl SessionInvalidation for RedisSessionInvalidation {
    async fn publish(&self, tenant: &TenantId, user: &UserId) -> Result<(), InvalidationError> {
        let changed = Changed {
            tenant: tenant.to_string(),
            user: user.to_string(),
        };
        self.channel
            .publish_json(&changed)
            .await
            .map_err(|error| InvalidationError::Unavailable(format!("{error:#}")))
    }

    fn subscribe(&self, sink: Arc<dyn SessionSink>) -> FanoutSubscription {
        let name = self.channel().to_owned();
        let last_heard: Arc<Mutex<Option<Instant>>> = Arc::default();
        let heard_at = last_heard.clone();
        let messages = self.channel.subscribe(move |payload| {
            match decode(&payload) {
                Some(message) => {
                    *heard_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
                    if let Some((tenant, user)) = message {
                        sink.forget(&tenant, &user);
                    }
                }
                None => tracing::warn!(
                    channel = name,
                    payload = %String::from_utf8_lossy(&payload),
                    "ignored a malformed session announcement"
                ),
            }
            std::future::ready(())
        });
        let (state, heard) = watch::channel(false);
        let publisher = self.channel.clone();
        let beats = tokio::spawn(async move {
            let mut tick = tokio::time::interval(BEAT_EVERY);
            loop {
                tick.tick().await;
                // Not awaited here, so a Redis that hangs delays no state update; each publish
                // gives up after the fan-out's command timeout.
                let beat = publisher.clone();
                tokio::spawn(async move {
                    let _ = beat.publish_json(&Message::Beat { beat: true }).await;
                });
                let recent = last_heard
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_some_and(|at| at.elapsed() < HEARD_WITHIN);
                state.send_if_modified(|was| {
                    let now = recent && messages.is_subscribed();
                    std::mem::replace(was, now) != now
                });
            }
        });
        FanoutSubscription::new(heard, AbortOnDrop(beats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announcement_reads_back_as_the_user_it_names_and_garbage_as_nothing() {
        let (tenant, user) = (TenantId::new(), UserId::new());
        let payload = serde_json::to_vec(&Changed {
            tenant: tenant.to_string(),
            user: user.to_string(),
        })
        .unwrap();
        assert_eq!(decode(&payload), Some(Some((tenant, user))));
        let beat = serde_json::to_vec(&Message::Beat { beat: true }).unwrap();
        assert_eq!(decode(&beat), Some(None));
        assert_eq!(decode(b"{\"tenant\":\"x\",\"user\":\"y\"}"), None);
        assert_eq!(decode(b"not json"), None);
    }
}
