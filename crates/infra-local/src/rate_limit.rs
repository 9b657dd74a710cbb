//! [`RateLimiter`] in one process: the counters of a single instance, and the fallback of a
//! shared limiter whose server does not answer.
//!
//! One map under a mutex: a hit is a few nanoseconds of work, far below the cost of the log-in
//! it guards, so a finer lock would buy nothing. Windows that closed are swept every
//! [`SWEEP_EVERY`] hits, so a guesser spraying fresh keys (addresses, emails) leaves behind at
//! most the keys of the windows still open.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use domain::rate_limit::{Count, RateLimitError, RateLimiter};
use tokio::time::Instant;

/// Hits between two sweeps of closed windows.
const SWEEP_EVERY: u64 = 1024;

#[derive(Debug, Default)]
struct Windows {
    open: HashMap<String, (u64, Instant)>,
    hits_since_sweep: u64,
}

/// Fixed-window counters in this process. Time is Tokio's clock, so tests may pause it.
#[derive(Debug, Default)]
pub struct InMemoryRateLimiter {
    windows: Mutex<Windows>,
}

impl InMemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keys whose window is open now.
    pub fn open_windows(&self) -> usize {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.open.values().filter(|(_, end)| *end > now).count()
    }
}

#[async_trait]
impl RateLimiter for InMemoryRateLimiter {
    async fn hit(&self, key: &str, period: Duration) -> Result<Count, RateLimitError> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.hits_since_sweep += 1;
        if windows.hits_since_sweep >= SWEEP_EVERY {
            windows.hits_since_sweep = 0;
            windows.open.retain(|_, (_, end)| *end > now);
        }
        let entry = windows
            .open
            .entry(key.to_owned())
            .or_insert((0, now + period));
        if entry.1 <= now {
            *entry = (0, now + period);
        }
        entry.0 += 1;
        Ok(Count {
            hits: entry.0,
            resets_in: entry.1 - now,
        })
    }

    async fn clear(&self, key: &str) -> Result<(), RateLimitError> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.open.remove(key);
        Ok(())
    }
}
