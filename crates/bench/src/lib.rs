//! Stockroom's load harness, behind the `stockroom-bench` binary.
//!
//! It measures the real thing: the release `stockroom` binary runs as a child process on a fresh
//! store, and simulated clients drive it over keep-alive HTTP. Beside it, the same conditional
//! stock write is driven straight at the store (the ceiling of the order path) and an empty actix
//! route is served by a separate process (the ceiling of any HTTP route), so every figure comes
//! with the limit it should be compared against. Runs are appended to docs/benchmarks.md.
//!
//! - [`scenarios::load_run`]: hot-sku, spread, raw-store, read and hello;
//! - [`scenarios::reports`]: report latency for one tenant in a small and a large store;
//! - [`scenarios::outage`]: a hot-SKU storm with Redis cut away and restored in the middle.

pub mod api;
pub mod child;
pub mod cli;
pub mod client;
pub mod cut;
pub mod hello;
pub mod load;
pub mod machine;
pub mod report;
pub mod scenarios;
pub mod seed;
