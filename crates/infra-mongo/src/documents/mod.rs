//! The stored shape of each record, and its conversion to and from the domain's types.
//!
//! Documents are plain serde structs with camelCase field names. Ids are stored as their UUIDv7
//! text, amounts and quantities as Int64, times as BSON DateTime (milliseconds), and enums as the
//! same upper-case words the API uses. Reading a document back re-validates it into domain values;
//! a document that no longer validates is reported as corrupt rather than passed on.
//! Length limits are not re-applied on read: they guard input, and stored data was checked then.

mod catalog;
mod idempotency;
mod location;
mod movement;
mod order;
mod purchasing;
mod reservation;
mod tenancy;

pub(crate) use catalog::{attributes_bson, level_path, HoldDoc, KeptClaim, ProductDoc, VariantDoc};
pub(crate) use idempotency::IdempotencyDoc;
pub(crate) use location::{LocationDoc, TransferDoc};
pub(crate) use movement::MovementDoc;
pub(crate) use order::OrderDoc;
pub(crate) use purchasing::{PurchaseOrderDoc, SupplierDoc};
pub(crate) use reservation::ReservationDoc;
pub(crate) use tenancy::{TenantDoc, UserDoc};

use std::str::FromStr;

use chrono::{DateTime, Utc};
use domain::values::Text;
use domain::StoreError;
use mongodb::bson;

use crate::errors::corrupt;

/// A domain time as a BSON DateTime (millisecond precision, like the domain's clock).
pub(crate) fn bson_time(t: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(t.timestamp_millis())
}

/// The stored `updatedAt` a record at `version` has (see `domain::precondition`): a version is
/// that time in milliseconds.
pub(crate) fn version_time(version: domain::precondition::Version) -> bson::DateTime {
    bson::DateTime::from_millis(version)
}

/// A stored BSON DateTime as a domain time.
pub(crate) fn domain_time(t: bson::DateTime) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(t.timestamp_millis())
        .ok_or_else(|| corrupt("timestamp", t.timestamp_millis()))
}

/// Parses a stored id (or any `FromStr` value), naming `what` if it is corrupt.
pub(crate) fn parse<T: FromStr>(raw: &str, what: &str) -> Result<T, StoreError> {
    raw.parse().map_err(|_| corrupt(what, raw))
}

/// Stored text back into [`Text`], without re-applying the input length limit.
pub(crate) fn text(raw: String, what: &str) -> Result<Text, StoreError> {
    Text::new(&raw, usize::MAX).map_err(|e| corrupt(what, e))
}

/// Optional stored text back into [`Text`].
pub(crate) fn optional_text(raw: Option<String>, what: &str) -> Result<Option<Text>, StoreError> {
    raw.map(|r| text(r, what)).transpose()
}

/// Rebuilds a validated value, naming `what` if the stored form no longer validates.
pub(crate) fn valid<T, E: std::fmt::Display>(
    result: Result<T, E>,
    what: &str,
) -> Result<T, StoreError> {
    result.map_err(|e| corrupt(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_at_millisecond_precision() {
        let t = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(domain_time(bson_time(t)).unwrap(), t);
    }

    #[test]
    fn stored_text_is_not_held_to_input_limits() {
        let long = "x".repeat(5000);
        assert_eq!(text(long.clone(), "name").unwrap().as_str(), long);
        assert!(text(String::new(), "name").is_err());
    }
}
