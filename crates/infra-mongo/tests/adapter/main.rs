//! Focused tests of the MongoDB adapter against a real server: the ledger's conditional writes,
//! tenant scoping, unique indexes, levels (on hand, committed and the unavailable states, with
//! the reservations' holds) inside the variant document, the reservations repository,
//! the start-up migration to locations and the start-up refusal of a standalone server.

#[path = "../common/mod.rs"]
mod common;

mod catalog;
mod committed;
mod holds;
mod ledger;
mod locations;
mod migration;
mod reservations;
mod shard_ready;
mod startup;
mod states;
mod support;
