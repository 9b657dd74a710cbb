//! API tests: the real app on port 0, a fresh SQLite file per test, driven over HTTP.

mod concurrency;
mod errors;
mod helpers;
mod idempotency;
mod openapi;
mod orders;
mod purchasing;
mod reports;
mod restart;
mod roles;
mod tenancy;
mod tokens;
mod walkthrough;
