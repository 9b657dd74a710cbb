//! Stockroom's MongoDB storage adapter: one [`MongoStore`] implements every repository port of the
//! domain.
//!
//! Why it is built this way:
//! - Stock is kept per level (variant × location) inside the variant document, one map per
//!   kept state beside its total: `levels: {"<location id>": on hand}` and `stock`, `committed:
//!   {"<location id>": units}` and `committedTotal`, and likewise `damaged`, `qualityControl` and
//!   `safetyStock`. The reservations' holds are embedded in the same document as an array
//!   `holds: [{r, l, q, e}]` (reservation, location, units, expiry); a level's reserved units are
//!   the units of its holds live at the instant of the read or write, never a stored number, so
//!   a hold stops counting the moment it expires without any write. A stock change is one
//!   conditional `findOneAndUpdate` of a level's states, the totals and the change's hold
//!   together, its filter asking what the change needs of the level (each state, and available
//!   — on hand less every claim, live holds summed in an `$expr` — at least what it takes; the
//!   hold live, when it takes or extends one), so the store itself refuses to oversell a level,
//!   and the hot path still writes one document per change; the domain's lock only reduces
//!   contention.
//! - Everything a use case writes together (stock, movements, the order, purchase order,
//!   transfer or reservation, the idempotency record)
//!   goes through one multi-document transaction, so MongoDB must run as a replica set — even of
//!   one node. [`MongoStore::connect`] refuses a standalone server instead of silently losing
//!   atomicity.
//! - Every document carries `tenantId` and every filter includes it, so another tenant's id finds
//!   nothing.
//! - `_id` is the record's UUIDv7 as text: sorting by `_id` sorts by creation time, which is what
//!   cursor pagination relies on.
//! - Driver errors are translated into the domain's [`domain::StoreError`] here, once; no driver
//!   type leaves this crate.
//! - Data written before locations is migrated when a store connects
//!   ([`MongoStore::migrate_locations`]).

mod documents;
mod errors;
mod indexes;
#[cfg(feature = "test-support")]
mod legacy;
mod liveness;
mod migrate;
mod paging;
mod repos;
mod store;
mod transaction;

#[cfg(feature = "test-support")]
pub use legacy::{
    LegacyMovement, LegacyOrder, LegacyOrderLine, LegacyPurchaseLine, LegacyPurchaseOrder,
    LegacyRows, LegacyVariant,
};
pub use migrate::default_location_id;
pub use store::{MongoStore, DEFAULT_DATABASE};
