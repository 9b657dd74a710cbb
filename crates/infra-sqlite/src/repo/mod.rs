//! One module per repository port, each implemented on [`crate::SqliteStore`]. Modules that
//! write documents through the ledger (orders, purchase orders, transfers, reservations) also
//! expose the row writers the ledger calls inside its transaction.

mod audit;
pub(crate) mod idempotency;
mod ledger;
mod locations;
mod low_stock;
mod orders;
mod products;
mod purchase_orders;
mod reports;
mod reservations;
mod suppliers;
mod tenants;
mod transfers;
mod users;
mod variants;
