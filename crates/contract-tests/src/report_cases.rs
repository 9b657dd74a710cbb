//! The reporting contract ([`domain::reports::ports::ReportRepository`]), one `pub async fn` per
//! case, each on a small ledger built by hand so every expected number can be read off the case.
//!
//! Movements are written through [`domain::stock::ports::LedgerRepository::commit`] with chosen
//! `at` times (which become their `created_at`), several of them exactly on or one millisecond
//! beside a boundary, because off-by-one edges are where stores disagree. Every case also gives
//! another tenant movements at the same times, which must never be counted. Asked about one
//! location, a report counts that location's movements and levels only.
//!
//! An adapter's integration test expands the cases with [`crate::reports_contract_suite!`].

mod at_location;
mod ledger;
mod low_stock;
mod movers;
mod scoping;
mod series;
mod stock_at;
mod valuation;

pub use at_location::*;
pub use low_stock::*;
pub use movers::*;
pub use scoping::*;
pub use series::*;
pub use stock_at::*;
pub use valuation::*;

/// Expands to one `#[tokio::test]` per reporting contract case. `$factory` is a path to an
/// `async fn() -> Stores` (or `-> Result<Stores, harness::Skip>`) returning a fresh, empty store
/// for every call.
#[macro_export]
macro_rules! reports_contract_suite {
    ($factory:path) => {
        $crate::reports_contract_suite!(@cases $factory;
            series_counts_and_sums_each_kind_per_bucket,
            series_filters_by_variant,
            series_filters_by_the_products_current_variants,
            low_stock_lists_low_variants_with_sales_since_the_window_start,
            low_stock_at_a_location_judges_its_level,
            top_movers_rank_by_absolute_quantity_then_variant_id,
            top_movers_count_only_the_kind_and_window_asked_for,
            top_movers_leave_out_deleted_variants,
            valuation_sums_purchases_that_carry_a_unit_cost,
            valuation_sums_costs_past_64_bits_exactly,
            stock_at_replays_movements_up_to_and_including_the_instant,
            reports_never_count_another_tenants_movements,
            series_filters_by_location,
            valuation_at_a_location_values_its_level_at_the_average_of_all,
            stock_at_a_location_replays_that_levels_movements,
        );
    };
    (@cases $factory:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let name = concat!(module_path!(), "::", stringify!($case));
                let Some(stores) = $crate::harness::take::<$crate::Stores>(name, $factory().await)
                else {
                    return;
                };
                $crate::report_cases::$case(stores.for_case(name)).await;
            }
        )+
    };
}
