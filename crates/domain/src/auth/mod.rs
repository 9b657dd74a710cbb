//! Tenants, users, roles and who may do what.

pub mod cache;
pub mod models;
pub mod ports;
pub mod service;
#[cfg(test)]
mod service_tests;
#[cfg(test)]
mod session_tests;
