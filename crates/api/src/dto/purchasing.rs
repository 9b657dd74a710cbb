//! Bodies of suppliers and purchase orders.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use domain::error::{DomainError, FieldErrors};
use domain::ids::{LocationId, SupplierId, VariantId};
use domain::orders::models::LineRequest;
use domain::purchasing::models::{
    NewPurchaseOrder, NewSupplier, PurchaseLineRequest, PurchaseOrder, PurchaseOrderFilter,
    PurchaseOrderPatch, PurchaseOrderStatus, Supplier, SupplierPatch,
};
use domain::values::{EmailAddress, Money, Quantity, Text};

use super::orders::{lines_into_domain, LineRequestDto, MAX_LINES};
use super::{double_option, id, optional_text};
use crate::http::query::optional;
use crate::page_dto;

/// Longest lead time a supplier may be given, in days (ten years).
pub const MAX_LEAD_TIME_DAYS: i64 = 3650;

fn lead_time(e: &mut FieldErrors, days: Option<i64>) -> Option<i64> {
    match days {
        Some(d) if !(0..=MAX_LEAD_TIME_DAYS).contains(&d) => {
            e.add(
                "leadTimeDays",
                format!("must be between 0 and {MAX_LEAD_TIME_DAYS}"),
            );
            None
        }
        other => other,
    }
}

fn email(e: &mut FieldErrors, raw: Option<&str>) -> Option<EmailAddress> {
    match raw {
        Some(m) if !m.trim().is_empty() => e.check("email", EmailAddress::new(m)),
        _ => None,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSupplierRequest {
    #[schema(
        example = "Cotton Mills Ltd",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: String,
    /// Blank means none.
    #[schema(
        example = "orders@cottonmills.example",
        max_length = 254,
        pattern = r"^(\s*|[^\s@]+@[^\s@.][^\s@]*\.[^\s@]*[^\s@.])$"
    )]
    pub email: Option<String>,
    /// Blank means none.
    #[schema(example = "+44 20 7946 0000", max_length = 200)]
    pub phone: Option<String>,
    #[schema(example = 14, minimum = 0, maximum = 3650)]
    pub lead_time_days: Option<i64>,
}

impl CreateSupplierRequest {
    pub fn into_domain(self) -> Result<NewSupplier, DomainError> {
        let mut e = FieldErrors::new();
        let name = e.check("name", Text::name(&self.name));
        let email = email(&mut e, self.email.as_deref());
        let phone = optional_text(&mut e, "phone", self.phone.as_deref(), Text::name);
        let lead_time_days = lead_time(&mut e, self.lead_time_days);
        e.finish()?;
        Ok(NewSupplier {
            name: name.expect("checked"),
            email,
            phone,
            lead_time_days,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSupplierRequest {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    /// `null` (or blank) clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 254, pattern = r"^(\s*|[^\s@]+@[^\s@.][^\s@]*\.[^\s@]*[^\s@.])$")]
    pub email: Option<Option<String>>,
    /// `null` (or blank) clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub phone: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 3650)]
    pub lead_time_days: Option<Option<i64>>,
}

impl UpdateSupplierRequest {
    pub fn into_domain(self) -> Result<SupplierPatch, DomainError> {
        let mut e = FieldErrors::new();
        let name = self
            .name
            .as_deref()
            .and_then(|n| e.check("name", Text::name(n)));
        let email = self.email.map(|m| email(&mut e, m.as_deref()));
        let phone = self
            .phone
            .map(|p| optional_text(&mut e, "phone", p.as_deref(), Text::name));
        let lead_time_days = self.lead_time_days.map(|d| lead_time(&mut e, d));
        e.finish()?;
        Ok(SupplierPatch {
            name,
            email,
            phone,
            lead_time_days,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SupplierDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a80")]
    pub id: String,
    #[schema(example = "Cotton Mills Ltd")]
    pub name: String,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub phone: Option<String>,
    #[schema(required = true, example = 14)]
    pub lead_time_days: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Supplier> for SupplierDto {
    fn from(s: &Supplier) -> Self {
        Self {
            id: s.id.to_string(),
            name: s.name.as_str().to_owned(),
            email: s.email.as_ref().map(|m| m.as_str().to_owned()),
            phone: s.phone.as_ref().map(|p| p.as_str().to_owned()),
            lead_time_days: s.lead_time_days,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

page_dto!(SupplierPage, SupplierDto);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PurchaseLineDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", format = Uuid)]
    pub variant_id: String,
    #[schema(example = 100, minimum = 1, maximum = 1000000000)]
    pub quantity: i64,
    /// Cost per unit in minor units.
    #[schema(example = 650, minimum = 0, maximum = 10000000000000i64)]
    pub unit_cost: i64,
}

fn purchase_lines(e: &mut FieldErrors, lines: &[PurchaseLineDto]) -> Vec<PurchaseLineRequest> {
    if lines.len() > MAX_LINES {
        e.add("lines", format!("must have at most {MAX_LINES} lines"));
    }
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let variant_id = id::<VariantId>(e, &format!("lines[{i}].variantId"), &l.variant_id);
            let quantity = e.check(format!("lines[{i}].quantity"), Quantity::new(l.quantity));
            let unit_cost = e.check(format!("lines[{i}].unitCost"), Money::new(l.unit_cost));
            Some(PurchaseLineRequest {
                variant_id: variant_id?,
                quantity: quantity?,
                unit_cost: unit_cost?,
            })
        })
        .collect()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePurchaseOrderRequest {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a80", format = Uuid)]
    pub supplier_id: String,
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<PurchaseLineDto>,
    /// RFC 3339 expected delivery.
    pub expected_at: Option<DateTime<Utc>>,
    /// The active location the goods are received at (default: the tenant's default location).
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10", format = Uuid)]
    pub location_id: Option<String>,
}

impl CreatePurchaseOrderRequest {
    pub fn into_domain(self) -> Result<NewPurchaseOrder, DomainError> {
        let mut e = FieldErrors::new();
        let supplier_id = id::<SupplierId>(&mut e, "supplierId", &self.supplier_id);
        let lines = purchase_lines(&mut e, &self.lines);
        let location_id = self
            .location_id
            .as_deref()
            .and_then(|l| id::<LocationId>(&mut e, "locationId", l));
        e.finish()?;
        Ok(NewPurchaseOrder {
            supplier_id: supplier_id.expect("checked"),
            location_id,
            lines,
            expected_at: self.expected_at,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdatePurchaseOrderRequest {
    #[schema(format = Uuid)]
    pub supplier_id: Option<String>,
    /// Replaces all lines.
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Option<Vec<PurchaseLineDto>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expected_at: Option<Option<DateTime<Utc>>>,
    /// Another active destination.
    #[schema(format = Uuid)]
    pub location_id: Option<String>,
}

impl UpdatePurchaseOrderRequest {
    pub fn into_domain(self) -> Result<PurchaseOrderPatch, DomainError> {
        let mut e = FieldErrors::new();
        let supplier_id = self
            .supplier_id
            .as_deref()
            .and_then(|s| id::<SupplierId>(&mut e, "supplierId", s));
        let lines = self.lines.as_deref().map(|l| purchase_lines(&mut e, l));
        let location_id = self
            .location_id
            .as_deref()
            .and_then(|l| id::<LocationId>(&mut e, "locationId", l));
        e.finish()?;
        Ok(PurchaseOrderPatch {
            supplier_id,
            location_id,
            lines,
            expected_at: self.expected_at,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReceiptRequest {
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<LineRequestDto>,
}

impl ReceiptRequest {
    pub fn into_domain(self) -> Result<Vec<LineRequest>, DomainError> {
        let mut e = FieldErrors::new();
        let lines = lines_into_domain(&mut e, &self.lines);
        e.finish()?;
        Ok(lines)
    }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PurchaseOrderStatusDto {
    Draft,
    Ordered,
    PartiallyReceived,
    Received,
    Cancelled,
    Closed,
}

impl From<PurchaseOrderStatus> for PurchaseOrderStatusDto {
    fn from(s: PurchaseOrderStatus) -> Self {
        use PurchaseOrderStatus as S;
        match s {
            S::Draft => Self::Draft,
            S::Ordered => Self::Ordered,
            S::PartiallyReceived => Self::PartiallyReceived,
            S::Received => Self::Received,
            S::Cancelled => Self::Cancelled,
            S::Closed => Self::Closed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseOrderLineDto {
    pub variant_id: String,
    #[schema(example = 100)]
    pub quantity: i64,
    #[schema(example = 650)]
    pub unit_cost: i64,
    #[schema(example = 40)]
    pub received: i64,
    /// quantity − received.
    #[schema(example = 60)]
    pub outstanding: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseOrderDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a90")]
    pub id: String,
    pub supplier_id: String,
    /// Where the goods are received: their PURCHASE movements' location.
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10")]
    pub location_id: String,
    pub status: PurchaseOrderStatusDto,
    pub lines: Vec<PurchaseOrderLineDto>,
    #[schema(required = true)]
    pub expected_at: Option<DateTime<Utc>>,
    /// Σ quantity × unitCost, minor units: at most the largest amount of money (10^13) for an
    /// order written now; exact, as a wider integer, for one stored before that limit.
    #[schema(value_type = i64, example = 65000)]
    pub total_cost: i128,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&PurchaseOrder> for PurchaseOrderDto {
    fn from(p: &PurchaseOrder) -> Self {
        Self {
            id: p.id.to_string(),
            supplier_id: p.supplier_id.to_string(),
            location_id: p.location_id.to_string(),
            status: p.status.into(),
            lines: p
                .lines
                .iter()
                .map(|l| PurchaseOrderLineDto {
                    variant_id: l.variant_id.to_string(),
                    quantity: l.quantity,
                    unit_cost: l.unit_cost.minor_units(),
                    received: l.received,
                    outstanding: l.outstanding(),
                })
                .collect(),
            expected_at: p.expected_at,
            total_cost: p.total_cost(),
            created_by: p.created_by.to_string(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

page_dto!(PurchaseOrderPage, PurchaseOrderDto);

/// Filters of the purchase-order list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PurchaseOrderQuery {
    /// DRAFT, ORDERED, PARTIALLY_RECEIVED, RECEIVED, CANCELLED or CLOSED.
    #[param(value_type = Option<PurchaseOrderStatusDto>)]
    pub status: Option<String>,
    #[param(format = Uuid)]
    pub supplier_id: Option<String>,
}

impl PurchaseOrderQuery {
    pub fn into_domain(&self) -> Result<PurchaseOrderFilter, DomainError> {
        let mut e = FieldErrors::new();
        let status = optional(
            &mut e,
            "status",
            self.status.as_deref(),
            |s| PurchaseOrderStatus::parse(s).ok_or(()),
            "must be DRAFT, ORDERED, PARTIALLY_RECEIVED, RECEIVED, CANCELLED or CLOSED",
        );
        let supplier_id = optional(
            &mut e,
            "supplierId",
            self.supplier_id.as_deref(),
            str::parse::<SupplierId>,
            "is not a valid id",
        );
        e.finish()?;
        Ok(PurchaseOrderFilter {
            status,
            supplier_id,
        })
    }
}
