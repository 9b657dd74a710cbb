//! The states a level's units are in.
//!
//! A level (one variant at one location) counts the units physically there — `on_hand`, the
//! ledger's number, equal to the sum of the level's movements — and, of those, the units already
//! claimed: `committed` to placed orders not yet fulfilled, and the states a later version adds
//! beside it. What is left is `available`: what a new order may take. Placing an order claims
//! units (available ↓, committed ↑) without moving any; fulfilling it moves them out (on hand ↓,
//! committed ↓) with the SALE.
//!
//! Every number is kept per level by the ledger's conditional write; a change states how each
//! moves ([`StockChange::delta`] for on hand, [`StockChange::claims`] for the rest) and
//! [`StockChange::requirements`] what the level must hold before it, so that no state and no
//! availability ever goes below zero.

use crate::stock::models::StockChange;

/// Units of on hand that are claimed, by state (or, on a change, how each state moves).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Claims {
    /// Units of placed orders not yet fulfilled.
    pub committed: i64,
}

impl Claims {
    /// Every claimed unit.
    pub fn sum(&self) -> i64 {
        self.committed
    }

    pub fn plus(&self, other: &Claims) -> Claims {
        Claims {
            committed: self.committed + other.committed,
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Claims::default()
    }
}

/// The units of a level, or of a variant in total, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StockState {
    /// Units physically there: Σ of the movements.
    pub on_hand: i64,
    pub claims: Claims,
}

impl StockState {
    pub fn new(on_hand: i64, claims: Claims) -> Self {
        Self { on_hand, claims }
    }

    /// What a new order may take: on hand less every claim.
    pub fn available(&self) -> i64 {
        self.on_hand - self.claims.sum()
    }

    pub fn plus(&self, other: &StockState) -> StockState {
        StockState {
            on_hand: self.on_hand + other.on_hand,
            claims: self.claims.plus(&other.claims),
        }
    }

    /// The sum of several states (a variant's total over its levels).
    pub fn total<'a>(states: impl IntoIterator<Item = &'a StockState>) -> StockState {
        states
            .into_iter()
            .fold(StockState::default(), |t, s| t.plus(s))
    }
}

/// What a level must hold before a change for the change to apply: each number at least this.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requirements {
    pub on_hand: i64,
    pub claims: Claims,
    pub available: i64,
}

impl Requirements {
    /// Whether a level holding nothing (one the variant never had) meets these.
    pub fn met_by_nothing(&self) -> bool {
        *self == Requirements::default()
    }
}

impl StockChange {
    /// How the level's available units move with this change.
    pub fn available_delta(&self) -> i64 {
        self.delta - self.claims.sum()
    }

    /// What the level must hold before this change: every number the change takes from, at
    /// least what it takes, so none goes below zero.
    pub fn requirements(&self) -> Requirements {
        let need = |delta: i64| (-delta).max(0);
        Requirements {
            on_hand: need(self.delta),
            claims: Claims {
                committed: need(self.claims.committed),
            },
            available: need(self.available_delta()),
        }
    }

    /// The level as this change leaves `before`.
    pub fn apply_to(&self, before: &StockState) -> StockState {
        StockState {
            on_hand: before.on_hand + self.delta,
            claims: before.claims.plus(&self.claims),
        }
    }

    /// The level as it was before this change left it `after`.
    pub fn undo_from(&self, after: &StockState) -> StockState {
        StockState {
            on_hand: after.on_hand - self.delta,
            claims: Claims {
                committed: after.claims.committed - self.claims.committed,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::ids::{LocationId, OrderId, UserId, VariantId};
    use crate::stock::models::Level;

    fn level() -> Level {
        Level::new(VariantId::new(), LocationId::new())
    }

    #[test]
    fn committing_takes_from_available_and_moves_nothing() {
        let c = StockChange::commit(level(), 3, OrderId::new(), UserId::new(), Utc::now());
        assert_eq!(
            (c.delta, c.claims.committed, c.available_delta()),
            (0, 3, -3)
        );
        assert_eq!(
            c.requirements(),
            Requirements {
                available: 3,
                ..Requirements::default()
            }
        );
    }

    #[test]
    fn fulfilling_takes_from_on_hand_and_committed_but_not_from_available() {
        let c = StockChange::sale(level(), 3, OrderId::new(), UserId::new(), Utc::now());
        assert_eq!(
            (c.delta, c.claims.committed, c.available_delta()),
            (-3, -3, 0)
        );
        assert_eq!(
            c.requirements(),
            Requirements {
                on_hand: 3,
                claims: Claims { committed: 3 },
                available: 0,
            }
        );
        let before = StockState::new(5, Claims { committed: 4 });
        let after = c.apply_to(&before);
        assert_eq!((after.on_hand, after.claims.committed), (2, 1));
        assert_eq!(after.available(), before.available());
        assert_eq!(c.undo_from(&after), before);
    }

    #[test]
    fn releasing_gives_back_to_available() {
        let c = StockChange::release(level(), 2, OrderId::new(), UserId::new(), Utc::now());
        assert_eq!((c.delta, c.available_delta()), (0, 2));
        assert_eq!(c.requirements().claims.committed, 2);
        assert_eq!(c.requirements().available, 0);
    }

    #[test]
    fn a_total_sums_every_state() {
        let a = StockState::new(5, Claims { committed: 1 });
        let b = StockState::new(2, Claims { committed: 2 });
        let total = StockState::total([&a, &b]);
        assert_eq!(total, StockState::new(7, Claims { committed: 3 }));
        assert_eq!(total.available(), 4);
    }
}
