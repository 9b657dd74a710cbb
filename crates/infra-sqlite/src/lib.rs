//! Stockroom's embedded storage adapter: every repository port of the domain on SQLite, and an
//! in-process implementation of the lock port.
//!
//! SQLite suits a single-server deployment: one file, no service to run, and transactions strong
//! enough for the stock invariant. The store opens with [`SqliteStore::open`], migrates its schema,
//! and is then shared as `Arc::new(store.clone())` for each port of `domain::Deps`:
//!
//! ```no_run
//! # async fn wire() -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use domain::stock::ports::LedgerRepository;
//! let store = infra_sqlite::SqliteStore::open("sqlite://data/stockroom.db").await?;
//! let ledger: Arc<dyn LedgerRepository> = Arc::new(store.clone());
//! let lock = Arc::new(infra_sqlite::InProcessLock::new());
//! # let _ = (ledger, lock); Ok(()) }
//! ```
//!
//! Correctness does not depend on the lock: the ledger's conditional update refuses to take stock
//! below zero on its own (see `repo/ledger.rs`), which is what the contract suite's concurrency
//! case proves.

mod connection;
mod error;
mod group;
mod lock;
mod migrate;
mod repo;
mod row;
mod store;

pub use lock::InProcessLock;
pub use store::SqliteStore;
