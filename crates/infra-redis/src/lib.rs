//! Redis adapters for Stockroom.
//!
//! Three things need Redis once the API runs as more than one instance:
//! - [`RedisLock`], the distributed [`domain::lock::LockManager`]: it orders writers of the same
//!   variants (and requests with the same `Idempotency-Key`) across instances. It is a contention
//!   reducer, never the guard of correctness — the store's conditional write is — so it favours
//!   failing fast (`Unavailable`) over waiting on a sick Redis.
//! - [`RedisFanout`], the cross-instance [`domain::events::EventFanout`]: every instance publishes
//!   the events it caused and hears every other instance's, so a client connected anywhere sees
//!   them all. It carries opaque bytes so it knows nothing of Socket.IO or of the wire format.
//! - [`RedisSessionInvalidation`], the [`domain::auth::ports::SessionInvalidation`] channel: an
//!   instance that changes a user's role or active flag announces it, and every instance forgets
//!   the session it kept of that user. It runs on the fan-out's connections, on its own channel.
//!
//! - [`RedisRateLimiter`], the shared [`domain::rate_limit::RateLimiter`]: the log-in and sign-up
//!   budgets count the same hits on every instance.
//!
//! All build their connections lazily and re-create them after Redis comes back, so a restart of
//! Redis never needs a restart of the API, and the lock and the fan-out answer the ports'
//! readiness `ping` with a Redis PING. They implement domain ports only: nothing else in Stockroom depends on this crate
//! but `api`, which wires it.

mod backoff;
mod fanout;
mod held;
mod lock;
mod pool;
mod rate_limit;
mod sessions;

pub use fanout::{RedisFanout, Subscription, EVENTS_CHANNEL};
pub use lock::{RedisLock, RedisLockConfig, KEY_PREFIX, RELEASE_SCRIPT};
pub use rate_limit::{RedisRateLimiter, HIT_SCRIPT, RATE_KEY_PREFIX};
pub use sessions::{RedisSessionInvalidation, SESSIONS_CHANNEL};
