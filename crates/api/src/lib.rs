//! Stockroom's inbound adapter: an Actix HTTP API over the domain's use cases.
//!
//! Handlers only parse, call one use case and map the result; every rule lives in `domain`.
//! [`startup::Application`] builds the whole process on already-bound listeners so tests can run
//! it on port 0 against a fresh database.

pub mod auth;
pub mod config;
pub mod dto;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod openapi_path_ids;
pub mod openapi_problems;
pub mod routes;
pub mod startup;
pub mod stores;
pub mod telemetry;
