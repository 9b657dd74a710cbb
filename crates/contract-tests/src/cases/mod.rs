//! The storage contract, one `pub async fn` per case. Each takes a fresh, empty [`crate::Stores`]
//! and panics on the first broken promise. Cases name only what the port documentation promises,
//! so any adapter that keeps the promises passes, whatever it is built on.

mod audit;
mod catalog;
mod committed;
mod concurrency;
mod concurrency_levels;
mod holds;
mod idempotency;
mod ledger;
mod levels;
mod locations;
mod migration;
mod orders;
mod purchasing;
mod references;
mod scoping;
mod scoping_locations;
mod states;
mod tenants;
mod transfers;
mod user_versions;
mod users;
mod versions;

pub use audit::*;
pub use catalog::*;
pub use committed::*;
pub use concurrency::*;
pub use concurrency_levels::*;
pub use holds::*;
pub use idempotency::*;
pub use ledger::*;
pub use levels::*;
pub use locations::*;
pub use migration::*;
pub use orders::*;
pub use purchasing::*;
pub use references::*;
pub use scoping::*;
pub use scoping_locations::*;
pub use states::*;
pub use tenants::*;
pub use transfers::*;
pub use user_versions::*;
pub use users::*;
pub use versions::*;
