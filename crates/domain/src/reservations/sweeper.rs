//! The background sweep of expired reservations.
//!
//! Every instance runs one. It is an optimisation only — an expired hold already counts for
//! nothing in every read and write — so a sweep that fails is logged and retried on the next
//! tick, and several instances sweeping at once each store a given expiry at most once (see
//! [`ReservationService::sweep`]).

use std::time::Duration;

use tokio::sync::watch;

use super::service::ReservationService;

/// Reservations swept per store round trip.
pub const SWEEP_BATCH: u32 = 100;

/// Sweeps every `interval` until `shutdown` turns true (or its sender is dropped). A full batch
/// is followed at once by the next, so a backlog drains without waiting for ticks.
pub async fn run(
    service: ReservationService,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        loop {
            match service.sweep(SWEEP_BATCH).await {
                Ok(n) if n as u32 >= SWEEP_BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "sweeping expired reservations failed; retrying");
                    break;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}
