//! Stockroom's embedded storage adapter: every repository port of the domain on SQLite.
//!
//! SQLite suits a single-server deployment: one file, no service to run, and transactions strong
//! enough for the stock invariant. The store opens with [`SqliteStore::open`], migrates its schema,
//! and serves every repository port at once:
//!
//! ```no_run
//! # async fn wire() -> anyhow::Result<()> {
//! let store = infra_sqlite::SqliteStore::open("sqlite://data/stockroom.db").await?;
//! let repositories = domain::Repositories::of(store);
//! # let _ = repositories; Ok(()) }
//! ```
//!
//! It stores and decides nothing: the ledger's refusals and movements come from
//! `domain::stock::apply`, the transitions from the aggregates.
//!
//! The lock port is not served here: `api` wires an adapter of its own for it (the in-process
//! lock of `infra-local`, or the Redis one). Correctness does not depend on the lock: the ledger's
//! conditional update refuses to take stock below zero on its own (see `repo/ledger.rs`), which is
//! what the contract suite's concurrency case proves.
//!
//! Stock is kept per level — one variant at one location, a row of `stock_levels` holding on
//! hand, committed and each unavailable state — and a variant's totals are Σ of its levels,
//! derived on every read. Reserved units are not a kept number: they are the level's rows in
//! `holds` that are live (not yet expired) at the instant of the read or the write, so a hold
//! stops counting the moment it expires with nothing written. Databases written by older builds
//! are migrated when opened (`migrations/`; `0002_locations.sql` moves pre-location data).
//! Behind the `test-support` feature, `test_support` gives tests what the ports do not: a way to
//! change a level behind the ledger and to write a pre-location database.

mod connection;
mod error;
mod group;
#[cfg(test)]
mod holds_tests;
mod migrate;
#[cfg(test)]
mod migrate_tests;
#[cfg(test)]
mod purge_tests;
mod repo;
mod row;
mod store;
#[cfg(test)]
mod store_tests;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

pub use store::SqliteStore;
#[cfg(any(test, feature = "test-support"))]
pub use test_support::{
    LegacyMovement, LegacyOwner, LegacyProduct, LegacyRows, LegacyTenant, LegacyVariant,
};
