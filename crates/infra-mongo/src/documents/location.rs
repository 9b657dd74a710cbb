//! Locations and transfers as stored. A transfer's lines are embedded: a transfer is always read
//! and written whole, under its version.

use domain::ids::TenantId;
use domain::locations::models::Location;
use domain::transfers::models::{Transfer, TransferLine, TransferStatus};
use domain::values::{LocationCode, LocationPriority};
use domain::StoreError;
use mongodb::bson;
use serde::{Deserialize, Serialize};

use super::{bson_time, domain_time, parse, text, valid};
use crate::errors::corrupt;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LocationDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// Unique per tenant (index `tenant_code_unique`).
    pub code: String,
    pub is_default: bool,
    pub active: bool,
    pub priority: i64,
    pub created_at: bson::DateTime,
    pub updated_at: bson::DateTime,
}

impl LocationDoc {
    /// The document of `location`, stored under `tenant` whatever the location says.
    pub(crate) fn of(tenant: &TenantId, location: &Location) -> Self {
        Self {
            id: location.id.to_string(),
            tenant_id: tenant.to_string(),
            name: location.name.as_str().to_owned(),
            code: location.code.as_str().to_owned(),
            is_default: location.is_default,
            active: location.active,
            priority: location.priority.get(),
            created_at: bson_time(location.created_at),
            updated_at: bson_time(location.updated_at),
        }
    }
}

impl TryFrom<LocationDoc> for Location {
    type Error = StoreError;

    fn try_from(d: LocationDoc) -> Result<Self, StoreError> {
        Ok(Location {
            id: parse(&d.id, "location id")?,
            tenant_id: parse(&d.tenant_id, "location tenant id")?,
            name: text(d.name, "location name")?,
            code: valid(LocationCode::new(&d.code), "location code")?,
            is_default: d.is_default,
            active: d.active,
            priority: valid(LocationPriority::new(d.priority), "location priority")?,
            created_at: domain_time(d.created_at)?,
            updated_at: domain_time(d.updated_at)?,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TransferLineDoc {
    pub variant_id: String,
    pub quantity: i64,
    pub received: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TransferDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    pub from_location_id: String,
    pub to_location_id: String,
    pub status: String,
    pub lines: Vec<TransferLineDoc>,
    pub created_by: String,
    pub created_at: bson::DateTime,
    pub updated_at: bson::DateTime,
    pub shipped_at: Option<bson::DateTime>,
    /// Optimistic-concurrency version: replaced only if it still has the expected value.
    pub version: i64,
}

impl TransferDoc {
    /// The document of `transfer`, stored under `tenant` whatever the transfer says.
    pub(crate) fn of(tenant: &TenantId, t: &Transfer) -> Self {
        Self {
            id: t.id.to_string(),
            tenant_id: tenant.to_string(),
            from_location_id: t.from_location_id.to_string(),
            to_location_id: t.to_location_id.to_string(),
            status: t.status.as_str().to_owned(),
            lines: t
                .lines
                .iter()
                .map(|l| TransferLineDoc {
                    variant_id: l.variant_id.to_string(),
                    quantity: l.quantity,
                    received: l.received,
                })
                .collect(),
            created_by: t.created_by.to_string(),
            created_at: bson_time(t.created_at),
            updated_at: bson_time(t.updated_at),
            shipped_at: t.shipped_at.map(bson_time),
            version: t.version,
        }
    }
}

impl TryFrom<TransferDoc> for Transfer {
    type Error = StoreError;

    fn try_from(d: TransferDoc) -> Result<Self, StoreError> {
        Ok(Transfer {
            id: parse(&d.id, "transfer id")?,
            tenant_id: parse(&d.tenant_id, "transfer tenant id")?,
            from_location_id: parse(&d.from_location_id, "transfer source location id")?,
            to_location_id: parse(&d.to_location_id, "transfer destination location id")?,
            status: TransferStatus::parse(&d.status)
                .ok_or_else(|| corrupt("transfer status", &d.status))?,
            lines: d
                .lines
                .into_iter()
                .map(|l| {
                    Ok(TransferLine {
                        variant_id: parse(&l.variant_id, "transfer line variant id")?,
                        quantity: l.quantity,
                        received: l.received,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            created_by: parse(&d.created_by, "transfer created_by")?,
            created_at: domain_time(d.created_at)?,
            updated_at: domain_time(d.updated_at)?,
            shipped_at: d.shipped_at.map(domain_time).transpose()?,
            version: d.version,
        })
    }
}
