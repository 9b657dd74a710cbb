//! Jittered exponential backoff.
//!
//! Waiters that all retry on the same schedule collide again on every attempt; drawing each wait at
//! random between the floor and a cap that doubles per attempt spreads them out, while the ceiling
//! keeps a long wait from overshooting the moment a lock frees up.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    cap: Duration,
}

impl Backoff {
    /// `min` is raised to at least one millisecond and `max` to at least `min`.
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        let min = min.max(Duration::from_millis(1));
        let max = max.max(min);
        Self { min, max, cap: min }
    }

    /// The next wait: uniformly random in `[min, cap]`, after which the cap doubles up to `max`.
    pub(crate) fn next_wait(&mut self) -> Duration {
        let wait = if self.cap > self.min {
            rand::thread_rng().gen_range(self.min..=self.cap)
        } else {
            self.min
        };
        self.cap = (self.cap * 2).min(self.max);
        wait
    }

    /// Starts again from the floor (after a success).
    pub(crate) fn reset(&mut self) {
        self.cap = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_stay_within_bounds_and_the_cap_grows_to_the_ceiling() {
        let min = Duration::from_millis(5);
        let max = Duration::from_millis(40);
        let mut backoff = Backoff::new(min, max);
        assert_eq!(backoff.next_wait(), min);
        for _ in 0..100 {
            let wait = backoff.next_wait();
            assert!(wait >= min && wait <= max, "{wait:?} out of bounds");
        }
        assert_eq!(backoff.cap, max);
        backoff.reset();
        assert_eq!(backoff.next_wait(), min);
    }

    #[test]
    fn waits_are_jittered() {
        let mut backoff = Backoff::new(Duration::from_millis(1), Duration::from_secs(1));
        for _ in 0..10 {
            backoff.next_wait();
        }
        let draws: std::collections::HashSet<_> = (0..20).map(|_| backoff.next_wait()).collect();
        assert!(draws.len() > 1, "every wait was the same: {draws:?}");
    }

    #[test]
    fn degenerate_bounds_are_repaired() {
        let mut backoff = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(backoff.next_wait(), Duration::from_millis(1));
        assert_eq!(backoff.next_wait(), Duration::from_millis(1));
    }
}
