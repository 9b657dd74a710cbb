//! Reservations as stored, lines embedded (each with where its units are held): a reservation is
//! always read and written whole, under its version.
//!
//! The status is stored as written — ACTIVE until it is confirmed, released or swept, even once
//! `expiresAt` has passed — and judged at the instant of a read where that matters (lists filter
//! on `status` and `expiresAt` together). The holds themselves live in the variant documents
//! (see `catalog`); a reservation's allocations say where they are.

use domain::ids::TenantId;
use domain::reservations::models::{
    HoldAllocation, Reservation, ReservationLine, ReservationStatus,
};
use domain::values::Sku;
use domain::StoreError;
use mongodb::bson;
use serde::{Deserialize, Serialize};

use super::{bson_time, domain_time, optional_text, parse, valid};
use crate::errors::corrupt;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReservationLineDoc {
    pub variant_id: String,
    pub sku: String,
    pub quantity: i64,
    /// Where the line's units are held.
    pub allocations: Vec<HoldAllocationDoc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HoldAllocationDoc {
    pub location_id: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReservationDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    /// As stored: ACTIVE, CONFIRMED, RELEASED or EXPIRED (once swept).
    pub status: String,
    pub lines: Vec<ReservationLineDoc>,
    pub reference: Option<String>,
    /// The instant the holds stop counting (milliseconds).
    pub expires_at: bson::DateTime,
    pub order_id: Option<String>,
    pub created_by: String,
    pub created_at: bson::DateTime,
    pub updated_at: bson::DateTime,
    /// Optimistic-concurrency version: replaced only if it still has the expected value.
    pub version: i64,
}

impl ReservationDoc {
    /// The document of `reservation`, stored under `tenant` whatever the reservation says.
    pub(crate) fn of(tenant: &TenantId, r: &Reservation) -> Self {
        Self {
            id: r.id.to_string(),
            tenant_id: tenant.to_string(),
            status: r.status.as_str().to_owned(),
            lines: r
                .lines
                .iter()
                .map(|l| ReservationLineDoc {
                    variant_id: l.variant_id.to_string(),
                    sku: l.sku.as_str().to_owned(),
                    quantity: l.quantity,
                    allocations: l
                        .allocations
                        .iter()
                        .map(|a| HoldAllocationDoc {
                            location_id: a.location_id.to_string(),
                            quantity: a.quantity,
                        })
                        .collect(),
                })
                .collect(),
            reference: r.reference.as_ref().map(|t| t.as_str().to_owned()),
            expires_at: bson_time(r.expires_at),
            order_id: r.order_id.map(|id| id.to_string()),
            created_by: r.created_by.to_string(),
            created_at: bson_time(r.created_at),
            updated_at: bson_time(r.updated_at),
            version: r.version,
        }
    }
}

impl TryFrom<ReservationLineDoc> for ReservationLine {
    type Error = StoreError;

    fn try_from(l: ReservationLineDoc) -> Result<Self, StoreError> {
        Ok(ReservationLine {
            variant_id: parse(&l.variant_id, "reservation line variant id")?,
            sku: valid(Sku::new(&l.sku), "reservation line SKU")?,
            quantity: l.quantity,
            allocations: l
                .allocations
                .into_iter()
                .map(|a| {
                    Ok(HoldAllocation {
                        location_id: parse(&a.location_id, "reservation allocation location id")?,
                        quantity: a.quantity,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
        })
    }
}

impl TryFrom<ReservationDoc> for Reservation {
    type Error = StoreError;

    fn try_from(d: ReservationDoc) -> Result<Self, StoreError> {
        Ok(Reservation {
            id: parse(&d.id, "reservation id")?,
            tenant_id: parse(&d.tenant_id, "reservation tenant id")?,
            status: ReservationStatus::parse(&d.status)
                .ok_or_else(|| corrupt("reservation status", &d.status))?,
            lines: d
                .lines
                .into_iter()
                .map(ReservationLine::try_from)
                .collect::<Result<_, _>>()?,
            reference: optional_text(d.reference, "reservation reference")?,
            expires_at: domain_time(d.expires_at)?,
            order_id: d
                .order_id
                .map(|id| parse(&id, "reservation order id"))
                .transpose()?,
            created_by: parse(&d.created_by, "reservation created_by")?,
            created_at: domain_time(d.created_at)?,
            updated_at: domain_time(d.updated_at)?,
            version: d.version,
        })
    }
}
