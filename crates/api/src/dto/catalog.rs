//! Bodies of products and variants.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use domain::catalog::models::{
    NewProduct, NewVariant, Product, ProductPatch, Variant, VariantFilter, VariantLevel,
    VariantPatch,
};
use domain::error::{DomainError, FieldErrors};
use domain::ids::ProductId;
use domain::values::{Attributes, Money, Sku, StockLevel, Text};

use super::stock::UnavailableByDto;
use super::{double_option, id, optional_text};
use crate::http::query::optional;
use crate::page_dto;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProductRequest {
    #[schema(
        example = "Classic T-Shirt",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: String,
    /// Blank means none.
    #[schema(example = "Heavyweight cotton, unisex fit", max_length = 2000)]
    pub description: Option<String>,
}

impl CreateProductRequest {
    pub fn into_domain(self) -> Result<NewProduct, DomainError> {
        let mut e = FieldErrors::new();
        let name = e.check("name", Text::name(&self.name));
        let description = optional_text(
            &mut e,
            "description",
            self.description.as_deref(),
            Text::long,
        );
        e.finish()?;
        Ok(NewProduct {
            name: name.expect("checked"),
            description,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProductRequest {
    #[schema(
        example = "Classic Tee",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: Option<String>,
    /// `null` (or blank) clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(
        value_type = Option<String>,
        example = "Now in organic cotton",
        max_length = 2000
    )]
    pub description: Option<Option<String>>,
}

impl UpdateProductRequest {
    pub fn into_domain(self) -> Result<ProductPatch, DomainError> {
        let mut e = FieldErrors::new();
        let name = self
            .name
            .as_deref()
            .and_then(|n| e.check("name", Text::name(n)));
        let description = self
            .description
            .map(|d| optional_text(&mut e, "description", d.as_deref(), Text::long));
        e.finish()?;
        Ok(ProductPatch { name, description })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")]
    pub id: String,
    #[schema(example = "Classic T-Shirt")]
    pub name: String,
    #[schema(required = true, example = "Heavyweight cotton, unisex fit")]
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Product> for ProductDto {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.name.as_str().to_owned(),
            description: p.description.as_ref().map(|d| d.as_str().to_owned()),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

page_dto!(ProductPage, ProductDto);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateVariantRequest {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", format = Uuid)]
    pub product_id: String,
    /// 1–64 letters, digits, `-`, `_`, `.` or `/`; unique in the tenant.
    #[schema(
        example = "TS-RED-M",
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9._/-]+$"
    )]
    pub sku: String,
    #[serde(default)]
    #[schema(schema_with = super::bounds::attributes)]
    pub attributes: BTreeMap<String, String>,
    /// Price in minor units (cents).
    #[schema(example = 1999, minimum = 0, maximum = 10000000000000i64)]
    pub price: i64,
    /// Stock at or below this is "low" (default 0).
    #[serde(default)]
    #[schema(example = 5, minimum = 0, maximum = 1000000000)]
    pub reorder_level: i64,
}

impl CreateVariantRequest {
    pub fn into_domain(self) -> Result<NewVariant, DomainError> {
        let mut e = FieldErrors::new();
        let product_id = id::<ProductId>(&mut e, "productId", &self.product_id);
        let sku = e.check("sku", Sku::new(&self.sku));
        let attributes = e.check("attributes", Attributes::new(self.attributes));
        let price = e.check("price", Money::new(self.price));
        let reorder_level = e.check("reorderLevel", StockLevel::new(self.reorder_level));
        e.finish()?;
        Ok(NewVariant {
            product_id: product_id.expect("checked"),
            sku: sku.expect("checked"),
            attributes: attributes.expect("checked"),
            price: price.expect("checked"),
            reorder_level: reorder_level.expect("checked"),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateVariantRequest {
    #[schema(format = Uuid)]
    pub product_id: Option<String>,
    #[schema(
        example = "TS-RED-M",
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9._/-]+$"
    )]
    pub sku: Option<String>,
    /// Replaces them all.
    #[schema(schema_with = super::bounds::attributes_or_null)]
    pub attributes: Option<BTreeMap<String, String>>,
    #[schema(example = 2499, minimum = 0, maximum = 10000000000000i64)]
    pub price: Option<i64>,
    #[schema(example = 10, minimum = 0, maximum = 1000000000)]
    pub reorder_level: Option<i64>,
}

impl UpdateVariantRequest {
    pub fn into_domain(self) -> Result<VariantPatch, DomainError> {
        let mut e = FieldErrors::new();
        let product_id = self
            .product_id
            .as_deref()
            .and_then(|p| id::<ProductId>(&mut e, "productId", p));
        let sku = self
            .sku
            .as_deref()
            .and_then(|s| e.check("sku", Sku::new(s)));
        let attributes = self
            .attributes
            .and_then(|a| e.check("attributes", Attributes::new(a)));
        let price = self.price.and_then(|p| e.check("price", Money::new(p)));
        let reorder_level = self
            .reorder_level
            .and_then(|r| e.check("reorderLevel", StockLevel::new(r)));
        e.finish()?;
        Ok(VariantPatch {
            product_id,
            sku,
            attributes,
            price,
            reorder_level,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")]
    pub id: String,
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")]
    pub product_id: String,
    #[schema(example = "TS-RED-M")]
    pub sku: String,
    #[schema(example = json!({"size": "M", "color": "red"}))]
    pub attributes: BTreeMap<String, String>,
    /// Minor units (cents).
    #[schema(example = 1999)]
    pub price: i64,
    #[schema(example = 5)]
    pub reorder_level: i64,
    /// Read-only. Units available to new orders and holds over every location (Σ
    /// `levels[].stock`): `onHand − committed − reserved − unavailable`.
    #[schema(example = 37)]
    pub stock: i64,
    /// Read-only: units physically held over every location, Σ of the movements.
    #[schema(example = 45)]
    pub on_hand: i64,
    /// Read-only: units of placed orders not fulfilled yet (they leave `onHand` when the order
    /// is fulfilled).
    #[schema(example = 3)]
    pub committed: i64,
    /// Read-only: units held by live checkout reservations (a hold stops counting the instant
    /// it expires).
    #[schema(example = 2)]
    pub reserved: i64,
    /// Read-only: units on hand but not for sale, Σ of `unavailableBy`.
    #[schema(example = 3)]
    pub unavailable: i64,
    /// Read-only: the unavailable units by state (changed with `POST /v1/variants/{id}/moves`).
    pub unavailable_by: UnavailableByDto,
    /// Units still expected on open purchase orders, to every location.
    #[schema(example = 20)]
    pub incoming: i64,
    /// `stock <= reorderLevel` (what is available, not what is on hand).
    #[schema(example = false)]
    pub low_stock: bool,
    /// Stock per location: every location where the variant has had stock or has units
    /// incoming, by location id.
    pub levels: Vec<VariantLevelDto>,
    /// Units shipped on transfers and not yet received: counted at neither location, nor in
    /// `stock`.
    #[schema(example = 0)]
    pub in_transit: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Variant> for VariantDto {
    fn from(v: &Variant) -> Self {
        Self {
            id: v.id.to_string(),
            product_id: v.product_id.to_string(),
            sku: v.sku.as_str().to_owned(),
            attributes: v.attributes.as_map().clone(),
            price: v.price.minor_units(),
            reorder_level: v.reorder_level.get(),
            stock: v.stock,
            on_hand: v.state.on_hand,
            committed: v.state.claims.committed,
            reserved: v.state.claims.reserved,
            unavailable: v.state.claims.unavailable.sum(),
            unavailable_by: (&v.state.claims.unavailable).into(),
            incoming: v.incoming,
            low_stock: v.is_low(),
            levels: v.levels.iter().map(VariantLevelDto::from).collect(),
            in_transit: v.in_transit,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// One variant's stock at one location.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantLevelDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10")]
    pub location_id: String,
    /// Units available here: `onHand − committed − reserved − unavailable`.
    #[schema(example = 27)]
    pub stock: i64,
    /// Units physically here.
    #[schema(example = 32)]
    pub on_hand: i64,
    /// Units here committed to placed orders not fulfilled yet.
    #[schema(example = 2)]
    pub committed: i64,
    /// Units here held by live checkout reservations.
    #[schema(example = 2)]
    pub reserved: i64,
    /// Units here on hand but not for sale, Σ of `unavailableBy`.
    #[schema(example = 1)]
    pub unavailable: i64,
    pub unavailable_by: UnavailableByDto,
    /// Units on open purchase orders bound for this location.
    #[schema(example = 20)]
    pub incoming: i64,
}

impl From<&VariantLevel> for VariantLevelDto {
    fn from(l: &VariantLevel) -> Self {
        Self {
            location_id: l.location_id.to_string(),
            stock: l.stock,
            on_hand: l.state.on_hand,
            committed: l.state.claims.committed,
            reserved: l.state.claims.reserved,
            unavailable: l.state.claims.unavailable.sum(),
            unavailable_by: (&l.state.claims.unavailable).into(),
            incoming: l.incoming,
        }
    }
}

page_dto!(VariantPage, VariantDto);

/// Filters of the variant list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct VariantQuery {
    /// Only variants of this product.
    #[param(format = Uuid)]
    pub product_id: Option<String>,
    /// Only the variant with this SKU (empty: any).
    #[param(max_length = 64, pattern = "^[A-Za-z0-9._/-]*$")]
    pub sku: Option<String>,
    /// `true`: only variants with stock ≤ reorderLevel.
    #[param(value_type = Option<bool>)]
    pub low_stock: Option<String>,
}

impl VariantQuery {
    pub fn into_domain(&self) -> Result<VariantFilter, DomainError> {
        let mut e = FieldErrors::new();
        let product_id = optional(
            &mut e,
            "productId",
            self.product_id.as_deref(),
            str::parse::<ProductId>,
            "is not a valid id",
        );
        let sku = self
            .sku
            .as_deref()
            .filter(|s| !s.is_empty())
            .and_then(|s| e.check("sku", Sku::new(s)));
        let low_stock = optional(
            &mut e,
            "lowStock",
            self.low_stock.as_deref(),
            str::parse::<bool>,
            "must be true or false",
        );
        e.finish()?;
        Ok(VariantFilter {
            product_id,
            sku,
            low_stock: low_stock.unwrap_or(false),
        })
    }
}
