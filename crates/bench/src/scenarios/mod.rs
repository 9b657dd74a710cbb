//! The scenarios, and the two runs that combine them: the load run (hot-sku, spread, raw-store,
//! read, hello) and the reports run.

pub mod http;
pub mod load_run;
pub mod raw_store;
pub mod reports;
