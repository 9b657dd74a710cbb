//! Bodies of checkout reservations (holds).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use domain::error::{DomainError, FieldErrors};
use domain::ids::{LocationId, VariantId};
use domain::reservations::models::{
    Confirmation, HoldRequest, NewReservation, Reservation, ReservationFilter, ReservationStatus,
    Ttl,
};
use domain::values::{Quantity, Text};

use super::orders::{customer_into_domain, CustomerDto, MAX_LINES};
use super::{id, optional_text};
use crate::http::query::optional;
use crate::page_dto;

/// One line of a hold request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoldLineDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", format = Uuid)]
    pub variant_id: String,
    #[schema(example = 2, minimum = 1, maximum = 1000000000)]
    pub quantity: i64,
    /// Hold this line's units at this active location alone. Absent: allocate across the active
    /// locations, the default first, then by priority. Lines naming the same variant must name
    /// the same location (or none).
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10", format = Uuid)]
    pub location_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateReservationRequest {
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<HoldLineDto>,
    /// How long the units are held, 1–86400 seconds; the hold expires `ttlSeconds` after it is
    /// placed unless it is confirmed, released or extended first.
    #[schema(example = 900, minimum = 1, maximum = 86400)]
    pub ttl_seconds: i64,
    /// Your own reference: a cart or checkout id (up to 200 characters; blank means none).
    #[schema(example = "cart-7f3a", max_length = 200)]
    pub reference: Option<String>,
}

/// A `ttlSeconds` field, named when it is out of bounds.
fn ttl(e: &mut FieldErrors, seconds: i64) -> Option<Ttl> {
    match Ttl::new(seconds) {
        Ok(ttl) => Some(ttl),
        Err(message) => {
            e.add("ttlSeconds", message);
            None
        }
    }
}

impl CreateReservationRequest {
    pub fn into_domain(self) -> Result<NewReservation, DomainError> {
        let mut e = FieldErrors::new();
        if self.lines.is_empty() {
            e.add("lines", "must have at least one line");
        }
        if self.lines.len() > MAX_LINES {
            e.add("lines", format!("must have at most {MAX_LINES} lines"));
        }
        let lines = self
            .lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let variant_id =
                    id::<VariantId>(&mut e, &format!("lines[{i}].variantId"), &l.variant_id);
                let quantity = e.check(format!("lines[{i}].quantity"), Quantity::new(l.quantity));
                let location_id = match l.location_id.as_deref() {
                    Some(raw) => Some(id::<LocationId>(
                        &mut e,
                        &format!("lines[{i}].locationId"),
                        raw,
                    )?),
                    None => None,
                };
                Some(HoldRequest {
                    variant_id: variant_id?,
                    quantity: quantity?,
                    location_id,
                })
            })
            .collect();
        let ttl = ttl(&mut e, self.ttl_seconds);
        let reference = optional_text(&mut e, "reference", self.reference.as_deref(), Text::name);
        e.finish()?;
        Ok(NewReservation {
            lines,
            ttl: ttl.expect("checked"),
            reference,
        })
    }
}

/// What the order placed from a confirmed hold carries (as when placing an order).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmReservationRequest {
    pub customer: Option<CustomerDto>,
    /// Blank means none.
    #[schema(example = "gift wrap", max_length = 2000)]
    pub note: Option<String>,
}

impl ConfirmReservationRequest {
    pub fn into_domain(self) -> Result<Confirmation, DomainError> {
        let mut e = FieldErrors::new();
        let customer = customer_into_domain(&mut e, self.customer.as_ref());
        let note = optional_text(&mut e, "note", self.note.as_deref(), Text::long);
        e.finish()?;
        Ok(Confirmation { customer, note })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtendReservationRequest {
    /// The hold lasts this long from now instead (longer or shorter), 1–86400 seconds.
    #[schema(example = 600, minimum = 1, maximum = 86400)]
    pub ttl_seconds: i64,
}

impl ExtendReservationRequest {
    pub fn into_domain(self) -> Result<Ttl, DomainError> {
        let mut e = FieldErrors::new();
        let ttl = ttl(&mut e, self.ttl_seconds);
        e.finish()?;
        Ok(ttl.expect("checked"))
    }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatusDto {
    /// Holding its units until `expiresAt`.
    Active,
    /// Became the order `orderId`.
    Confirmed,
    /// Released: its units are available again.
    Released,
    /// `expiresAt` passed first: its units are available again.
    Expired,
}

impl From<ReservationStatus> for ReservationStatusDto {
    fn from(s: ReservationStatus) -> Self {
        match s {
            ReservationStatus::Active => ReservationStatusDto::Active,
            ReservationStatus::Confirmed => ReservationStatusDto::Confirmed,
            ReservationStatus::Released => ReservationStatusDto::Released,
            ReservationStatus::Expired => ReservationStatusDto::Expired,
        }
    }
}

/// Units of a line held at one location.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HoldAllocationDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b10")]
    pub location_id: String,
    #[schema(example = 2)]
    pub quantity: i64,
}

/// One variant of a reservation; request lines naming the same variant are merged.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationLineDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")]
    pub variant_id: String,
    #[schema(example = "TS-RED-M")]
    pub sku: String,
    #[schema(example = 2)]
    pub quantity: i64,
    /// Where the line's units are held; the quantities sum to `quantity`.
    pub allocations: Vec<HoldAllocationDto>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a90")]
    pub id: String,
    /// As it reads now: an ACTIVE hold whose `expiresAt` has passed reads EXPIRED at once.
    pub status: ReservationStatusDto,
    /// When the hold lapses unless confirmed, released or extended first.
    pub expires_at: DateTime<Utc>,
    pub lines: Vec<ReservationLineDto>,
    #[schema(required = true, example = "cart-7f3a")]
    pub reference: Option<String>,
    /// The order it was confirmed into.
    #[schema(required = true)]
    pub order_id: Option<String>,
    /// The user who placed the hold.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Reservation> for ReservationDto {
    fn from(r: &Reservation) -> Self {
        Self {
            id: r.id.to_string(),
            status: r.status.into(),
            expires_at: r.expires_at,
            lines: r
                .lines
                .iter()
                .map(|l| ReservationLineDto {
                    variant_id: l.variant_id.to_string(),
                    sku: l.sku.as_str().to_owned(),
                    quantity: l.quantity,
                    allocations: l
                        .allocations
                        .iter()
                        .map(|a| HoldAllocationDto {
                            location_id: a.location_id.to_string(),
                            quantity: a.quantity,
                        })
                        .collect(),
                })
                .collect(),
            reference: r.reference.as_ref().map(|t| t.as_str().to_owned()),
            order_id: r.order_id.map(|o| o.to_string()),
            created_by: r.created_by.to_string(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

page_dto!(ReservationPage, ReservationDto);

/// Filters of the reservation list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReservationQuery {
    /// ACTIVE, CONFIRMED, RELEASED or EXPIRED, as each reads now (an ACTIVE hold whose
    /// `expiresAt` has passed is EXPIRED).
    #[param(value_type = Option<ReservationStatusDto>)]
    pub status: Option<String>,
}

impl ReservationQuery {
    pub fn into_domain(&self) -> Result<ReservationFilter, DomainError> {
        let mut e = FieldErrors::new();
        let status = optional(
            &mut e,
            "status",
            self.status.as_deref(),
            |s| ReservationStatus::parse(s).ok_or(()),
            "must be ACTIVE, CONFIRMED, RELEASED or EXPIRED",
        );
        e.finish()?;
        Ok(ReservationFilter { status })
    }
}
