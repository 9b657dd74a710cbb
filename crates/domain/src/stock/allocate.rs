//! Where an order's units come from.
//!
//! An order that names a location is served from that location alone. One that names none draws
//! each line from the tenant's active locations in [allocation
//! order](crate::locations::models::allocation_order) — the default first, then by priority, then
//! by code — taking what each holds until the line is served, so a line may be split. The
//! allocation is computed from a reading of the levels; the ledger's conditional write on every
//! level it names remains the guard, and a write refused because a reading went stale is
//! allocated again from a fresh one (see the order service).

use std::collections::{BTreeMap, HashMap};

use crate::catalog::models::Variant;
use crate::error::Shortage;
use crate::ids::{LocationId, VariantId};
use crate::stock::reserve::Demand;

/// The locations a write may draw on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sources {
    /// Only this location.
    At(LocationId),
    /// These locations, in this order.
    Any(Vec<LocationId>),
}

impl Sources {
    fn locations(&self) -> &[LocationId] {
        match self {
            Sources::At(id) => std::slice::from_ref(id),
            Sources::Any(ids) => ids,
        }
    }
}

/// Each variant's units as `(location, quantity)` pairs in the order they are drawn; the
/// quantities of a variant sum to its demand.
pub type Allocations = BTreeMap<VariantId, Vec<(LocationId, i64)>>;

/// Allocates `demand` over `sources` from the levels in `variants` (every demanded variant MUST be
/// there), or lists every variant that cannot be served in full, with what the sources hold.
pub fn allocate(
    demand: &Demand,
    variants: &HashMap<VariantId, Variant>,
    sources: &Sources,
) -> Result<Allocations, Vec<Shortage>> {
    let mut allocations = Allocations::new();
    let mut shortages = Vec::new();
    for (variant_id, wanted) in demand.iter() {
        let variant = &variants[variant_id];
        let mut left = *wanted;
        let mut drawn = Vec::new();
        for location in sources.locations() {
            if left == 0 {
                break;
            }
            let take = variant.stock_at(location).min(left);
            if take > 0 {
                drawn.push((*location, take));
                left -= take;
            }
        }
        if left > 0 {
            shortages.push(Shortage {
                variant_id: *variant_id,
                location_id: match sources {
                    Sources::At(id) => Some(*id),
                    Sources::Any(_) => None,
                },
                requested: *wanted,
                available: wanted - left,
            });
        } else {
            allocations.insert(*variant_id, drawn);
        }
    }
    if shortages.is_empty() {
        Ok(allocations)
    } else {
        Err(shortages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TenantId;

    fn stocked(levels: &[(LocationId, i64)]) -> Variant {
        crate::testing::stocked(TenantId::new(), levels)
    }

    #[test]
    fn a_line_is_drawn_in_source_order_and_split_when_it_must() {
        let (a, b, c) = (LocationId::new(), LocationId::new(), LocationId::new());
        let v = stocked(&[(a, 2), (b, 0), (c, 5)]);
        let id = v.id;
        let variants = HashMap::from([(id, v)]);
        let demand = Demand::from_lines([(id, 4)]);
        let got = allocate(&demand, &variants, &Sources::Any(vec![a, b, c])).unwrap();
        assert_eq!(got[&id], vec![(a, 2), (c, 2)]);
        let got = allocate(&demand, &variants, &Sources::Any(vec![c, a])).unwrap();
        assert_eq!(got[&id], vec![(c, 4)]);
    }

    #[test]
    fn a_named_location_serves_alone_and_its_shortage_names_it() {
        let (a, b) = (LocationId::new(), LocationId::new());
        let v = stocked(&[(a, 1), (b, 100)]);
        let id = v.id;
        let variants = HashMap::from([(id, v)]);
        let short =
            allocate(&Demand::from_lines([(id, 2)]), &variants, &Sources::At(a)).unwrap_err();
        assert_eq!(
            short,
            vec![Shortage {
                variant_id: id,
                location_id: Some(a),
                requested: 2,
                available: 1
            }]
        );
    }

    #[test]
    fn every_short_variant_is_listed_with_what_all_sources_hold() {
        let (a, b) = (LocationId::new(), LocationId::new());
        let x = stocked(&[(a, 1), (b, 1)]);
        let y = stocked(&[(b, 3)]);
        let (xi, yi) = (x.id, y.id);
        let variants = HashMap::from([(xi, x), (yi, y)]);
        let demand = Demand::from_lines([(xi, 3), (yi, 4)]);
        let short = allocate(&demand, &variants, &Sources::Any(vec![a, b])).unwrap_err();
        assert_eq!(short.len(), 2);
        assert!(short.iter().all(|s| s.location_id.is_none()));
        assert_eq!(short.iter().map(|s| s.available).sum::<i64>(), 2 + 3);
    }
}
