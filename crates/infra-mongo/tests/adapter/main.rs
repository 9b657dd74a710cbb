//! Focused tests of the MongoDB adapter against a real server: the ledger's conditional writes,
//! tenant scoping, unique indexes and the start-up refusal of a standalone server.

#[path = "../common/mod.rs"]
mod common;

mod catalog;
mod ledger;
mod startup;
mod support;
