//! The store-sensitive API tests again, against the MongoDB adapter (SecantusDB in the test
//! script): the last-item races, opposite-order two-line orders, mixed races, idempotency, the
//! walk-through, order and purchase flows, and a restart of the binary on the same database.

/// The store these tests run against.
pub const BACKEND: helpers::Backend = helpers::Backend::Mongo;

#[path = "../api/concurrency.rs"]
mod concurrency;
#[path = "../api/helpers.rs"]
mod helpers;
#[path = "../common/http_client.rs"]
mod http_client;
#[path = "../api/idempotency.rs"]
mod idempotency;
#[path = "../api/orders.rs"]
mod orders;
#[path = "../api/purchasing.rs"]
mod purchasing;
mod refusal;
#[path = "../api/reports.rs"]
mod reports;
#[path = "../api/restart.rs"]
mod restart;
#[path = "../api/roles.rs"]
mod roles;
#[path = "../api/tenancy.rs"]
mod tenancy;
#[path = "../api/walkthrough.rs"]
mod walkthrough;
