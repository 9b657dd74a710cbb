//! Suppliers and purchase orders as stored, purchase-order lines embedded.

use domain::purchasing::models::{PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Supplier};
use domain::values::{EmailAddress, Money};
use domain::StoreError;
use mongodb::bson;
use serde::{Deserialize, Serialize};

use super::{bson_time, domain_time, optional_text, parse, text, valid};
use crate::errors::corrupt;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SupplierDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lead_time_days: Option<i64>,
    pub created_at: bson::DateTime,
    pub updated_at: bson::DateTime,
}

impl From<&Supplier> for SupplierDoc {
    fn from(s: &Supplier) -> Self {
        Self {
            id: s.id.to_string(),
            tenant_id: s.tenant_id.to_string(),
            name: s.name.as_str().to_owned(),
            email: s.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: s.phone.as_ref().map(|p| p.as_str().to_owned()),
            lead_time_days: s.lead_time_days,
            created_at: bson_time(s.created_at),
            updated_at: bson_time(s.updated_at),
        }
    }
}

impl TryFrom<SupplierDoc> for Supplier {
    type Error = StoreError;

    fn try_from(d: SupplierDoc) -> Result<Self, StoreError> {
        Ok(Supplier {
            id: parse(&d.id, "supplier id")?,
            tenant_id: parse(&d.tenant_id, "supplier tenant id")?,
            name: text(d.name, "supplier name")?,
            email: d
                .email
                .map(|e| valid(EmailAddress::new(&e), "supplier email"))
                .transpose()?,
            phone: optional_text(d.phone, "supplier phone")?,
            lead_time_days: d.lead_time_days,
            created_at: domain_time(d.created_at)?,
            updated_at: domain_time(d.updated_at)?,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PurchaseOrderLineDoc {
    pub variant_id: String,
    pub quantity: i64,
    pub unit_cost: i64,
    pub received: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PurchaseOrderDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub supplier_id: String,
    /// The destination: where receipts land and `incoming` is counted.
    pub location_id: String,
    pub status: String,
    pub lines: Vec<PurchaseOrderLineDoc>,
    pub expected_at: Option<bson::DateTime>,
    pub created_by: String,
    pub created_at: bson::DateTime,
    pub updated_at: bson::DateTime,
    pub version: i64,
}

impl From<&PurchaseOrder> for PurchaseOrderDoc {
    fn from(p: &PurchaseOrder) -> Self {
        Self {
            id: p.id.to_string(),
            tenant_id: p.tenant_id.to_string(),
            supplier_id: p.supplier_id.to_string(),
            location_id: p.location_id.to_string(),
            status: p.status.as_str().to_owned(),
            lines: p
                .lines
                .iter()
                .map(|l| PurchaseOrderLineDoc {
                    variant_id: l.variant_id.to_string(),
                    quantity: l.quantity,
                    unit_cost: l.unit_cost.minor_units(),
                    received: l.received,
                })
                .collect(),
            expected_at: p.expected_at.map(bson_time),
            created_by: p.created_by.to_string(),
            created_at: bson_time(p.created_at),
            updated_at: bson_time(p.updated_at),
            version: p.version,
        }
    }
}

impl TryFrom<PurchaseOrderLineDoc> for PurchaseOrderLine {
    type Error = StoreError;

    fn try_from(l: PurchaseOrderLineDoc) -> Result<Self, StoreError> {
        Ok(PurchaseOrderLine {
            variant_id: parse(&l.variant_id, "purchase order line variant id")?,
            quantity: l.quantity,
            unit_cost: valid(Money::new(l.unit_cost), "purchase order line unit cost")?,
            received: l.received,
        })
    }
}

impl TryFrom<PurchaseOrderDoc> for PurchaseOrder {
    type Error = StoreError;

    fn try_from(d: PurchaseOrderDoc) -> Result<Self, StoreError> {
        Ok(PurchaseOrder {
            id: parse(&d.id, "purchase order id")?,
            tenant_id: parse(&d.tenant_id, "purchase order tenant id")?,
            supplier_id: parse(&d.supplier_id, "purchase order supplier id")?,
            location_id: parse(&d.location_id, "purchase order location id")?,
            status: PurchaseOrderStatus::parse(&d.status)
                .ok_or_else(|| corrupt("purchase order status", &d.status))?,
            lines: d
                .lines
                .into_iter()
                .map(PurchaseOrderLine::try_from)
                .collect::<Result<_, _>>()?,
            expected_at: d.expected_at.map(domain_time).transpose()?,
            created_by: parse(&d.created_by, "purchase order created_by")?,
            created_at: domain_time(d.created_at)?,
            updated_at: domain_time(d.updated_at)?,
            version: d.version,
        })
    }
}
