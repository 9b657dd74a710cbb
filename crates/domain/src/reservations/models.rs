//! Reservations and their state machine.
//!
//! ```text
//! ACTIVE ──confirm──▶ CONFIRMED (an order placed from the held units)
//!    ├──release──▶ RELEASED
//!    └──expiresAt passes──▶ EXPIRED
//! ```
//!
//! A reservation holds its units at the levels its lines were allocated to, each hold live
//! until `expires_at`. Expiry needs no write: from the instant `expires_at` passes the
//! reservation reads EXPIRED ([`Reservation::status_at`]) and its holds no longer count in any
//! read or conditional write of the stock. A sweep later stores the EXPIRED status and removes
//! the holds; it changes nothing anyone can observe except that status being stored.

use chrono::{DateTime, Duration, Utc};

use crate::ids::{LocationId, OrderId, ReservationId, TenantId, UserId, VariantId};
use crate::orders::models::{Customer, LineRequest};
use crate::values::{Quantity, Sku, Text};

impl HoldRequest {
    /// The line as an order line request (variant and quantity).
    pub fn line(&self) -> LineRequest {
        LineRequest {
            variant_id: self.variant_id,
            quantity: self.quantity,
        }
    }
}

/// The shortest and longest hold a reservation may ask for, in seconds.
pub const TTL_SECONDS_MIN: i64 = 1;
pub const TTL_SECONDS_MAX: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationStatus {
    Active,
    Confirmed,
    Released,
    Expired,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Active => "ACTIVE",
            ReservationStatus::Confirmed => "CONFIRMED",
            ReservationStatus::Released => "RELEASED",
            ReservationStatus::Expired => "EXPIRED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ReservationStatus::Active,
            ReservationStatus::Confirmed,
            ReservationStatus::Released,
            ReservationStatus::Expired,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// How long a hold lasts: between [`TTL_SECONDS_MIN`] and [`TTL_SECONDS_MAX`] seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl(i64);

impl Ttl {
    pub fn new(seconds: i64) -> Result<Self, String> {
        if (TTL_SECONDS_MIN..=TTL_SECONDS_MAX).contains(&seconds) {
            Ok(Self(seconds))
        } else {
            Err(format!(
                "must be between {TTL_SECONDS_MIN} and {TTL_SECONDS_MAX} seconds"
            ))
        }
    }

    pub fn seconds(self) -> i64 {
        self.0
    }

    /// The instant a hold made at `now` expires.
    pub fn from(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + Duration::seconds(self.0)
    }
}

/// Units of a line held at one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldAllocation {
    pub location_id: LocationId,
    pub quantity: i64,
}

/// One variant of a reservation; lines naming the same variant are merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationLine {
    pub variant_id: VariantId,
    pub sku: Sku,
    pub quantity: i64,
    /// Where the line's units are held; the quantities sum to `quantity`.
    pub allocations: Vec<HoldAllocation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    pub id: ReservationId,
    pub tenant_id: TenantId,
    /// The status as stored: ACTIVE until confirmed, released or swept, even once expired (see
    /// [`Reservation::status_at`]).
    pub status: ReservationStatus,
    pub lines: Vec<ReservationLine>,
    /// The caller's own reference (a cart or checkout id).
    pub reference: Option<Text>,
    pub expires_at: DateTime<Utc>,
    /// The order it was confirmed into.
    pub order_id: Option<OrderId>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, incremented on every change.
    pub version: i64,
}

impl Reservation {
    /// The status at `now`: an ACTIVE reservation whose `expires_at` has passed is EXPIRED from
    /// that instant, whether or not a sweep has stored it.
    pub fn status_at(&self, now: DateTime<Utc>) -> ReservationStatus {
        match self.status {
            ReservationStatus::Active if now >= self.expires_at => ReservationStatus::Expired,
            status => status,
        }
    }

    /// This reservation as it reads at `now` (its status made exact).
    pub fn as_of(mut self, now: DateTime<Utc>) -> Self {
        self.status = self.status_at(now);
        self
    }
}

/// One requested line of a new reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    pub variant_id: VariantId,
    pub quantity: Quantity,
    /// Hold this line's units at this location; `None`: allocate across active locations.
    /// Lines naming the same variant name the same location (or none).
    pub location_id: Option<LocationId>,
}

#[derive(Debug, Clone)]
pub struct NewReservation {
    pub lines: Vec<HoldRequest>,
    pub ttl: Ttl,
    pub reference: Option<Text>,
}

/// What the order placed from a confirmed reservation carries.
#[derive(Debug, Clone, Default)]
pub struct Confirmation {
    pub customer: Option<Customer>,
    pub note: Option<Text>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReservationFilter {
    /// Matched against the status at the instant of the read ([`Reservation::status_at`]).
    pub status: Option<ReservationStatus>,
}
