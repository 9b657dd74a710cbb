//! Orders as stored, lines embedded (each with its allocations): an order is always read and
//! written whole.
//!
//! `soldAtPlacement` tells an order whose units left on hand with a SALE when it was placed from
//! one that committed them. Every order stored before orders committed units was of the first
//! kind and has no such field, so a missing field reads as `true`; every order written now
//! carries it.

use domain::orders::models::{Allocation, Customer, Order, OrderLine, OrderStatus};
use domain::values::{EmailAddress, Money, Sku};
use domain::StoreError;
use mongodb::bson;
use serde::{Deserialize, Serialize};

use super::{bson_time, domain_time, optional_text, parse, text, valid};
use crate::errors::corrupt;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrderLineDoc {
    pub variant_id: String,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
    pub returned: i64,
    /// Where the line's units were taken from.
    pub allocations: Vec<AllocationDoc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AllocationDoc {
    pub location_id: String,
    pub quantity: i64,
    pub returned: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CustomerDoc {
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrderDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub status: String,
    pub lines: Vec<OrderLineDoc>,
    pub customer: Option<CustomerDoc>,
    pub note: Option<String>,
    /// The location the order asked to be served from; absent: allocated across locations.
    #[serde(default)]
    pub location_id: Option<String>,
    /// Whether the order's units left on hand when it was placed; absent: stored before orders
    /// committed units, when every order did.
    #[serde(default = "sold_before_commitments")]
    pub sold_at_placement: bool,
    pub total: i64,
    pub placed_by: String,
    pub created_at: bson::DateTime,
    pub updated_at: bson::DateTime,
    /// Optimistic-concurrency version: replaced only if it still has the expected value.
    pub version: i64,
}

/// `soldAtPlacement` of an order stored without it.
fn sold_before_commitments() -> bool {
    true
}

impl From<&Order> for OrderDoc {
    fn from(o: &Order) -> Self {
        Self {
            id: o.id.to_string(),
            tenant_id: o.tenant_id.to_string(),
            status: o.status.as_str().to_owned(),
            lines: o
                .lines
                .iter()
                .map(|l| OrderLineDoc {
                    variant_id: l.variant_id.to_string(),
                    sku: l.sku.as_str().to_owned(),
                    quantity: l.quantity,
                    unit_price: l.unit_price.minor_units(),
                    line_total: l.line_total.minor_units(),
                    returned: l.returned,
                    allocations: l
                        .allocations
                        .iter()
                        .map(|a| AllocationDoc {
                            location_id: a.location_id.to_string(),
                            quantity: a.quantity,
                            returned: a.returned,
                        })
                        .collect(),
                })
                .collect(),
            customer: o.customer.as_ref().map(|c| CustomerDoc {
                name: c.name.as_str().to_owned(),
                email: c.email.as_ref().map(|e| e.as_str().to_owned()),
            }),
            note: o.note.as_ref().map(|n| n.as_str().to_owned()),
            location_id: o.location_id.map(|id| id.to_string()),
            sold_at_placement: o.sold_at_placement,
            total: o.total.minor_units(),
            placed_by: o.placed_by.to_string(),
            created_at: bson_time(o.created_at),
            updated_at: bson_time(o.updated_at),
            version: o.version,
        }
    }
}

impl TryFrom<OrderLineDoc> for OrderLine {
    type Error = StoreError;

    fn try_from(l: OrderLineDoc) -> Result<Self, StoreError> {
        Ok(OrderLine {
            variant_id: parse(&l.variant_id, "order line variant id")?,
            sku: valid(Sku::new(&l.sku), "order line SKU")?,
            quantity: l.quantity,
            unit_price: valid(Money::new(l.unit_price), "order line unit price")?,
            line_total: valid(Money::new(l.line_total), "order line total")?,
            returned: l.returned,
            allocations: l
                .allocations
                .into_iter()
                .map(|a| {
                    Ok(Allocation {
                        location_id: parse(&a.location_id, "order allocation location id")?,
                        quantity: a.quantity,
                        returned: a.returned,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
        })
    }
}

impl TryFrom<CustomerDoc> for Customer {
    type Error = StoreError;

    fn try_from(c: CustomerDoc) -> Result<Self, StoreError> {
        Ok(Customer {
            name: text(c.name, "customer name")?,
            email: c
                .email
                .map(|e| valid(EmailAddress::new(&e), "customer email"))
                .transpose()?,
        })
    }
}

impl TryFrom<OrderDoc> for Order {
    type Error = StoreError;

    fn try_from(d: OrderDoc) -> Result<Self, StoreError> {
        Ok(Order {
            id: parse(&d.id, "order id")?,
            tenant_id: parse(&d.tenant_id, "order tenant id")?,
            status: OrderStatus::parse(&d.status)
                .ok_or_else(|| corrupt("order status", &d.status))?,
            lines: d
                .lines
                .into_iter()
                .map(OrderLine::try_from)
                .collect::<Result<_, _>>()?,
            customer: d.customer.map(Customer::try_from).transpose()?,
            note: optional_text(d.note, "order note")?,
            location_id: d
                .location_id
                .map(|id| parse(&id, "order location id"))
                .transpose()?,
            sold_at_placement: d.sold_at_placement,
            total: valid(Money::new(d.total), "order total")?,
            placed_by: parse(&d.placed_by, "order placed_by")?,
            created_at: domain_time(d.created_at)?,
            updated_at: domain_time(d.updated_at)?,
            version: d.version,
        })
    }
}
