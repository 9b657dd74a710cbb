//! Bodies of customer orders.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use domain::error::{DomainError, FieldErrors};
use domain::ids::{LocationId, VariantId};
use domain::orders::models::{
    Allocation, Customer, LineRequest, NewOrder, Order, OrderFilter, OrderStatus, ReturnRequest,
};
use domain::stock::state::UnitState;
use domain::values::{EmailAddress, Quantity, Text};

use super::{id, optional_text};
use crate::http::query::{optional, timestamp};
use crate::page_dto;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineRequestDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", format = Uuid)]
    pub variant_id: String,
    #[schema(example = 2, minimum = 1, maximum = 1000000000)]
    pub quantity: i64,
}

/// Most lines a request may carry (an order, a hold, a purchase order, a transfer, a receipt).
pub const MAX_LINES: usize = 500;

/// Validates request lines (at least one, at most [`MAX_LINES`]), naming each bad one.
pub fn lines_into_domain(e: &mut FieldErrors, lines: &[LineRequestDto]) -> Vec<LineRequest> {
    if lines.is_empty() {
        e.add("lines", "must have at least one line");
    }
    if lines.len() > MAX_LINES {
        e.add("lines", format!("must have at most {MAX_LINES} lines"));
    }
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let variant_id = id::<VariantId>(e, &format!("lines[{i}].variantId"), &l.variant_id);
            let quantity = e.check(format!("lines[{i}].quantity"), Quantity::new(l.quantity));
            Some(LineRequest {
                variant_id: variant_id?,
                quantity: quantity?,
            })
        })
        .collect()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerDto {
    #[schema(
        example = "Grace Customer",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: String,
    /// Blank means none.
    #[schema(
        example = "grace@example.com",
        max_length = 254,
        pattern = r"^(\s*|[^\s@]+@[^\s@.][^\s@]*\.[^\s@]*[^\s@.])$"
    )]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceOrderRequest {
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<LineRequestDto>,
    pub customer: Option<CustomerDto>,
    /// Blank means none.
    #[schema(example = "gift wrap", max_length = 2000)]
    pub note: Option<String>,
    /// Serve every line from this active location alone. Absent: allocate across the active
    /// locations, the default first, then by priority.
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10", format = Uuid)]
    pub location_id: Option<String>,
}

/// An optional `locationId` of a request body.
fn location(e: &mut FieldErrors, raw: Option<&str>) -> Option<LocationId> {
    raw.and_then(|l| id::<LocationId>(e, "locationId", l))
}

/// Validates an optional `customer` of a request body, naming its bad fields.
pub fn customer_into_domain(
    e: &mut FieldErrors,
    customer: Option<&CustomerDto>,
) -> Option<Customer> {
    customer.and_then(|c| {
        let name = e.check("customer.name", Text::name(&c.name));
        let email = match c.email.as_deref() {
            Some(m) if !m.trim().is_empty() => {
                Some(e.check("customer.email", EmailAddress::new(m))?)
            }
            _ => None,
        };
        Some(Customer { name: name?, email })
    })
}

impl PlaceOrderRequest {
    pub fn into_domain(self) -> Result<NewOrder, DomainError> {
        let mut e = FieldErrors::new();
        let lines = lines_into_domain(&mut e, &self.lines);
        let customer = customer_into_domain(&mut e, self.customer.as_ref());
        let note = optional_text(&mut e, "note", self.note.as_deref(), Text::long);
        let location_id = location(&mut e, self.location_id.as_deref());
        e.finish()?;
        Ok(NewOrder {
            lines,
            customer,
            note,
            location_id,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReturnItemsRequest {
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<LineRequestDto>,
    #[schema(
        example = "wrong size",
        min_length = 1,
        max_length = 2000,
        pattern = r"\S"
    )]
    pub reason: String,
    /// The active location the units are put back at. Absent: where they were taken from.
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10", format = Uuid)]
    pub location_id: Option<String>,
    /// The state the units come back into: `available` (default), `damaged` or
    /// `qualityControl`. Never `safetyStock`, which is set aside deliberately with a move.
    #[schema(example = "available", value_type = Option<super::bounds::ReturnStateName>)]
    pub state: Option<String>,
}

/// What a bad return state is told.
const RETURN_STATES: &str = "must be available, damaged or qualityControl";

impl ReturnItemsRequest {
    pub fn into_domain(self) -> Result<ReturnRequest, DomainError> {
        let mut e = FieldErrors::new();
        let lines = lines_into_domain(&mut e, &self.lines);
        let reason = e.check("reason", Text::long(&self.reason));
        let location_id = location(&mut e, self.location_id.as_deref());
        let state = match self.state.as_deref() {
            None => Some(UnitState::Available),
            Some(raw) => match UnitState::parse(raw) {
                Some(state) if state != UnitState::SafetyStock => Some(state),
                _ => {
                    e.add("state", RETURN_STATES);
                    None
                }
            },
        };
        e.finish()?;
        Ok(ReturnRequest {
            lines,
            reason: reason.expect("checked"),
            location_id,
            state: state.expect("checked"),
        })
    }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatusDto {
    Placed,
    Fulfilled,
    Cancelled,
    PartiallyReturned,
    Returned,
}

impl From<OrderStatus> for OrderStatusDto {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::Placed => OrderStatusDto::Placed,
            OrderStatus::Fulfilled => OrderStatusDto::Fulfilled,
            OrderStatus::Cancelled => OrderStatusDto::Cancelled,
            OrderStatus::PartiallyReturned => OrderStatusDto::PartiallyReturned,
            OrderStatus::Returned => OrderStatusDto::Returned,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")]
    pub variant_id: String,
    #[schema(example = "TS-RED-M")]
    pub sku: String,
    #[schema(example = 2)]
    pub quantity: i64,
    /// Captured when the order was placed, minor units.
    #[schema(example = 1999)]
    pub unit_price: i64,
    #[schema(example = 3998)]
    pub line_total: i64,
    #[schema(example = 0)]
    pub returned: i64,
    /// Where the line's units were taken from; the quantities sum to `quantity`.
    pub allocations: Vec<AllocationDto>,
}

/// Units of a line taken from one location.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllocationDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10")]
    pub location_id: String,
    #[schema(example = 2)]
    pub quantity: i64,
    /// Units of this allocation returned since (wherever they were put back).
    #[schema(example = 0)]
    pub returned: i64,
}

impl From<&Allocation> for AllocationDto {
    fn from(a: &Allocation) -> Self {
        Self {
            location_id: a.location_id.to_string(),
            quantity: a.quantity,
            returned: a.returned,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCustomerDto {
    pub name: String,
    #[schema(required = true)]
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a70")]
    pub id: String,
    pub status: OrderStatusDto,
    pub lines: Vec<OrderLineDto>,
    #[schema(required = true)]
    pub customer: Option<OrderCustomerDto>,
    #[schema(required = true)]
    pub note: Option<String>,
    /// The location the order asked to be served from; null when it was allocated across
    /// locations (see each line's `allocations`).
    #[schema(required = true)]
    pub location_id: Option<String>,
    /// Minor units.
    #[schema(example = 3998)]
    pub total: i64,
    pub placed_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Order> for OrderDto {
    fn from(o: &Order) -> Self {
        Self {
            id: o.id.to_string(),
            status: o.status.into(),
            lines: o
                .lines
                .iter()
                .map(|l| OrderLineDto {
                    variant_id: l.variant_id.to_string(),
                    sku: l.sku.as_str().to_owned(),
                    quantity: l.quantity,
                    unit_price: l.unit_price.minor_units(),
                    line_total: l.line_total.minor_units(),
                    returned: l.returned,
                    allocations: l.allocations.iter().map(AllocationDto::from).collect(),
                })
                .collect(),
            customer: o.customer.as_ref().map(|c| OrderCustomerDto {
                name: c.name.as_str().to_owned(),
                email: c.email.as_ref().map(|m| m.as_str().to_owned()),
            }),
            note: o.note.as_ref().map(|n| n.as_str().to_owned()),
            location_id: o.location_id.map(|l| l.to_string()),
            total: o.total.minor_units(),
            placed_by: o.placed_by.to_string(),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

page_dto!(OrderPage, OrderDto);

/// Filters of the order list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// PLACED, FULFILLED, CANCELLED, PARTIALLY_RETURNED or RETURNED.
    #[param(value_type = Option<OrderStatusDto>)]
    pub status: Option<String>,
    /// RFC 3339; orders placed at or after it.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339; orders placed before it.
    #[param(format = DateTime)]
    pub to: Option<String>,
}

impl OrderQuery {
    pub fn into_domain(&self) -> Result<OrderFilter, DomainError> {
        let mut e = FieldErrors::new();
        let status = optional(
            &mut e,
            "status",
            self.status.as_deref(),
            |s| OrderStatus::parse(s).ok_or(()),
            "must be PLACED, FULFILLED, CANCELLED, PARTIALLY_RETURNED or RETURNED",
        );
        let from = optional(
            &mut e,
            "from",
            self.from.as_deref(),
            timestamp,
            "must be an RFC 3339 timestamp",
        );
        let to = optional(
            &mut e,
            "to",
            self.to.as_deref(),
            timestamp,
            "must be an RFC 3339 timestamp",
        );
        e.finish()?;
        Ok(OrderFilter { status, from, to })
    }
}
