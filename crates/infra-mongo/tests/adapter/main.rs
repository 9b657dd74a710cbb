//! Focused tests of the MongoDB adapter against a real server: the ledger's conditional writes,
//! tenant scoping, unique indexes, levels (on hand and committed) inside the variant document,
//! the start-up migration to locations and the start-up refusal of a standalone server.

#[path = "../common/mod.rs"]
mod common;

mod catalog;
mod committed;
mod ledger;
mod locations;
mod migration;
mod startup;
mod support;
