//! Suppliers and purchase orders: how stock comes in.

pub mod models;
pub mod ports;
pub mod service;
