//! The acting users this instance resolved a moment ago, so that a request does not cost a store
//! round trip just to learn its caller's role.
//!
//! Every authenticated request needs the caller's current role and active flag, and they change
//! a few times a year per user while requests come in by the thousand per second. So
//! [`super::service::AuthService::authenticate`] keeps what it read, per (tenant, user), and a
//! role change or a deactivation must still reach every instance within [`SHORT_BOUND`] (1 s):
//!
//! - A change made through this instance forgets the user here at once and is announced on the
//!   [`SessionInvalidation`] channel; every instance hearing it forgets the user too.
//! - An entry is trusted for [`LONG_BOUND`] while this instance hears that channel, and for
//!   [`SHORT_BOUND`] while it does not (no channel configured, or the subscription lost): then
//!   only age bounds staleness. Each time hearing starts or stops, everything is forgotten,
//!   because an announcement may have been missed in between. The port's adapter must therefore
//!   report a lost channel promptly (the Redis one proves delivery with heartbeats).
//! - A read from the store that was under way while something was forgotten is not kept: it
//!   may hold what was true before the change (see `SessionCache::fill_ticket`).
//!
//! Only active users are kept, with the token version they had; a token carrying another
//! version is checked against the store again. A refusal is read again each time, so a
//! reactivation needs no announcement to take effect. The map is capped at [`CAPACITY`] entries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::models::Actor;
use super::ports::{InvalidationError, SessionInvalidation, SessionSink};
use crate::events::FanoutSubscription;
use crate::ids::{TenantId, UserId};

/// How long an entry is trusted while no invalidation is heard: the promise made to operators
/// (a role change or deactivation applies on every instance within it).
pub const SHORT_BOUND: Duration = Duration::from_secs(1);
/// How long an entry is trusted while invalidations are heard: a safety net for an announcement
/// lost on a connection that died silently.
pub const LONG_BOUND: Duration = Duration::from_secs(60);
/// Most entries kept at once (an entry is a few dozen bytes).
pub const CAPACITY: usize = 100_000;

type Key = (TenantId, UserId);

/// When a user was read, as whom they act, and their token version then.
type Entry = (Instant, Actor, u32);

/// Acting users by (tenant, user), with the instant each was read.
pub(crate) struct SessionCache {
    entries: Mutex<HashMap<Key, Entry>>,
    /// Bumped by every forgetting; a store read started before a bump is not kept.
    generation: AtomicU64,
    /// Whether the channel was heard at the last look, to notice it starting or stopping.
    heard: AtomicBool,
    /// The running subscription to the channel, when there is one.
    subscription: Mutex<Option<FanoutSubscription>>,
    capacity: usize,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("entries", &self.entries().len())
            .field("heard", &self.heard.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

/// Taken before reading the store; [`SessionCache::keep`] keeps the read only if nothing was
/// forgotten since.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FillTicket(u64);

impl SessionCache {
    pub(crate) fn new() -> Self {
        Self::with_capacity(CAPACITY)
    }

    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::default(),
            generation: AtomicU64::new(0),
            heard: AtomicBool::new(false),
            subscription: Mutex::new(None),
            capacity: capacity.max(1),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<Key, Entry>> {
        // Each statement leaves the map whole, so a panic elsewhere cannot leave it torn.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts hearing `channel`: every user announced there is forgotten here, then handed to
    /// `then`.
    pub(crate) fn listen(
        self: &Arc<Self>,
        channel: &dyn SessionInvalidation,
        then: Arc<dyn SessionSink>,
    ) {
        let sink: Arc<dyn SessionSink> = Arc::new(Forgetter(Arc::downgrade(self), then));
        let subscription = channel.subscribe(sink);
        *self
            .subscription
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(subscription);
        self.bound();
    }

    /// Whether invalidations are heard now.
    pub(crate) fn is_hearing(&self) -> bool {
        self.subscription
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .is_some_and(FanoutSubscription::is_subscribed)
    }

    /// How long an entry is trusted now; forgets everything when hearing started or stopped
    /// since the last look.
    pub(crate) fn bound(&self) -> Duration {
        let hearing = self.is_hearing();
        if self.heard.swap(hearing, Ordering::SeqCst) != hearing {
            self.forget_all();
        }
        if hearing {
            LONG_BOUND
        } else {
            SHORT_BOUND
        }
    }

    /// The kept actor of `key` and its token version, if it was read less than the current
    /// bound before `now`.
    pub(crate) fn get(
        &self,
        tenant: &TenantId,
        user: &UserId,
        now: Instant,
    ) -> Option<(Actor, u32)> {
        let bound = self.bound();
        let entries = self.entries();
        let (read_at, actor, version) = entries.get(&(*tenant, *user))?;
        let age = now.checked_duration_since(*read_at)?;
        (age < bound).then(|| (actor.clone(), *version))
    }

    /// Taken before a store read whose result may be kept.
    pub(crate) fn fill_ticket(&self) -> FillTicket {
        FillTicket(self.generation.load(Ordering::SeqCst))
    }

    /// Keeps `actor` with its token `version`, read at `read_at`, unless something was forgotten
    /// since `ticket`.
    pub(crate) fn keep(&self, ticket: FillTicket, actor: Actor, version: u32, read_at: Instant) {
        let mut entries = self.entries();
        // Checked under the lock that forgetting also takes, so no forgetting slips between.
        if self.generation.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
        if entries.len() >= self.capacity {
            let bound = self.bound_without_transition();
            entries.retain(|_, (at, _, _)| {
                read_at
                    .checked_duration_since(*at)
                    .is_some_and(|age| age < bound)
            });
            // Still nearly full of live entries: start over rather than sweep on every insert.
            if entries.len() >= self.capacity - self.capacity / 10 {
                entries.clear();
            }
        }
        entries.insert((actor.tenant_id, actor.user_id), (read_at, actor, version));
    }

    fn bound_without_transition(&self) -> Duration {
        if self.heard.load(Ordering::SeqCst) {
            LONG_BOUND
        } else {
            SHORT_BOUND
        }
    }

    /// Forgets one user (changed here, or announced by another instance).
    pub(crate) fn forget(&self, tenant: &TenantId, user: &UserId) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.remove(&(*tenant, *user));
    }

    pub(crate) fn forget_all(&self) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries().len()
    }
}

/// What the channel hands announcements to; holds the cache weakly so that a dropped service
/// does not live on in its subscription. Forgets first, so that whoever hears next reads the
/// store afresh.
struct Forgetter(std::sync::Weak<SessionCache>, Arc<dyn SessionSink>);

impl SessionSink for Forgetter {
    fn forget(&self, tenant: &TenantId, user: &UserId) {
        if let Some(cache) = self.0.upgrade() {
            cache.forget(tenant, user);
            self.1.forget(tenant, user);
        }
    }
}

/// A sink that does nothing.
#[cfg(test)]
pub(crate) struct Nobody;

#[cfg(test)]
impl SessionSink for Nobody {
    fn forget(&self, _: &TenantId, _: &UserId) {}
}

/// The channel of a single instance, or of instances that share no channel: announces nothing
/// and is never heard, so entries are trusted for [`SHORT_BOUND`] only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSessionInvalidation;

#[async_trait]
impl SessionInvalidation for NoSessionInvalidation {
    async fn publish(&self, _: &TenantId, _: &UserId) -> Result<(), InvalidationError> {
        Ok(())
    }

    fn subscribe(&self, _: Arc<dyn SessionSink>) -> FanoutSubscription {
        let (_, never) = tokio::sync::watch::channel(false);
        FanoutSubscription::new(never, ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::models::Role;

    fn actor(role: Role) -> Actor {
        Actor {
            tenant_id: TenantId::new(),
            user_id: UserId::new(),
            role,
        }
    }

    /// A channel whose heard state the test sets, and which records the sink it was given.
    struct Channel {
        state: tokio::sync::watch::Sender<bool>,
        sink: Mutex<Option<Arc<dyn SessionSink>>>,
    }

    impl Channel {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                state: tokio::sync::watch::channel(false).0,
                sink: Mutex::new(None),
            })
        }
    }

    #[async_trait]
    impl SessionInvalidation for Channel {
        async fn publish(&self, _: &TenantId, _: &UserId) -> Result<(), InvalidationError> {
            Ok(())
        }

        fn subscribe(&self, sink: Arc<dyn SessionSink>) -> FanoutSubscription {
            *self.sink.lock().unwrap() = Some(sink);
            FanoutSubscription::new(self.state.subscribe(), ())
        }
    }

    fn kept(cache: &SessionCache, who: &Actor, at: Instant) {
        cache.keep(cache.fill_ticket(), who.clone(), 0, at);
    }

    fn get(cache: &SessionCache, who: &Actor, at: Instant) -> Option<Actor> {
        cache.get(&who.tenant_id, &who.user_id, at).map(|(a, _)| a)
    }

    #[test]
    fn an_entry_is_trusted_for_one_second_without_a_channel() {
        let cache = Arc::new(SessionCache::new());
        cache.listen(&NoSessionInvalidation, Arc::new(Nobody));
        let who = actor(Role::Manager);
        let t0 = Instant::now();
        kept(&cache, &who, t0);
        let at = |ms| t0 + Duration::from_millis(ms);
        assert_eq!(get(&cache, &who, at(999)), Some(who.clone()));
        assert_eq!(get(&cache, &who, at(1000)), None);
    }

    #[test]
    fn an_entry_is_trusted_longer_while_the_channel_is_heard_and_an_announcement_forgets_it() {
        let channel = Channel::new();
        let cache = Arc::new(SessionCache::new());
        cache.listen(channel.as_ref(), Arc::new(Nobody));
        channel.state.send_replace(true);
        assert_eq!(cache.bound(), LONG_BOUND);
        let (who, other) = (actor(Role::Manager), actor(Role::Staff));
        let t0 = Instant::now();
        kept(&cache, &who, t0);
        kept(&cache, &other, t0);
        let later = t0 + Duration::from_secs(30);
        assert_eq!(get(&cache, &who, later), Some(who.clone()));

        let sink = channel.sink.lock().unwrap().clone().unwrap();
        sink.forget(&who.tenant_id, &who.user_id);
        assert_eq!(get(&cache, &who, later), None);
        assert_eq!(get(&cache, &other, later), Some(other));
        assert_eq!(get(&cache, &who, t0 + LONG_BOUND), None);
    }

    #[test]
    fn losing_the_channel_forgets_everything_and_falls_back_to_one_second() {
        let channel = Channel::new();
        let cache = Arc::new(SessionCache::new());
        cache.listen(channel.as_ref(), Arc::new(Nobody));
        channel.state.send_replace(true);
        assert_eq!(cache.bound(), LONG_BOUND);
        let who = actor(Role::Owner);
        let t0 = Instant::now();
        kept(&cache, &who, t0);
        assert!(get(&cache, &who, t0 + SHORT_BOUND).is_some());

        channel.state.send_replace(false);
        assert_eq!(get(&cache, &who, t0), None, "forgotten");
        assert_eq!(cache.bound(), SHORT_BOUND);
        kept(&cache, &who, t0);
        let at = |ms| t0 + Duration::from_millis(ms);
        assert!(get(&cache, &who, at(500)).is_some());
        assert!(get(&cache, &who, at(1000)).is_none());

        // Hearing again: what was kept meanwhile may have missed an announcement.
        kept(&cache, &who, at(1000));
        channel.state.send_replace(true);
        assert_eq!(get(&cache, &who, at(1000)), None);
        assert_eq!(cache.bound(), LONG_BOUND);
    }

    #[test]
    fn a_read_under_way_while_the_user_was_forgotten_is_not_kept() {
        let cache = SessionCache::new();
        let who = actor(Role::Manager);
        let ticket = cache.fill_ticket();
        // The change lands between the store read and keeping it.
        cache.forget(&who.tenant_id, &who.user_id);
        let t0 = Instant::now();
        cache.keep(ticket, who.clone(), 0, t0);
        assert_eq!(get(&cache, &who, t0), None);
        kept(&cache, &who, t0);
        assert_eq!(get(&cache, &who, t0), Some(who));
    }

    #[test]
    fn a_full_cache_drops_old_entries_and_never_grows_past_its_cap() {
        let cache = SessionCache::with_capacity(10);
        let t0 = Instant::now();
        for _ in 0..5 {
            kept(&cache, &actor(Role::Staff), t0);
        }
        let t1 = t0 + Duration::from_secs(2);
        for _ in 0..5 {
            kept(&cache, &actor(Role::Staff), t1);
        }
        assert_eq!(cache.len(), 10);
        // Full: the five expired ones go, the five live ones stay.
        let newest = actor(Role::Staff);
        kept(&cache, &newest, t1);
        assert_eq!(cache.len(), 6);
        for _ in 0..100 {
            kept(&cache, &actor(Role::Staff), t1);
            assert!(cache.len() <= 10);
        }
    }
}
