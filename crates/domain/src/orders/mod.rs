//! Customer orders: placed against stock, fulfilled, cancelled or returned.

pub mod aggregate;
pub mod models;
pub mod ports;
pub mod service;
#[cfg(test)]
mod service_tests;
