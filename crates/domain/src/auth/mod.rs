//! Tenants, users, roles and who may do what.

pub mod models;
pub mod ports;
pub mod service;
#[cfg(test)]
mod service_tests;
