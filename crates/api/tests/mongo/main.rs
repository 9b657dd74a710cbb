//! The store-sensitive API tests again, against the MongoDB adapter (SecantusDB in the test
//! script): the last-item races, opposite-order two-line orders, mixed races, idempotency, the
//! walk-through, order and purchase flows, a restart of the binary on the same database, and
//! everything about locations: levels, transfers, allocation across locations, and their races;
//! checkout holds, their expiry and their races, and the unavailable states.

/// The store these tests run against.
pub const BACKEND: helpers::Backend = helpers::Backend::Mongo;

#[path = "../api/concurrency.rs"]
mod concurrency;
#[path = "../common/conformance.rs"]
mod conformance;
#[path = "../api/etags.rs"]
mod etags;
#[path = "../api/helpers.rs"]
mod helpers;
#[path = "../api/holds_races.rs"]
mod holds_races;
#[path = "../common/http_client.rs"]
mod http_client;
#[path = "../api/idempotency.rs"]
mod idempotency;
#[path = "../api/location_orders.rs"]
mod location_orders;
#[path = "../api/location_races.rs"]
mod location_races;
#[path = "../api/location_stock.rs"]
mod location_stock;
#[path = "../api/location_tenancy.rs"]
mod location_tenancy;
#[path = "../api/locations.rs"]
mod locations;
#[path = "../api/orders.rs"]
mod orders;
#[path = "../api/purchasing.rs"]
mod purchasing;
#[path = "../common/recording_proxy.rs"]
mod recording_proxy;
mod refusal;
#[path = "../api/reports.rs"]
mod reports;
#[path = "../api/reservations.rs"]
mod reservations;
#[path = "../api/restart.rs"]
mod restart;
#[path = "../api/roles.rs"]
mod roles;
#[path = "../api/states.rs"]
mod states;
#[path = "../api/tenancy.rs"]
mod tenancy;
#[path = "../api/transfers.rs"]
mod transfers;
#[path = "../api/user_etags.rs"]
mod user_etags;
#[path = "../api/walkthrough.rs"]
mod walkthrough;
