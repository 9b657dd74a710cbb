//! Transfers: units moving from one location to another.
//!
//! ```text
//! DRAFT ──ship──▶ SHIPPED ──receive (some)──▶ PARTIALLY_RECEIVED ──receive (rest)──▶ RECEIVED
//!   └──cancel──▶ CANCELLED      └──────────────receive (all)──────────────────────▶ RECEIVED
//! ```
//!
//! Shipping writes a TRANSFER_OUT at the source for every line — all lines or none, refused with
//! every short line listed, exactly like an order. From then until they are received the units
//! are *in transit*: counted at neither location and not in the variant's `stock`, but shown as
//! its `inTransit`. Each receipt writes TRANSFER_IN movements at the destination; a line can never
//! receive more than was shipped on it.

pub mod aggregate;
pub mod models;
pub mod ports;
pub mod service;
#[cfg(test)]
mod service_tests;
