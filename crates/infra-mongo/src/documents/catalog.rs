//! Products and variants as stored.
//!
//! Variant attributes are stored as a list of `{name, value}` pairs rather than as a sub-document:
//! attribute names are chosen by users and may contain `.` or start with `$`, which MongoDB treats
//! specially in field names.
//!
//! A variant's levels, by contrast, ARE sub-documents, one per state: `levels: {"<location id>":
//! on hand}` next to the on-hand total `stock`, and `committed: {"<location id>": units}` next to
//! the committed total `committedTotal`. Location ids are UUID text (hex digits and hyphens, never
//! `.` or `$`, never all digits), so `levels.<id>` and `committed.<id>` are safe field paths, and
//! keeping every state of a level inside the variant lets one conditional `findOneAndUpdate`
//! change a level's states and the totals together — one document write per stock change, as
//! before levels existed. The stored `stock` keeps its name (and meaning: on hand) from before
//! orders committed units, so documents written then read as they are, with nothing committed;
//! what the domain calls a variant's `stock`, the units available, is derived on read.

use std::collections::BTreeMap;

use domain::catalog::models::{Product, Variant, VariantLevel};
use domain::stock::state::{Claims, StockState};
use domain::values::{Attributes, Money, Sku, StockLevel};
use domain::StoreError;
use mongodb::bson;
use serde::{Deserialize, Serialize};

use super::{bson_time, domain_time, optional_text, parse, text, valid};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProductDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: bson::DateTime,
    pub updated_at: bson::DateTime,
}

impl From<&Product> for ProductDoc {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id.to_string(),
            tenant_id: p.tenant_id.to_string(),
            name: p.name.as_str().to_owned(),
            description: p.description.as_ref().map(|d| d.as_str().to_owned()),
            created_at: bson_time(p.created_at),
            updated_at: bson_time(p.updated_at),
        }
    }
}

impl TryFrom<ProductDoc> for Product {
    type Error = StoreError;

    fn try_from(d: ProductDoc) -> Result<Self, StoreError> {
        Ok(Product {
            id: parse(&d.id, "product id")?,
            tenant_id: parse(&d.tenant_id, "product tenant id")?,
            name: text(d.name, "product name")?,
            description: optional_text(d.description, "product description")?,
            created_at: domain_time(d.created_at)?,
            updated_at: domain_time(d.updated_at)?,
        })
    }
}

/// One variant attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AttributeDoc {
    pub name: String,
    pub value: String,
}

/// Attributes as the BSON value of the `attributes` field, for updates.
pub(crate) fn attributes_bson(attributes: &Attributes) -> Result<bson::Bson, StoreError> {
    bson::to_bson(&attribute_docs(attributes))
        .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("encoding attributes")))
}

/// Attributes in their stored form, in name order.
fn attribute_docs(attributes: &Attributes) -> Vec<AttributeDoc> {
    attributes
        .as_map()
        .iter()
        .map(|(name, value)| AttributeDoc {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VariantDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub product_id: String,
    pub sku: String,
    pub attributes: Vec<AttributeDoc>,
    pub price: i64,
    pub reorder_level: i64,
    /// Units on hand over the levels; changed only by the ledger's conditional `$inc`, together
    /// with one level by the same delta.
    pub stock: i64,
    /// Units on hand per location id; a location the variant never held stock at has no entry
    /// (and reads as 0). Sorted by location id, which is the order the domain lists levels in.
    #[serde(default)]
    pub levels: BTreeMap<String, i64>,
    /// Units committed to placed orders per location id, a part of that level's on hand; changed
    /// only by the ledger's conditional `$inc`. No entry (and, on a document written before
    /// orders committed units, no field) reads as 0.
    #[serde(default)]
    pub committed: BTreeMap<String, i64>,
    /// Units committed over the levels; changed only by the ledger's `$inc`, together with one
    /// level's committed units by the same amount. Absent reads as 0.
    #[serde(default)]
    pub committed_total: i64,
    /// Units shipped on transfers and not yet received; changed only by the ledger's `$inc`,
    /// in the same write as the TRANSFER_OUT or TRANSFER_IN that moves them. Absent reads as 0.
    #[serde(default)]
    pub in_transit: i64,
    pub created_at: bson::DateTime,
    pub updated_at: bson::DateTime,
}

impl VariantDoc {
    /// The document of a new variant: stock always starts at 0, whatever `v.stock` says.
    pub(crate) fn new_variant(v: &Variant) -> Self {
        Self {
            id: v.id.to_string(),
            tenant_id: v.tenant_id.to_string(),
            product_id: v.product_id.to_string(),
            sku: v.sku.as_str().to_owned(),
            attributes: attribute_docs(&v.attributes),
            price: v.price.minor_units(),
            reorder_level: v.reorder_level.get(),
            stock: 0,
            levels: BTreeMap::new(),
            committed: BTreeMap::new(),
            committed_total: 0,
            in_transit: 0,
            created_at: bson_time(v.created_at),
            updated_at: bson_time(v.updated_at),
        }
    }

    /// The level at `location` by state (all 0 where the variant has none).
    pub(crate) fn state_at(&self, location: &str) -> StockState {
        StockState::new(
            self.levels.get(location).copied().unwrap_or(0),
            Claims {
                committed: self.committed.get(location).copied().unwrap_or(0),
            },
        )
    }

    /// The variant's totals by state, as stored.
    pub(crate) fn total(&self) -> StockState {
        StockState::new(
            self.stock,
            Claims {
                committed: self.committed_total,
            },
        )
    }

    /// The domain variant, with what the caller computed from the purchase orders: the units
    /// incoming per location id. Its levels are every location with an entry in any state or
    /// incoming units, by location id ([`Variant::with_levels`]); its totals by state are the
    /// stored ones, which the ledger reports after every change and the audit checks against the
    /// levels, so a read and a write never disagree about them.
    pub(crate) fn into_variant(
        self,
        incoming: &BTreeMap<String, i64>,
    ) -> Result<Variant, StoreError> {
        let mut by_location: BTreeMap<&str, i64> = BTreeMap::new();
        for location in self.levels.keys().chain(self.committed.keys()) {
            by_location.entry(location).or_default();
        }
        for (location, units) in incoming {
            *by_location.entry(location).or_default() = *units;
        }
        let levels = by_location
            .into_iter()
            .map(|(location, incoming)| {
                Ok(VariantLevel::new(
                    parse(location, "variant level location id")?,
                    self.state_at(location),
                    incoming,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let total = self.total();
        let attributes = self
            .attributes
            .into_iter()
            .map(|a| (a.name, a.value))
            .collect();
        let mut variant = Variant {
            id: parse(&self.id, "variant id")?,
            tenant_id: parse(&self.tenant_id, "variant tenant id")?,
            product_id: parse(&self.product_id, "variant product id")?,
            sku: valid(Sku::new(&self.sku), "variant SKU")?,
            attributes: valid(Attributes::new(attributes), "variant attributes")?,
            price: valid(Money::new(self.price), "variant price")?,
            reorder_level: valid(StockLevel::new(self.reorder_level), "variant reorder level")?,
            stock: 0,
            state: StockState::default(),
            incoming: 0,
            levels: Vec::new(),
            in_transit: self.in_transit,
            created_at: domain_time(self.created_at)?,
            updated_at: domain_time(self.updated_at)?,
        }
        .with_levels(levels);
        variant.state = total;
        variant.stock = total.available();
        Ok(variant)
    }
}
