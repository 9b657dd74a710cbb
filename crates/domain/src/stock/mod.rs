//! The stock ledger: movements, adjustments, the reserve-stock invariant and the audit.

pub mod combine;
pub mod models;
pub mod ports;
pub mod reserve;
pub mod service;
