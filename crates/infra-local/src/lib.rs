//! Stockroom's in-process adapters: ports served inside the API process itself, with no server
//! behind them.
//!
//! [`InProcessLock`] is the [`domain::lock::LockManager`] of a single-instance deployment,
//! whatever the store: the embedded SQLite one, or MongoDB without Redis. It lives in an adapter
//! of its own so that neither storage adapter depends on the other, and `api` wires it whenever
//! no distributed lock is configured:
//!
//! ```
//! use std::sync::Arc;
//! use domain::lock::LockManager;
//! let lock: Arc<dyn LockManager> = Arc::new(infra_local::InProcessLock::new());
//! # let _ = lock;
//! ```
//!
//! [`InMemoryRateLimiter`] counts the log-in and sign-up budgets of one instance (without Redis),
//! and stands in for the Redis counters while Redis does not answer.
//!
//! The lock orders the writers of one process only; correctness never rests on it (the store's
//! conditional write is the guard), which is why a second instance needs the Redis lock instead.

mod lock;
mod rate_limit;

pub use lock::InProcessLock;
pub use rate_limit::InMemoryRateLimiter;
