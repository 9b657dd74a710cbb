//! API tests: the real app on port 0, a fresh SQLite file per test, driven over HTTP.
//! (`tests/mongo` runs the store-sensitive ones again on MongoDB.)

/// The store these tests run against.
pub const BACKEND: helpers::Backend = helpers::Backend::Sqlite;

mod concurrency;
#[path = "../common/conformance.rs"]
mod conformance;
mod errors;
mod etags;
mod helpers;
mod holds_races;
#[path = "../common/http_client.rs"]
mod http_client;
mod idempotency;
mod idempotency_users;
mod location_orders;
mod location_races;
mod location_stock;
mod location_tenancy;
mod locations;
mod money_limits;
mod openapi;
mod orders;
mod purchasing;
#[path = "../common/recording_proxy.rs"]
mod recording_proxy;
mod reports;
mod request_bounds;
mod reservations;
mod restart;
mod revocation;
mod roles;
mod states;
mod tenancy;
mod tokens;
mod transfers;
mod user_etags;
mod walkthrough;
