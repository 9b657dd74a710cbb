//! The contract every Stockroom storage adapter and lock adapter must keep, as a test suite any
//! adapter crate runs against itself.
//!
//! The domain's port traits say what an adapter MUST do; this crate turns each promise into an
//! executable case, so SQLite, MongoDB and any later store are held to exactly the same behaviour
//! (tenant isolation, uniqueness, paging, the conditional stock write on each level — one variant
//! at one location — with the variant's total kept beside it, all-or-nothing ledger commits,
//! transfers and what is in transit, one default location per tenant, idempotency records,
//! guarded deletes, no overselling under concurrency, the migration of a store written before
//! locations, and reports that aggregate the same ledger to the same numbers).
//!
//! An adapter's integration test provides an async factory returning fresh, empty [`Stores`]
//! and expands the suite, one `#[tokio::test]` per case:
//!
//! ```ignore
//! async fn fresh() -> contract_tests::Stores {
//!     let store = MyStore::connect_to_a_new_database().await;
//!     contract_tests::Stores::of(store)
//!         // How a case changes a level's stock behind the ledger's back (raw SQL, a driver
//!         // update…), leaving the variant's total alone.
//!         .tampering_with(|tenant, variant, location, stock| async move { /* … */ })
//!         // How a case builds a store as the version before locations left it, migrates it
//!         // and reads it (see `Migration` and `legacy::LegacyData`).
//!         .migrating_with(|legacy| async move {
//!             /* write `legacy` raw in the old shape, migrate, open */
//!             domain::Repositories::of(migrated_store)
//!         })
//! }
//! contract_tests::contract_suite!(fresh);
//!
//! async fn lock() -> std::sync::Arc<dyn domain::lock::LockManager> { /* … */ }
//! contract_tests::lock_contract_suite!(lock);
//! contract_tests::reports_contract_suite!(fresh);
//! ```
//!
//! A harness that cannot give one of the two hooks says why instead (`without_tampering`,
//! `without_migration`): the cases needing it then skip, each with a loud line naming it. One
//! that says nothing fails those cases, so no hook is forgotten.
//!
//! A factory that needs a server which may be missing returns `Result<_, harness::Skip>`
//! instead: each case then skips on its own, with a line on stderr naming it, and every other
//! test of the binary still runs (see [`harness`]). Refusing to skip under CI is the factory's
//! job.
//!
//! The invoking crate needs `tokio` (with the `macros` and `rt-multi-thread` features) among its
//! dev-dependencies: the generated tests use `#[tokio::test(flavor = "multi_thread")]`, because
//! the concurrency cases must really run in parallel.

pub mod cases;
pub mod fixtures;
pub mod harness;
pub mod legacy;
pub mod lock_cases;
pub mod paging;
pub mod rate_limit_cases;
pub mod report_cases;
mod stores;

pub use legacy::{LegacyData, LegacyMovement, LegacyVariant};
pub use stores::{Migration, StockTamper, Stores};

/// Expands to one `#[tokio::test]` per storage contract case. `$factory` is a path to an
/// `async fn() -> Stores` (or `-> Result<Stores, harness::Skip>`) returning a fresh, empty store
/// for every call.
#[macro_export]
macro_rules! contract_suite {
    ($factory:path) => {
        $crate::contract_suite!(@cases $factory;
            tenant_is_created_with_its_owner,
            tenant_slug_is_unique_across_tenants,
            user_round_trips_and_updates,
            user_email_is_unique_per_tenant,
            users_page_oldest_first,
            ending_sessions_and_replacing_a_password_each_add_one_to_the_token_version,
            the_last_active_owner_cannot_be_demoted_or_deactivated,
            two_owners_demoting_each_other_at_once_leave_one_owner,
            a_stale_user_version_writes_nothing_and_the_current_one_writes,
            product_round_trips_updates_and_deletes,
            products_page_oldest_first,
            product_delete_is_refused_while_a_variant_holds_stock,
            a_stale_product_version_writes_nothing_and_the_current_one_writes,
            of_racing_product_writes_expecting_one_version_exactly_one_lands,
            a_stale_variant_version_writes_nothing_and_stock_leaves_the_version,
            a_stale_supplier_version_writes_nothing_and_the_current_one_writes,
            a_stale_location_version_writes_nothing_and_moving_the_default_moves_versions,
            variant_round_trips_with_stock_zero_and_updates_without_stock,
            variant_sku_is_unique_per_tenant,
            variants_page_oldest_first,
            variant_list_filters_by_product_sku_and_low_stock,
            variant_delete_is_refused_while_it_holds_stock,
            incoming_counts_only_ordered_and_partially_received_lines,
            commit_applies_a_change_and_reports_it,
            decrement_is_refused_below_zero,
            multi_line_commit_is_all_or_nothing,
            every_short_line_is_listed,
            stock_mismatch_writes_nothing,
            unknown_variant_writes_nothing,
            a_batch_applies_each_write_on_its_own,
            movements_page_newest_first,
            movement_list_filters_by_variant_kind_and_time,
            audit_is_clean_after_consistent_writes,
            audit_reports_stock_changed_behind_the_ledger,
            ping_answers,
            a_change_at_a_location_creates_its_level,
            a_variants_stock_is_the_total_of_its_levels,
            a_decrease_is_judged_against_its_own_level,
            expected_stock_compares_the_level,
            applied_changes_report_the_level_and_the_total,
            committed_units_are_claimed_sold_and_released_by_conditional_writes,
            a_variant_reads_its_states_per_level_and_in_total,
            audit_checks_committed_units_against_placed_orders,
            a_stale_transition_is_a_conflict_before_its_changes_are_judged,
            low_stock_judges_available_units_and_valuation_values_on_hand,
            a_hold_reserves_units_only_until_it_expires,
            a_hold_is_taken_or_extended_only_while_live_and_dropped_at_any_time,
            reservations_list_by_their_status_now_and_the_sweep_finds_the_expired,
            audit_checks_live_holds_against_active_reservations,
            concurrent_holds_never_over_reserve,
            units_move_between_states_by_conditional_writes_and_replay,
            unavailable_units_make_a_variant_low_but_are_still_valued,
            movement_list_filters_by_location,
            audit_is_clean_after_changes_at_several_locations,
            location_round_trips_and_updates,
            locations_page_oldest_first,
            location_code_is_unique_per_tenant,
            make_default_moves_the_default_to_exactly_one_location,
            make_default_refuses_an_inactive_missing_or_foreign_location,
            location_levels_list_what_is_held_there,
            holdings_count_what_a_location_holds_or_expects,
            transfer_round_trips_through_the_ledger,
            stale_transfer_update_is_a_version_conflict,
            shipped_units_are_in_transit_until_received,
            shipping_more_than_the_source_holds_is_refused,
            transfers_page_newest_first,
            transfer_list_filters_by_status_source_and_destination,
            variant_delete_is_refused_while_units_are_in_transit,
            migration_moves_stock_to_one_default_location,
            order_round_trips_through_the_ledger,
            stale_order_update_is_a_version_conflict,
            orders_page_newest_first,
            order_list_filters_by_status_and_time,
            supplier_round_trips_updates_and_deletes,
            suppliers_page_oldest_first,
            supplier_delete_is_refused_while_a_purchase_order_is_open,
            purchase_order_round_trips_through_the_ledger,
            stale_purchase_order_update_is_a_version_conflict,
            purchase_orders_page_newest_first,
            purchase_order_list_filters_by_status_and_supplier,
            commit_stores_its_idempotency_record,
            failed_commit_stores_no_record,
            repeated_key_is_refused_and_writes_nothing,
            expired_record_is_hidden_and_replaceable,
            inserts_store_idempotency_records,
            failed_insert_stores_no_record,
            idempotency_keys_are_per_tenant,
            idempotency_keys_are_per_user,
            a_variant_is_never_created_under_a_deleted_product,
            a_purchase_order_is_never_created_under_a_deleted_supplier,
            another_tenant_sees_nothing,
            another_tenant_changes_nothing,
            another_tenant_sees_no_location_or_transfer,
            another_tenant_changes_no_location_or_transfer,
            concurrent_sales_never_oversell,
            concurrent_batches_never_oversell,
            concurrent_writes_stand_or_fall_alone,
            concurrent_sales_at_a_location_never_take_it_below_zero,
            concurrent_sales_at_two_locations_each_sell_their_own,
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
                $crate::cases::$case(stores.for_case(name)).await;
            }
        )+
    };
}

/// Expands to one `#[tokio::test]` per lock contract case. `$factory` is a path to an
/// `async fn() -> Arc<dyn LockManager>` ([`lock_cases::SharedLock`]), or one returning
/// `Result<SharedLock, harness::Skip>`.
#[macro_export]
macro_rules! lock_contract_suite {
    ($factory:path) => {
        $crate::lock_contract_suite!(@cases $factory;
            lock_serialises_holders,
            lock_times_out_when_held,
            lock_releases_taken_keys_on_timeout,
            lock_overlapping_sorted_sets_never_deadlock,
            lock_dropped_guard_frees_the_key,
            lock_keys_are_independent,
        );
    };
    (@cases $factory:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let name = concat!(module_path!(), "::", stringify!($case));
                let Some(lock) =
                    $crate::harness::take::<$crate::lock_cases::SharedLock>(name, $factory().await)
                else {
                    return;
                };
                $crate::lock_cases::$case(lock).await;
            }
        )+
    };
}
