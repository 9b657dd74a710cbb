//! The states a level's units are in.
//!
//! A level (one variant at one location) counts the units physically there — `on_hand`, the
//! ledger's number, equal to the sum of the level's movements — and, of those, the units already
//! claimed ([`Claims`]):
//!
//! - `committed` to placed orders not yet fulfilled;
//! - `reserved` by the live holds of checkouts in progress (a hold stops counting the instant it
//!   expires, whether or not anything has swept it);
//! - `unavailable`: on hand but not for sale, as `damaged`, `quality_control` or `safety_stock`.
//!
//! What is left is `available`: what a new order or hold may take. Placing an order claims units
//! (available ↓, committed ↑) without moving any; fulfilling it moves them out (on hand ↓,
//! committed ↓) with the SALE. A hold confirmed into an order turns reserved into committed.
//!
//! Every number is kept per level by the ledger's conditional write; a change states how each
//! moves ([`StockChange::delta`] for on hand, [`StockChange::claims`] for the rest) and
//! [`StockChange::requirements`] what the level must hold before it, so that no state and no
//! availability ever goes below zero.

use crate::stock::models::StockChange;

/// A state a unit on hand can be in, as a move or an adjustment names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnitState {
    /// Free for orders and holds.
    Available,
    Damaged,
    QualityControl,
    SafetyStock,
}

impl UnitState {
    pub const ALL: [UnitState; 4] = [
        UnitState::Available,
        UnitState::Damaged,
        UnitState::QualityControl,
        UnitState::SafetyStock,
    ];

    /// The wire name: `available`, `damaged`, `qualityControl`, `safetyStock`.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitState::Available => "available",
            UnitState::Damaged => "damaged",
            UnitState::QualityControl => "qualityControl",
            UnitState::SafetyStock => "safetyStock",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// On hand units that are not for sale, by state (or, on a change or a movement, how each
/// state moves).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unavailable {
    pub damaged: i64,
    pub quality_control: i64,
    pub safety_stock: i64,
}

impl Unavailable {
    pub fn sum(&self) -> i64 {
        self.damaged + self.quality_control + self.safety_stock
    }

    pub fn plus(&self, other: &Unavailable) -> Unavailable {
        Unavailable {
            damaged: self.damaged + other.damaged,
            quality_control: self.quality_control + other.quality_control,
            safety_stock: self.safety_stock + other.safety_stock,
        }
    }

    pub fn minus(&self, other: &Unavailable) -> Unavailable {
        self.plus(&other.negated())
    }

    pub fn negated(&self) -> Unavailable {
        Unavailable {
            damaged: -self.damaged,
            quality_control: -self.quality_control,
            safety_stock: -self.safety_stock,
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Unavailable::default()
    }

    /// The number kept for `state`; `None` for `Available`, which is derived, not kept.
    pub fn get(&self, state: UnitState) -> Option<i64> {
        match state {
            UnitState::Available => None,
            UnitState::Damaged => Some(self.damaged),
            UnitState::QualityControl => Some(self.quality_control),
            UnitState::SafetyStock => Some(self.safety_stock),
        }
    }

    /// `units` of `state` and nothing else (nothing at all for `Available`).
    pub fn of(state: UnitState, units: i64) -> Unavailable {
        let mut u = Unavailable::default();
        match state {
            UnitState::Available => {}
            UnitState::Damaged => u.damaged = units,
            UnitState::QualityControl => u.quality_control = units,
            UnitState::SafetyStock => u.safety_stock = units,
        }
        u
    }
}

/// Units of on hand that are claimed, by state (or, on a change, how each state moves).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Claims {
    /// Units of placed orders not yet fulfilled.
    pub committed: i64,
    /// Units held by live reservations. Not kept as a number: a store derives it from the
    /// level's holds that have not expired at the instant it reads or writes.
    pub reserved: i64,
    /// Units on hand not for sale.
    pub unavailable: Unavailable,
}

impl Claims {
    pub fn committed(committed: i64) -> Claims {
        Claims {
            committed,
            ..Claims::default()
        }
    }

    /// Every claimed unit.
    pub fn sum(&self) -> i64 {
        self.committed + self.reserved + self.unavailable.sum()
    }

    pub fn plus(&self, other: &Claims) -> Claims {
        Claims {
            committed: self.committed + other.committed,
            reserved: self.reserved + other.reserved,
            unavailable: self.unavailable.plus(&other.unavailable),
        }
    }

    pub fn minus(&self, other: &Claims) -> Claims {
        Claims {
            committed: self.committed - other.committed,
            reserved: self.reserved - other.reserved,
            unavailable: self.unavailable.minus(&other.unavailable),
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

    /// What a new order or hold may take: on hand less every claim.
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
/// `available` is judged counting every hold live at the instant of the write — the change's own
/// hold included — so a confirmation can never over-commit. The hold a change takes, drops or
/// extends is required by [`StockChange::hold`], not here: `claims.reserved` is always 0.
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
        let u = &self.claims.unavailable;
        Requirements {
            on_hand: need(self.delta),
            claims: Claims {
                committed: need(self.claims.committed),
                reserved: 0,
                unavailable: Unavailable {
                    damaged: need(u.damaged),
                    quality_control: need(u.quality_control),
                    safety_stock: need(u.safety_stock),
                },
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
            claims: after.claims.minus(&self.claims),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::ids::{LocationId, OrderId, UserId, VariantId};
    use crate::stock::models::Level;
    use crate::stock::models::StockChange;

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
                claims: Claims::committed(3),
                available: 0,
            }
        );
        let before = StockState::new(5, Claims::committed(4));
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
        let a = StockState::new(5, Claims::committed(1));
        let b = StockState::new(2, Claims::committed(2));
        let total = StockState::total([&a, &b]);
        assert_eq!(total, StockState::new(7, Claims::committed(3)));
        assert_eq!(total.available(), 4);
    }

    fn damaged(units: i64) -> Claims {
        Claims {
            unavailable: Unavailable::of(UnitState::Damaged, units),
            ..Claims::default()
        }
    }

    #[test]
    fn moving_to_damaged_takes_from_available_and_back_takes_from_damaged() {
        let out = StockChange::state_move(
            level(),
            UnitState::Available,
            UnitState::Damaged,
            2,
            "dropped".into(),
            UserId::new(),
            Utc::now(),
        );
        assert_eq!((out.delta, out.available_delta()), (0, -2));
        assert_eq!(out.requirements().available, 2);
        assert!(out.records_movement());
        let back = StockChange::state_move(
            level(),
            UnitState::Damaged,
            UnitState::Available,
            2,
            "repaired".into(),
            UserId::new(),
            Utc::now(),
        );
        assert_eq!(back.available_delta(), 2);
        assert_eq!(back.requirements().claims, damaged(2));
        assert_eq!(back.requirements().available, 0);
        let before = StockState::new(5, damaged(0));
        let moved = out.apply_to(&before);
        assert_eq!((moved.claims, moved.available()), (damaged(2), 3));
        assert_eq!(back.apply_to(&moved), before);
        assert_eq!(out.undo_from(&moved), before);
    }

    #[test]
    fn writing_off_damaged_units_takes_them_from_on_hand_and_damaged_alone() {
        let c = StockChange::adjustment(
            level(),
            -3,
            UnitState::Damaged,
            None,
            "scrapped".into(),
            UserId::new(),
            Utc::now(),
        );
        assert_eq!(c.available_delta(), 0);
        let need = c.requirements();
        assert_eq!(
            (need.on_hand, need.claims, need.available),
            (3, damaged(3), 0)
        );
        let after = c.apply_to(&StockState::new(10, damaged(4)));
        assert_eq!(
            (after.on_hand, after.claims, after.available()),
            (7, damaged(1), 6)
        );
    }

    #[test]
    fn every_claim_reduces_available() {
        let s = StockState::new(
            20,
            Claims {
                committed: 3,
                reserved: 4,
                unavailable: Unavailable {
                    damaged: 1,
                    quality_control: 2,
                    safety_stock: 5,
                },
            },
        );
        assert_eq!(s.available(), 5);
        assert_eq!(s.claims.unavailable.sum(), 8);
        assert_eq!(
            UnitState::parse("qualityControl"),
            Some(UnitState::QualityControl)
        );
        assert_eq!(UnitState::parse("broken"), None);
    }
}
