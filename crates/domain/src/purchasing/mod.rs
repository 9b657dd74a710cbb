//! Suppliers and purchase orders: how stock comes in.

pub mod aggregate;
pub mod models;
pub mod ports;
pub mod reorder;
pub mod service;
#[cfg(test)]
mod service_tests;
