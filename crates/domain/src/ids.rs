//! Typed identifiers.
//!
//! Every id is a UUIDv7: time-ordered, so sorting by id is sorting by creation time. Lists page on
//! the id alone, which gives a stable order with no duplicates or gaps while paging.

use std::fmt;
use std::str::FromStr;

/// Defines a newtype id over a UUIDv7 with `Display`, `FromStr` and transparent serde.
macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            pub fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Hyphenated lowercase: the textual order equals the byte order of the UUID.
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
            }
        }
    };
}

/// The text given is not a valid id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("is not a valid id")]
pub struct InvalidId;

define_id!(
    /// A business using Stockroom; every record belongs to exactly one.
    TenantId
);
define_id!(UserId);
define_id!(ProductId);
define_id!(VariantId);
define_id!(MovementId);
define_id!(OrderId);
define_id!(SupplierId);
define_id!(PurchaseOrderId);
define_id!(
    /// A place that holds stock: a warehouse, a shop, a third-party logistics site.
    LocationId
);
define_id!(TransferId);
define_id!(
    /// A checkout hold: units set aside for a customer while they pay.
    ReservationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_creation_and_round_trip_through_text() {
        let first = VariantId::new();
        let second = VariantId::new();
        assert!(first < second);
        assert!(first.to_string() < second.to_string());
        assert_eq!(first.to_string().parse::<VariantId>().unwrap(), first);
        assert_eq!("nope".parse::<VariantId>(), Err(InvalidId));
    }
}
