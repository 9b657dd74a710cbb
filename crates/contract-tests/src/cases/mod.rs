//! The storage contract, one `pub async fn` per case. Each takes a fresh, empty [`crate::Stores`]
//! and panics on the first broken promise. Cases name only what the port documentation promises,
//! so any adapter that keeps the promises passes, whatever it is built on.

mod catalog;
mod concurrency;
mod idempotency;
mod ledger;
mod orders;
mod purchasing;
mod scoping;
mod tenants;
mod users;

pub use catalog::*;
pub use concurrency::*;
pub use idempotency::*;
pub use ledger::*;
pub use orders::*;
pub use purchasing::*;
pub use scoping::*;
pub use tenants::*;
pub use users::*;
