//! The load driver: N concurrent clients, each issuing one request after another, and the tally
//! of what came back.
//!
//! Clients are closed-loop (a client sends its next request when the previous one answered),
//! which is how a pool of shop front-ends or workers behaves and keeps the server saturated
//! without queueing unbounded work. Each client keeps its own tally — no shared counters on the
//! hot path — and the tallies are merged at the end. Latencies are kept whole (microseconds, one
//! `u32` each), so percentiles are exact rather than bucketed.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one request came back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// An HTTP status (or, for the store scenario, a status-like outcome code).
    Status(u16),
    /// No answer: connection refused, reset or timed out.
    Failed,
}

/// What a client does after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Continue,
    Stop,
}

/// Counts per status, and the latencies of successful requests.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub by_status: BTreeMap<u16, u64>,
    pub failed: u64,
    /// Microseconds of each successful request.
    pub ok_micros: Vec<u32>,
}

impl Tally {
    pub fn record(&mut self, reply: Reply, elapsed: Duration, success: u16) {
        match reply {
            Reply::Status(status) => {
                *self.by_status.entry(status).or_insert(0) += 1;
                if status == success {
                    self.ok_micros
                        .push(elapsed.as_micros().min(u32::MAX as u128) as u32);
                }
            }
            Reply::Failed => self.failed += 1,
        }
    }

    pub fn merge(&mut self, other: Tally) {
        for (status, n) in other.by_status {
            *self.by_status.entry(status).or_insert(0) += n;
        }
        self.failed += other.failed;
        self.ok_micros.extend(other.ok_micros);
    }

    pub fn count(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.by_status.values().sum::<u64>() + self.failed
    }

    /// Replies that are none of `known` (failures included).
    pub fn other_than(&self, known: &[u16]) -> u64 {
        self.by_status
            .iter()
            .filter(|(s, _)| !known.contains(s))
            .map(|(_, n)| n)
            .sum::<u64>()
            + self.failed
    }
}

/// Latency percentiles of the successful requests, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `micros` (sorted in place).
    pub fn of(micros: &mut [u32]) -> Self {
        if micros.is_empty() {
            return Self::default();
        }
        micros.sort_unstable();
        let rank = |p: f64| {
            let index = ((p * micros.len() as f64).ceil() as usize).clamp(1, micros.len()) - 1;
            micros[index] as f64 / 1000.0
        };
        Percentiles {
            p50: rank(0.50),
            p95: rank(0.95),
            p99: rank(0.99),
            max: micros[micros.len() - 1] as f64 / 1000.0,
        }
    }
}

/// The result of driving a scenario.
#[derive(Debug, Clone)]
pub struct Driven {
    pub tally: Tally,
    /// From the first request to the last client's stop.
    pub elapsed: Duration,
}

/// When clients stop, besides their own `Next::Stop`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Stop issuing requests after this long.
    pub duration: Option<Duration>,
    /// A client gives up after this many failed or unexpected replies in a row.
    pub max_errors_in_a_row: u32,
}

/// Runs `clients` closed-loop clients. `request(client_index)` issues one request; `decide`
/// classifies its reply (success status) and says whether that client goes on.
pub async fn drive<R, Fut>(
    clients: usize,
    success: u16,
    limits: Limits,
    request: R,
    decide: fn(Reply) -> (bool, Next),
) -> Driven
where
    R: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send,
{
    let request = Arc::new(request);
    let started = Instant::now();
    let deadline = limits.duration.map(|d| started + d);
    let tasks: Vec<_> = (0..clients)
        .map(|index| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let mut errors_in_a_row = 0;
                loop {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                    let sent = Instant::now();
                    let reply = request(index).await;
                    tally.record(reply, sent.elapsed(), success);
                    let (expected, next) = decide(reply);
                    errors_in_a_row = if expected { 0 } else { errors_in_a_row + 1 };
                    if next == Next::Stop || errors_in_a_row >= limits.max_errors_in_a_row {
                        break;
                    }
                }
                tally
            })
        })
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        tally.merge(task.await.expect("a load client panicked"));
    }
    Driven {
        tally,
        elapsed: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut micros: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        micros.reverse();
        let p = Percentiles::of(&mut micros);
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(Percentiles::of(&mut []), Percentiles::default());
        assert_eq!(Percentiles::of(&mut [7000]).p99, 7.0);
    }

    #[test]
    fn tallies_merge_and_count_the_unexpected() {
        let mut a = Tally::default();
        a.record(Reply::Status(201), Duration::from_millis(2), 201);
        a.record(Reply::Status(409), Duration::from_millis(1), 201);
        let mut b = Tally::default();
        b.record(Reply::Status(500), Duration::from_millis(1), 201);
        b.record(Reply::Failed, Duration::from_millis(1), 201);
        a.merge(b);
        assert_eq!((a.count(201), a.count(409), a.total()), (1, 1, 4));
        assert_eq!(a.other_than(&[201, 409, 503]), 2);
        assert_eq!(a.ok_micros, vec![2000]);
    }

    #[tokio::test]
    async fn clients_stop_when_told_and_sell_exactly_the_stock() {
        let stock = Arc::new(AtomicI64::new(25));
        let shared = stock.clone();
        let driven = drive(
            4,
            201,
            Limits {
                duration: None,
                max_errors_in_a_row: 3,
            },
            move |_| {
                let stock = shared.clone();
                async move {
                    if stock.fetch_sub(1, Ordering::SeqCst) > 0 {
                        Reply::Status(201)
                    } else {
                        Reply::Status(409)
                    }
                }
            },
            |reply| match reply {
                Reply::Status(201) => (true, Next::Continue),
                Reply::Status(409) => (true, Next::Stop),
                _ => (false, Next::Continue),
            },
        )
        .await;
        assert_eq!(driven.tally.count(201), 25);
        assert_eq!(
            driven.tally.count(409),
            4,
            "each client stops at its first refusal"
        );
    }

    #[tokio::test]
    async fn a_client_gives_up_after_errors_in_a_row() {
        let driven = drive(
            2,
            200,
            Limits {
                duration: None,
                max_errors_in_a_row: 5,
            },
            |_| async { Reply::Failed },
            |_| (false, Next::Continue),
        )
        .await;
        assert_eq!(driven.tally.failed, 10);
    }
}
