//! Focused tests of the MongoDB adapter against a real server: the ledger's conditional writes,
//! tenant scoping, unique indexes, levels inside the variant document, the start-up migration to
//! locations and the start-up refusal of a standalone server.

#[path = "../common/mod.rs"]
mod common;

mod catalog;
mod ledger;
mod locations;
mod migration;
mod startup;
mod support;
