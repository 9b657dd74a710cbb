//! The stock ledger: movements, adjustments, the reserve-stock invariant and the audit.

pub mod allocate;
pub mod apply;
pub mod combine;
#[cfg(test)]
mod combine_tests;
pub mod models;
pub mod placing;
pub mod ports;
pub(crate) mod receipt;
pub mod reserve;
pub mod service;
#[cfg(test)]
mod service_tests;
pub mod state;
pub mod writer;
