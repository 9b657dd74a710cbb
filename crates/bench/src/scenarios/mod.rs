//! The scenarios, and the two runs that combine them: the load run (hot-sku, checkout, spread,
//! read, read-one, raw-store, raw-op, raw-find, hello), the reports run and the outage run.

pub mod http;
pub mod load_run;
pub mod outage;
pub mod raw_mongo;
pub mod raw_store;
pub mod reports;
