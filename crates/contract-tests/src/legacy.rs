//! What a store held before stock was kept per location, as plain data, for the migration cases
//! (see [`crate::Migration`]).
//!
//! An older Stockroom kept one stock number per variant and movements without a location. A
//! harness writes this data in exactly that shape, with its store's raw access, then lets the
//! store migrate it; the cases then read the result through the ports. Tenants, users and
//! products did not change shape, so they are the domain's records; variants and movements are
//! spelled out field by field, as the old schema stored them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::auth::models::{Tenant, User};
use domain::catalog::models::Product;
use domain::ids::{MovementId, ProductId, UserId, VariantId};
use domain::stock::models::MovementKind;

/// One tenant of a pre-location store and everything it held.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyData {
    pub tenant: Tenant,
    /// Its first user, an owner.
    pub owner: User,
    /// Written before the variants, which belong to them.
    pub products: Vec<Product>,
    pub variants: Vec<LegacyVariant>,
}

/// A variant row or document as the old schema stored it: its stock is the one number there was.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyVariant {
    pub id: VariantId,
    pub product_id: ProductId,
    pub sku: String,
    pub attributes: BTreeMap<String, String>,
    /// Minor units.
    pub price: i64,
    pub reorder_level: i64,
    /// Always the sum of `movements`' quantities.
    pub stock: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Oldest first.
    pub movements: Vec<LegacyMovement>,
}

/// A movement as the old schema stored it, with no location and no transfer. Its reason, order,
/// purchase order and unit cost are absent (NULL, or missing from the document).
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyMovement {
    pub id: MovementId,
    pub kind: MovementKind,
    /// Signed: negative for units leaving.
    pub quantity: i64,
    /// The variant's stock after this movement.
    pub stock_after: i64,
    pub actor: UserId,
    pub created_at: DateTime<Utc>,
}
