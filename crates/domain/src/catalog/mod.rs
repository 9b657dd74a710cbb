//! Products and their variants (the sellable SKUs).

pub mod models;
pub mod ports;
pub mod service;
