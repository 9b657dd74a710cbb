//! Abuse and operations: what a stranger can learn or exhaust. The real app on port 0, a fresh
//! SQLite file per test, driven over HTTP and raw TCP.

#[path = "../common/conformance.rs"]
mod conformance;
mod helpers;
#[path = "../common/http_client.rs"]
mod http_client;
mod limits;
mod ready;
#[path = "../common/recording_proxy.rs"]
mod recording_proxy;
mod slow;
