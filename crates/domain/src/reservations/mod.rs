//! Checkout holds: units set aside for a customer while they pay, released if they don't.

pub mod aggregate;
pub mod models;
pub mod ports;
pub mod service;
#[cfg(test)]
mod service_tests;
pub mod sweeper;
