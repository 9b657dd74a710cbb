//! Conditional writes (`If-Match`): a client names the version of a resource it last read, and
//! its edit lands only if that is still the current version — so two integrations editing the
//! same record cannot silently overwrite each other.
//!
//! The rule is decided here and enforced by the store: a use case reads the record, refuses at
//! once when the client's [`Precondition`] does not admit the version it read, and otherwise
//! hands that version to the port, whose write is conditional on it (`UPDATE … WHERE version = ?`
//! / a filter on the version field). A write that loses the race between the read and the write
//! changes nothing and comes back as `StoreError::VersionConflict`, which the use case turns into
//! [`DomainError::PreconditionFailed`] — never a read-then-write decided in the service alone.
//!
//! Versions are integers. Purchase orders and transfers carry their optimistic `version`.
//! Products, variants, suppliers and locations use their `updated_at` in whole milliseconds (the
//! precision both stores keep): every edit sets it with [`next_edit_time`], which is strictly
//! later than the time it replaces, so the version changes on every edit even when two land in
//! the same millisecond or a clock steps back. Stock never touches a variant's `updated_at`, so a
//! variant's version covers its catalog fields only.

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::DomainError;

/// A record's version as a client sees it (the value inside its `ETag`).
pub type Version = i64;

/// What a client's write is conditional on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `If-Match: *` — any current version of an existing record.
    Any,
    /// `If-Match` with one or more entity tags: the current version must be one of them.
    OneOf(Vec<Version>),
}

impl Precondition {
    /// Whether a record now at `current` may be written under this precondition.
    pub fn admits(&self, current: Version) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::OneOf(versions) => versions.contains(&current),
        }
    }

    /// `Ok` when `precondition` (if any) admits `current`, else the refusal for `entity`.
    pub fn check(
        precondition: Option<&Precondition>,
        entity: &'static str,
        current: Version,
    ) -> Result<(), DomainError> {
        match precondition {
            Some(p) if !p.admits(current) => Err(DomainError::PreconditionFailed { entity }),
            _ => Ok(()),
        }
    }
}

/// The `updated_at` of an edit made at `now` to a record last edited at `previous`: `now` in
/// whole milliseconds, but at least one millisecond after `previous`, so that the version derived
/// from it ([`version_of`]) is strictly increasing per edit.
pub fn next_edit_time(previous: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let millis = now
        .timestamp_millis()
        .max(previous.timestamp_millis().saturating_add(1));
    DateTime::from_timestamp_millis(millis).unwrap_or(now + TimeDelta::milliseconds(1))
}

/// The version of a record whose edits are stamped by [`next_edit_time`].
pub fn version_of(updated_at: DateTime<Utc>) -> Version {
    updated_at.timestamp_millis()
}

/// How many times an edit that names no version (no `If-Match`, or `If-Match: *`) is re-applied
/// to a fresh read after another edit won the race between its read and its write. Each attempt
/// is still a conditional write, so an edit never overwrites one it did not see.
pub const EDIT_ATTEMPTS: usize = 5;

/// Whether an edit under `precondition` may be re-applied after losing a race: only when the
/// client named no particular version.
pub fn retries(precondition: Option<&Precondition>) -> bool {
    matches!(precondition, None | Some(Precondition::Any))
}

/// The outcome of a conditional write that lost the race to another edit.
pub fn lost_race(
    precondition: Option<&Precondition>,
    entity: &'static str,
    id: String,
) -> DomainError {
    if retries(precondition) {
        DomainError::VersionConflict { entity, id }
    } else {
        DomainError::PreconditionFailed { entity }
    }
}

/// The version a delete under `precondition` is conditional on: `None` without a particular
/// version; else the current one, refused at once when `precondition` does not admit it.
pub fn delete_guard(
    precondition: Option<&Precondition>,
    entity: &'static str,
    current: Option<Version>,
) -> Result<Option<Version>, DomainError> {
    match precondition {
        None | Some(Precondition::Any) => Ok(None),
        Some(p) => {
            let current = current.ok_or(DomainError::NotFound(entity))?;
            Precondition::check(Some(p), entity, current)?;
            Ok(Some(current))
        }
    }
}

/// A versioned aggregate's write (purchase order, transfer) that lost its version race: a
/// refusal of the client's `If-Match` when it named a version, else left as it is.
pub fn refused_if_named(precondition: Option<&Precondition>, e: DomainError) -> DomainError {
    match (precondition, e) {
        (Some(Precondition::OneOf(_)), DomainError::VersionConflict { entity, .. }) => {
            DomainError::PreconditionFailed { entity }
        }
        (_, e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_in_the_same_millisecond_still_moves_the_version() {
        let t = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let same = t + TimeDelta::microseconds(300);
        assert_eq!(version_of(next_edit_time(t, same)), version_of(t) + 1);
        let earlier = t - TimeDelta::seconds(5);
        assert_eq!(version_of(next_edit_time(t, earlier)), version_of(t) + 1);
        let later = t + TimeDelta::seconds(2);
        assert_eq!(next_edit_time(t, later), later);
    }

    #[test]
    fn a_precondition_admits_only_the_versions_it_names() {
        assert!(Precondition::Any.admits(7));
        assert!(Precondition::OneOf(vec![3, 7]).admits(7));
        assert!(!Precondition::OneOf(vec![3]).admits(7));
        assert!(Precondition::check(None, "product", 7).is_ok());
        assert!(matches!(
            Precondition::check(Some(&Precondition::OneOf(vec![6])), "product", 7),
            Err(DomainError::PreconditionFailed { entity: "product" })
        ));
    }
}
