//! Products and variants as stored.
//!
//! Variant attributes are stored as a list of `{name, value}` pairs rather than as a sub-document:
//! attribute names are chosen by users and may contain `.` or start with `$`, which MongoDB treats
//! specially in field names.
//!
//! A variant's levels, by contrast, ARE sub-documents, one map by location id per kept state:
//! `levels: {"<location id>": on hand}` next to the on-hand total `stock`, and for each claim
//! kept as a number — `committed`, `damaged`, `qualityControl`, `safetyStock` — a map next to
//! its total (`committedTotal`, …) ([`KeptClaim`]). Location ids are UUID text (hex digits and
//! hyphens, never `.` or `$`, never all digits), so `levels.<id>` and `committed.<id>` are safe
//! field paths. Reserved units are not a number: the reservations' holds are embedded as an
//! array `holds: [{r: reservation id, l: location id, q: units, e: expiry}]`, and a level's
//! reserved units are Σ `q` of its holds with `e` after the instant of the read or the write.
//! Keeping every state of a level — holds included — inside the variant lets one conditional
//! `findOneAndUpdate` judge and change a level's states and the totals together, one document
//! write per stock change, as before levels existed. The stored `stock` keeps its name (and
//! meaning: on hand) from before orders committed units, so documents written then read as they
//! are, with nothing claimed; what the domain calls a variant's `stock`, the units available, is
//! derived on read.

use std::collections::{BTreeMap, BTreeSet};

use domain::catalog::models::{Product, Variant, VariantLevel};
use domain::stock::models::AuditedState;
use domain::stock::state::{Claims, StockState, Unavailable};
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

/// A number kept per level beside on hand, as the variant document stores it: a map by location
/// id and the total over the levels, both moved by the ledger's `$inc` together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeptClaim {
    Committed,
    Damaged,
    QualityControl,
    SafetyStock,
}

impl KeptClaim {
    pub(crate) const ALL: [KeptClaim; 4] = [
        KeptClaim::Committed,
        KeptClaim::Damaged,
        KeptClaim::QualityControl,
        KeptClaim::SafetyStock,
    ];

    /// The field of the map by location id.
    pub(crate) fn map_field(self) -> &'static str {
        match self {
            KeptClaim::Committed => "committed",
            KeptClaim::Damaged => "damaged",
            KeptClaim::QualityControl => "qualityControl",
            KeptClaim::SafetyStock => "safetyStock",
        }
    }

    /// The field of the total over the levels.
    pub(crate) fn total_field(self) -> &'static str {
        match self {
            KeptClaim::Committed => "committedTotal",
            KeptClaim::Damaged => "damagedTotal",
            KeptClaim::QualityControl => "qualityControlTotal",
            KeptClaim::SafetyStock => "safetyStockTotal",
        }
    }

    /// The field path of this number at `location` inside a variant document.
    pub(crate) fn path(self, location: &str) -> String {
        format!("{}.{location}", self.map_field())
    }

    /// This number in `claims`.
    pub(crate) fn of(self, claims: &Claims) -> i64 {
        match self {
            KeptClaim::Committed => claims.committed,
            KeptClaim::Damaged => claims.unavailable.damaged,
            KeptClaim::QualityControl => claims.unavailable.quality_control,
            KeptClaim::SafetyStock => claims.unavailable.safety_stock,
        }
    }

    /// What the audit calls this number.
    pub(crate) fn audited(self) -> AuditedState {
        match self {
            KeptClaim::Committed => AuditedState::Committed,
            KeptClaim::Damaged => AuditedState::Damaged,
            KeptClaim::QualityControl => AuditedState::QualityControl,
            KeptClaim::SafetyStock => AuditedState::SafetyStock,
        }
    }
}

/// The field path of a location's level (its units on hand) inside a variant document.
pub(crate) fn level_path(location: &str) -> String {
    format!("levels.{location}")
}

/// One reservation's hold at one level, embedded in the variant document so that the ledger's
/// conditional write counts the level's live holds in the same document it changes. The short
/// field names keep a hot variant's document small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct HoldDoc {
    /// The reservation id.
    pub r: String,
    /// The location id of the level.
    pub l: String,
    /// Units held.
    pub q: i64,
    /// When the hold stops counting: it is live while `e > now`.
    pub e: bson::DateTime,
}

impl HoldDoc {
    pub(crate) fn is_live(&self, now: bson::DateTime) -> bool {
        self.e > now
    }
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
    /// Units on hand but damaged, per location id, and over the levels; kept like `committed`.
    /// Absent (every document written before unit states) reads as 0.
    #[serde(default)]
    pub damaged: BTreeMap<String, i64>,
    #[serde(default)]
    pub damaged_total: i64,
    /// Units on hand held for quality control, per location id and over the levels.
    #[serde(default)]
    pub quality_control: BTreeMap<String, i64>,
    #[serde(default)]
    pub quality_control_total: i64,
    /// Units on hand kept back as safety stock, per location id and over the levels.
    #[serde(default)]
    pub safety_stock: BTreeMap<String, i64>,
    #[serde(default)]
    pub safety_stock_total: i64,
    /// The reservations' holds on the variant's levels, live or expired but not yet swept; the
    /// reserved units of a level are Σ `q` of its holds live at the instant of the read or
    /// write. Placed, taken, dropped and extended only by the ledger's conditional write.
    #[serde(default)]
    pub holds: Vec<HoldDoc>,
    /// Units shipped on transfers and not yet received; changed only by the ledger's `$inc`,
    /// in the same write as the TRANSFER_OUT or TRANSFER_IN that moves them. Absent reads as 0.
    #[serde(default)]
    pub in_transit: i64,
    /// Units still due on the tenant's purchase orders whose status counts as incoming, per
    /// destination location id; moved by every purchase-order write in its own transaction (see
    /// `repos::incoming`), so a read needs no purchase order. An entry may be 0 (an order
    /// received or cancelled), which reads as no entry; a document written before the map
    /// existed gets it from the migration.
    #[serde(default)]
    pub incoming: BTreeMap<String, i64>,
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
            damaged: BTreeMap::new(),
            damaged_total: 0,
            quality_control: BTreeMap::new(),
            quality_control_total: 0,
            safety_stock: BTreeMap::new(),
            safety_stock_total: 0,
            holds: Vec::new(),
            in_transit: 0,
            incoming: BTreeMap::new(),
            created_at: bson_time(v.created_at),
            updated_at: bson_time(v.updated_at),
        }
    }

    /// The map by location id of a kept number.
    pub(crate) fn kept(&self, claim: KeptClaim) -> &BTreeMap<String, i64> {
        match claim {
            KeptClaim::Committed => &self.committed,
            KeptClaim::Damaged => &self.damaged,
            KeptClaim::QualityControl => &self.quality_control,
            KeptClaim::SafetyStock => &self.safety_stock,
        }
    }

    /// The stored total of a kept number.
    pub(crate) fn kept_total(&self, claim: KeptClaim) -> i64 {
        match claim {
            KeptClaim::Committed => self.committed_total,
            KeptClaim::Damaged => self.damaged_total,
            KeptClaim::QualityControl => self.quality_control_total,
            KeptClaim::SafetyStock => self.safety_stock_total,
        }
    }

    /// Every location with an entry in any kept number (on hand or a claim), by location id.
    pub(crate) fn stored_locations(&self) -> BTreeSet<&String> {
        let mut at: BTreeSet<&String> = self.levels.keys().collect();
        for claim in KeptClaim::ALL {
            at.extend(self.kept(claim).keys());
        }
        at
    }

    /// Σ units of the holds live at `now` at `location`, or at every level when `None`.
    pub(crate) fn reserved(&self, location: Option<&str>, now: bson::DateTime) -> i64 {
        self.holds
            .iter()
            .filter(|h| h.is_live(now) && location.is_none_or(|l| h.l == l))
            .map(|h| h.q)
            .sum()
    }

    /// Whether `reservation` holds a hold at `location` that is live at `now`.
    pub(crate) fn holds_live(
        &self,
        reservation: &str,
        location: &str,
        now: bson::DateTime,
    ) -> bool {
        self.holds
            .iter()
            .any(|h| h.r == reservation && h.l == location && h.is_live(now))
    }

    /// The level at `location` by state at `now` (all 0 where the variant has none).
    pub(crate) fn state_at(&self, location: &str, now: bson::DateTime) -> StockState {
        let kept = |claim: KeptClaim| self.kept(claim).get(location).copied().unwrap_or(0);
        StockState::new(
            self.levels.get(location).copied().unwrap_or(0),
            claims(kept, self.reserved(Some(location), now)),
        )
    }

    /// The variant's totals by state at `now`: the stored totals, and its live holds.
    pub(crate) fn total(&self, now: bson::DateTime) -> StockState {
        StockState::new(
            self.stock,
            claims(|claim| self.kept_total(claim), self.reserved(None, now)),
        )
    }

    /// Units incoming at `location` (0 where the variant has no entry).
    pub(crate) fn incoming_at(&self, location: &str) -> i64 {
        self.incoming.get(location).copied().unwrap_or(0)
    }

    /// The domain variant at `now`, from this document alone. Its levels are every location with
    /// an entry in any kept state or units incoming, by location id ([`Variant::with_levels`]);
    /// its totals by state are the stored ones (and its live holds), which the ledger reports
    /// after every change and the audit checks against the levels, so a read and a write never
    /// disagree about them.
    pub(crate) fn into_variant(self, now: bson::DateTime) -> Result<Variant, StoreError> {
        let mut by_location: BTreeMap<&str, i64> = self
            .stored_locations()
            .into_iter()
            .map(|l| (l.as_str(), 0))
            .collect();
        for (location, units) in &self.incoming {
            if *units != 0 {
                *by_location.entry(location).or_default() = *units;
            }
        }
        let levels = by_location
            .into_iter()
            .map(|(location, incoming)| {
                Ok(VariantLevel::new(
                    parse(location, "variant level location id")?,
                    self.state_at(location, now),
                    incoming,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let total = self.total(now);
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

/// Claims from each kept number and the reserved units.
fn claims(kept: impl Fn(KeptClaim) -> i64, reserved: i64) -> Claims {
    Claims {
        committed: kept(KeptClaim::Committed),
        reserved,
        unavailable: Unavailable {
            damaged: kept(KeptClaim::Damaged),
            quality_control: kept(KeptClaim::QualityControl),
            safety_stock: kept(KeptClaim::SafetyStock),
        },
    }
}
