//! Validated values. Each has a private field and a fallible constructor, so holding one is proof
//! that it is valid; services never re-check raw input.

use std::fmt;

use serde::Serialize;

/// Why a raw value was refused; the message completes "<field> …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

impl ValueError {
    fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// Largest quantity a single line or adjustment may move; keeps sums far from overflow.
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// Largest price or cost in minor units (10^13 cents is 100 billion in major units).
pub const MAX_MONEY: i64 = 10_000_000_000_000;
/// Longest SKU, in characters (all ASCII).
pub const SKU_MAX_LEN: usize = 64;
/// Longest location code, in characters (all ASCII).
pub const LOCATION_CODE_MAX_LEN: usize = 32;
/// Longest email address, in bytes after lowercasing.
pub const EMAIL_MAX_LEN: usize = 254;
/// Shortest tenant slug, in characters (all ASCII).
pub const SLUG_MIN_LEN: usize = 3;
/// Longest tenant slug, in characters (all ASCII).
pub const SLUG_MAX_LEN: usize = 48;
/// Longest name ([`Text::name`]), in characters after trimming.
pub const NAME_MAX_CHARS: usize = 200;
/// Longest description, reason or note ([`Text::long`]), in characters after trimming.
pub const LONG_TEXT_MAX_CHARS: usize = 2000;
/// Shortest password, in characters.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest password, in characters.
pub const PASSWORD_MAX_CHARS: usize = 256;
/// Most entries of a variant's attributes.
pub const ATTRIBUTES_MAX_ENTRIES: usize = 32;
/// Longest attribute key, in characters.
pub const ATTRIBUTE_KEY_MAX_CHARS: usize = 64;
/// Longest attribute value, in characters.
pub const ATTRIBUTE_VALUE_MAX_CHARS: usize = 256;

/// A stock-keeping unit: 1–[`SKU_MAX_LEN`] characters of letters, digits, `-`, `_`, `.` or `/`,
/// unique per tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Sku(String);

impl Sku {
    pub fn new(raw: &str) -> Result<Self, ValueError> {
        let s = raw.trim();
        if s.is_empty() || s.len() > SKU_MAX_LEN {
            return Err(ValueError::new(format!(
                "must be 1 to {SKU_MAX_LEN} characters"
            )));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        {
            return Err(ValueError::new(
                "may contain only letters, digits, '-', '_', '.' and '/'",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A strictly positive number of units (1 ..= [`MAX_QUANTITY`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Quantity(i64);

impl Quantity {
    pub fn new(n: i64) -> Result<Self, ValueError> {
        if n < 1 {
            return Err(ValueError::new("must be at least 1"));
        }
        if n > MAX_QUANTITY {
            return Err(ValueError::new(format!("must be at most {MAX_QUANTITY}")));
        }
        Ok(Self(n))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A signed stock change for an adjustment: non-zero, |n| ≤ [`MAX_QUANTITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct StockDelta(i64);

impl StockDelta {
    pub fn new(n: i64) -> Result<Self, ValueError> {
        if n == 0 {
            return Err(ValueError::new("must not be zero"));
        }
        if n.abs() > MAX_QUANTITY {
            return Err(ValueError::new(format!(
                "must be between -{MAX_QUANTITY} and {MAX_QUANTITY}"
            )));
        }
        Ok(Self(n))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A location's short code: 1–[`LOCATION_CODE_MAX_LEN`] characters of letters, digits, `-` or `_`,
/// unique per tenant.
/// Codes compare case-sensitively, as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct LocationCode(String);

impl LocationCode {
    pub fn new(raw: &str) -> Result<Self, ValueError> {
        let s = raw.trim();
        if s.is_empty() || s.len() > LOCATION_CODE_MAX_LEN {
            return Err(ValueError::new(format!(
                "must be 1 to {LOCATION_CODE_MAX_LEN} characters"
            )));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        {
            return Err(ValueError::new(
                "may contain only letters, digits, '-' and '_'",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a location comes in the allocation of an order that names none: lower first
/// (0 ..= [`MAX_PRIORITY`]); the default location always comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct LocationPriority(i64);

/// Largest allocation priority of a location.
pub const MAX_PRIORITY: i64 = 1000;

impl LocationPriority {
    /// The priority of a location created without one.
    pub const DEFAULT: LocationPriority = LocationPriority(100);

    pub fn new(n: i64) -> Result<Self, ValueError> {
        if !(0..=MAX_PRIORITY).contains(&n) {
            return Err(ValueError::new(format!(
                "must be between 0 and {MAX_PRIORITY}"
            )));
        }
        Ok(Self(n))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A non-negative stock level, e.g. a reorder level or an expected stock (0 ..= [`MAX_QUANTITY`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct StockLevel(i64);

impl StockLevel {
    pub fn new(n: i64) -> Result<Self, ValueError> {
        if !(0..=MAX_QUANTITY).contains(&n) {
            return Err(ValueError::new(format!(
                "must be between 0 and {MAX_QUANTITY}"
            )));
        }
        Ok(Self(n))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// An amount of money in integer minor units (cents), 0 ..= [`MAX_MONEY`]. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn new(minor_units: i64) -> Result<Self, ValueError> {
        if !(0..=MAX_MONEY).contains(&minor_units) {
            return Err(ValueError::new(format!(
                "must be between 0 and {MAX_MONEY} minor units"
            )));
        }
        Ok(Self(minor_units))
    }

    pub fn minor_units(self) -> i64 {
        self.0
    }

    /// `self × n` (a line total: unit price or cost × quantity), refused when it would pass
    /// [`MAX_MONEY`] or `n` is negative. Bounded quantities and prices alone do not keep a
    /// product in range (10^13 × 10^9 is far past `i64`), and a total stored above the maximum
    /// could never be read back as `Money`, so every product is checked here, once.
    pub fn checked_times(self, n: i64) -> Result<Money, ValueError> {
        self.0
            .checked_mul(n)
            .and_then(|m| Money::new(m).ok())
            .ok_or_else(|| {
                ValueError::new(format!(
                    "times the unit amount of {} minor units comes to more than {MAX_MONEY} minor units",
                    self.0
                ))
            })
    }

    /// `self + other` (a running total), refused when it would pass [`MAX_MONEY`].
    pub fn checked_plus(self, other: Money) -> Result<Money, ValueError> {
        self.0
            .checked_add(other.0)
            .and_then(|m| Money::new(m).ok())
            .ok_or_else(|| ValueError::new(format!("must come to at most {MAX_MONEY} minor units")))
    }
}

/// An email address, stored lowercased; one `@` with text on both sides, no spaces, ≤
/// [`EMAIL_MAX_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn new(raw: &str) -> Result<Self, ValueError> {
        let s = raw.trim().to_lowercase();
        let valid = s.len() <= EMAIL_MAX_LEN
            && !s.chars().any(char::is_whitespace)
            && matches!(s.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@')
                    && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
        if !valid {
            return Err(ValueError::new("must be a valid email address"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tenant's URL name: [`SLUG_MIN_LEN`]–[`SLUG_MAX_LEN`] chars of lowercase letters, digits and
/// inner hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TenantSlug(String);

impl TenantSlug {
    pub fn new(raw: &str) -> Result<Self, ValueError> {
        let s = raw.trim();
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !(SLUG_MIN_LEN..=SLUG_MAX_LEN).contains(&s.len())
            || !ok_chars
            || s.starts_with('-')
            || s.ends_with('-')
        {
            return Err(ValueError::new(format!(
                "must be {SLUG_MIN_LEN} to {SLUG_MAX_LEN} lowercase letters, digits or inner hyphens"
            )));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A trimmed, non-empty piece of text of bounded length (names, reasons, notes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    pub fn new(raw: &str, max_chars: usize) -> Result<Self, ValueError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(ValueError::new("must not be empty"));
        }
        if s.chars().count() > max_chars {
            return Err(ValueError::new(format!(
                "must be at most {max_chars} characters"
            )));
        }
        Ok(Self(s.to_owned()))
    }

    /// A name: 1–[`NAME_MAX_CHARS`] characters.
    pub fn name(raw: &str) -> Result<Self, ValueError> {
        Self::new(raw, NAME_MAX_CHARS)
    }

    /// A description, reason or note: 1–[`LONG_TEXT_MAX_CHARS`] characters.
    pub fn long(raw: &str) -> Result<Self, ValueError> {
        Self::new(raw, LONG_TEXT_MAX_CHARS)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A plain-text password as typed: [`PASSWORD_MIN_CHARS`]–[`PASSWORD_MAX_CHARS`] characters. Its
/// `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(raw: &str) -> Result<Self, ValueError> {
        let n = raw.chars().count();
        if n < PASSWORD_MIN_CHARS {
            return Err(ValueError::new(format!(
                "must be at least {PASSWORD_MIN_CHARS} characters"
            )));
        }
        if n > PASSWORD_MAX_CHARS {
            return Err(ValueError::new(format!(
                "must be at most {PASSWORD_MAX_CHARS} characters"
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A stored password hash (PHC string). Opaque to the domain.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_phc(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// Variant attributes such as size or colour: ≤ [`ATTRIBUTES_MAX_ENTRIES`] entries, keys of
/// 1–[`ATTRIBUTE_KEY_MAX_CHARS`] characters (not blank), values of ≤ [`ATTRIBUTE_VALUE_MAX_CHARS`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Attributes(std::collections::BTreeMap<String, String>);

impl Attributes {
    pub fn new(map: std::collections::BTreeMap<String, String>) -> Result<Self, ValueError> {
        if map.len() > ATTRIBUTES_MAX_ENTRIES {
            return Err(ValueError::new(format!(
                "may have at most {ATTRIBUTES_MAX_ENTRIES} entries"
            )));
        }
        for (k, v) in &map {
            if k.trim().is_empty() || k.chars().count() > ATTRIBUTE_KEY_MAX_CHARS {
                return Err(ValueError::new(format!(
                    "keys must be 1 to {ATTRIBUTE_KEY_MAX_CHARS} characters"
                )));
            }
            if v.chars().count() > ATTRIBUTE_VALUE_MAX_CHARS {
                return Err(ValueError::new(format!(
                    "values must be at most {ATTRIBUTE_VALUE_MAX_CHARS} characters"
                )));
            }
        }
        Ok(Self(map))
    }

    pub fn as_map(&self) -> &std::collections::BTreeMap<String, String> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `$t` implements `Deserialize`, decided at compile time by method resolution: the
    /// by-value impl applies only when the bound holds, else the by-reference fallback does.
    macro_rules! deserializable {
        ($t:ty) => {{
            struct Probe<T>(std::marker::PhantomData<T>);
            // Only one of the two answers is used at each expansion.
            #[allow(dead_code)]
            trait Yes {
                fn answer(&self) -> bool {
                    true
                }
            }
            #[allow(dead_code)]
            trait No {
                fn answer(&self) -> bool {
                    false
                }
            }
            impl<T: serde::de::DeserializeOwned> Yes for Probe<T> {}
            impl<T> No for &Probe<T> {}
            (&Probe::<$t>(std::marker::PhantomData)).answer()
        }};
    }

    #[test]
    fn validated_values_cannot_be_deserialized_around_their_constructors() {
        assert!(deserializable!(String), "the probe must see a type that is");
        assert!(!deserializable!(Sku));
        assert!(!deserializable!(Quantity));
        assert!(!deserializable!(StockDelta));
        assert!(!deserializable!(StockLevel));
        assert!(!deserializable!(Money));
        assert!(!deserializable!(EmailAddress));
        assert!(!deserializable!(TenantSlug));
        assert!(!deserializable!(Text));
        assert!(!deserializable!(PasswordHash));
        assert!(!deserializable!(Attributes));
    }

    #[test]
    fn sku_is_trimmed_and_restricted() {
        assert_eq!(Sku::new("  TS-RED-M ").unwrap().as_str(), "TS-RED-M");
        assert!(Sku::new("").is_err());
        assert!(Sku::new("has space").is_err());
        assert!(Sku::new(&"x".repeat(65)).is_err());
    }

    #[test]
    fn quantities_are_positive_and_bounded() {
        assert!(Quantity::new(0).is_err());
        assert!(Quantity::new(-1).is_err());
        assert_eq!(Quantity::new(3).unwrap().get(), 3);
        assert!(Quantity::new(MAX_QUANTITY + 1).is_err());
        assert!(StockDelta::new(0).is_err());
        assert_eq!(StockDelta::new(-4).unwrap().get(), -4);
    }

    #[test]
    fn money_refuses_negative_amounts() {
        assert!(Money::new(-1).is_err());
        assert_eq!(
            Money::new(1999)
                .unwrap()
                .checked_times(3)
                .unwrap()
                .minor_units(),
            5997
        );
    }

    #[test]
    fn products_and_sums_of_money_stay_within_the_largest_amount() {
        let max = Money::new(MAX_MONEY).unwrap();
        assert_eq!(max.checked_times(1), Ok(max));
        assert!(max.checked_times(2).is_err(), "past the limit");
        assert!(max.checked_times(i64::MAX).is_err(), "past i64");
        assert!(Money::new(1).unwrap().checked_times(-1).is_err());
        assert_eq!(Money::ZERO.checked_times(MAX_QUANTITY), Ok(Money::ZERO));
        let one = Money::new(1).unwrap();
        assert!(max.checked_plus(one).is_err());
        assert_eq!(
            Money::new(MAX_MONEY - 1).unwrap().checked_plus(one),
            Ok(max)
        );
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            EmailAddress::new("Ann@Example.COM").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in ["", "ann", "@x.io", "ann@", "a b@x.io", "ann@x", "a@@x.io"] {
            assert!(EmailAddress::new(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn slugs_are_lowercase_words() {
        assert!(TenantSlug::new("acme-shop").is_ok());
        for bad in ["ab", "Acme", "-acme", "acme-", "ac me"] {
            assert!(TenantSlug::new(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn passwords_never_print() {
        let p = Password::new("correct horse").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
        assert!(Password::new("short").is_err());
    }
}
