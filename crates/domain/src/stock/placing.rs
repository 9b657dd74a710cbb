//! Placing a write whose units are allocated from a reading: an order, a checkout hold.
//!
//! Both read their variants, allocate the demand over the sources it may draw on
//! ([`crate::stock::allocate`]), refuse at once what the reading shows short, and commit the
//! write the allocation implies. When the ledger refuses it short although the reading allowed
//! it, another writer took the units in between; when the write may draw on several locations, a
//! fresh reading may find them elsewhere, so it is allocated again, at most
//! [`ALLOCATION_ATTEMPTS`] times in all. One place decides this, for every such write.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::allocate::Allocations;
use super::models::{LedgerError, LedgerWrite};
use super::reserve::ledger_error;
use crate::catalog::models::Variant;
use crate::error::{DomainError, Shortage};
use crate::ids::{TenantId, VariantId};
use crate::orders::aggregate::require_known;
use crate::orders::models::LineRequest;
use crate::services::Deps;

/// How many times a write that may draw on any location is allocated before a shortage is
/// final.
pub const ALLOCATION_ATTEMPTS: u32 = 3;

/// One write to place: the tenant, the requested lines (each naming a variant), and whether a
/// refusal may be a stale reading worth allocating again.
pub(crate) struct Placing<'a> {
    pub deps: &'a Deps,
    pub tenant: TenantId,
    pub lines: &'a [LineRequest],
    pub retry: bool,
}

impl Placing<'_> {
    /// Reads the lines' variants, refuses unknown ones by line (422) and what `allocate` finds
    /// short (409), builds the write (refused as it says) with `build` at the instant it runs, and commits it. `Ok(Err)`
    /// carries the ledger's shortages of the last attempt, for the caller to phrase.
    pub async fn run<T>(
        &self,
        allocate: impl Fn(&HashMap<VariantId, Variant>) -> Result<Allocations, Vec<Shortage>>,
        mut build: impl FnMut(
            &HashMap<VariantId, Variant>,
            &Allocations,
            DateTime<Utc>,
        ) -> Result<(T, LedgerWrite), DomainError>,
    ) -> Result<Result<T, Vec<Shortage>>, DomainError> {
        let ids: Vec<VariantId> = self.lines.iter().map(|l| l.variant_id).collect();
        let mut attempt = 1;
        loop {
            let variants = self.deps.variants_by_id(&self.tenant, &ids).await?;
            require_known(self.lines, |id| variants.contains_key(id))?;
            // Refuse from the current reading without taking locks when stock is clearly short;
            // the ledger's conditional write below remains the guard.
            let allocations = allocate(&variants).map_err(DomainError::InsufficientStock)?;
            let (placed, write) = build(&variants, &allocations, self.deps.clock.now())?;
            match self.deps.commit_stock(&self.tenant, write).await? {
                Ok(_) => return Ok(Ok(placed)),
                Err(LedgerError::Insufficient(_))
                    if self.retry && attempt < ALLOCATION_ATTEMPTS =>
                {
                    attempt += 1;
                }
                Err(LedgerError::Insufficient(short)) => return Ok(Err(short)),
                Err(LedgerError::VariantMissing(id)) => {
                    return Err(require_known(self.lines, |v| *v != id).unwrap_err())
                }
                Err(e) => return Err(ledger_error(e)),
            }
        }
    }
}
