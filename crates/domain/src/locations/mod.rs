//! Locations: the warehouses, shops and third-party sites that hold a tenant's stock.
//!
//! Stock is kept per *level* — one variant at one location — and a variant's `stock` is the sum
//! of its levels. Every tenant has exactly one default location, created with the tenant; it
//! serves every write that names no location, so clients written before locations existed keep
//! working unchanged. A location is never deleted (movements keep pointing at it); it is
//! deactivated once it holds nothing and nothing is on its way to it.

pub(crate) mod cache;
pub mod models;
pub mod ports;
pub mod service;
#[cfg(test)]
mod service_tests;
