//! Dashboard analytics served from the ledger: movement time series, the low-stock and reorder
//! report, top movers, valuation and stock at a past moment.
//!
//! Aggregation runs in the store (the port's methods are GROUP BYs / aggregation pipelines); the
//! domain decides what the buckets are — including time-zone and DST boundaries — and does the
//! arithmetic on the small aggregated rows, so every adapter gives the same answer.

pub mod buckets;
pub mod models;
pub mod ports;
pub mod service;
