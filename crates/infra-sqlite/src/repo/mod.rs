//! One module per repository port, each implemented on [`crate::SqliteStore`]. Modules that
//! write documents through the ledger (orders, purchase orders) also expose the row writers the
//! ledger calls inside its transaction.

mod idempotency;
mod ledger;
mod orders;
mod products;
mod purchase_orders;
mod reports;
mod suppliers;
mod tenants;
mod users;
mod variants;
