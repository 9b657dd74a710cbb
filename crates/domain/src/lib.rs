//! Stockroom's domain: the rules of a multi-tenant inventory, with no knowledge of HTTP or storage.
//!
//! Everything that talks to the outside world is a *port* (a trait declared here) that an adapter
//! crate implements: repositories, the lock, the event publisher, the clock and the password hasher.
//! Services take validated values only (see [`values`]), so a use case never sees a raw string it
//! would have to re-check, and every repository call carries the caller's [`ids::TenantId`].
//!
//! The central invariant — the stock of every level (one variant at one location) equals the sum of
//! its movements and never goes below zero, and a variant's stock is the sum of its levels — is
//! enforced by the store's atomic conditional write ([`stock::ports::LedgerRepository`]);
//! the lock port only orders writers and reduces contention.

pub mod auth;
pub mod catalog;
pub mod clock;
pub mod error;
pub mod events;
pub mod idempotency;
#[cfg(test)]
mod idempotency_tests;
pub mod ids;
pub mod locations;
pub mod lock;
pub mod orders;
pub mod pagination;
pub mod precondition;
pub mod purchasing;
pub mod rate_limit;
pub mod reports;
pub mod reservations;
pub mod services;
pub mod stock;
#[cfg(test)]
mod testing;
pub mod transfers;
pub mod values;

pub use error::{DomainError, FieldError, StoreError};
pub use services::{AllRepositories, Deps, Repositories, Services, Settings};
