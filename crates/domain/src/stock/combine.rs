//! Coalescing concurrent stock writes that lock the same variants.
//!
//! Writes to one variant are serialised by its lock, and a write holds the lock until its commit
//! is durable. On the embedded store every commit waits for the disk, so in a flash sale on one
//! SKU each order waits for one disk flush per order queued before it, and throughput is one
//! flush per order. Instead, writes that need the same lock keys queue here, and one worker per
//! key set takes the lock once for everything queued, hands the batch to the ledger port, and
//! answers each writer. The port applies every write atomically on its own — a refused order
//! changes nothing and the orders after it still apply — and makes the batch durable together.
//!
//! Nothing about correctness moves: the lock is still taken, and the store's conditional write
//! still guards every change, so combining changes how many writes share a commit, never what a
//! write may do. A write queued alone commits exactly as before.
//!
//! The worker is a spawned task, not one of the writers: a writer whose caller goes away (a
//! client disconnecting) cannot strand the writes queued behind it. Its own write, once queued,
//! completes like any write already sent to the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::error::{DomainError, StoreError};
use crate::ids::TenantId;
use crate::lock::{LockError, LockKey};
use crate::stock::models::{Committed, LedgerError, LedgerWrite};
use crate::stock::writer::StockWriter;

/// The most writes one commit carries; more wait for the next.
pub const MAX_BATCH: usize = 64;

/// What a writer gets back: a lock failure, or the ledger's answer to its own write.
pub(crate) type Outcome = Result<Result<Committed, LedgerError>, DomainError>;

struct Pending {
    write: LedgerWrite,
    reply: oneshot::Sender<Outcome>,
}

/// The queues of writes waiting for their lock keys, one per key set with a running worker.
#[derive(Default)]
pub struct Combiner {
    queues: Mutex<HashMap<Vec<LockKey>, Vec<Pending>>>,
}

impl std::fmt::Debug for Combiner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Combiner").finish_non_exhaustive()
    }
}

impl Combiner {
    fn queues(&self) -> MutexGuard<'_, HashMap<Vec<LockKey>, Vec<Pending>>> {
        // The map is consistent between statements, so a panic elsewhere cannot leave it torn.
        self.queues
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a write; `true` when no worker serves `keys` yet and the caller must start one.
    fn enqueue(&self, keys: &[LockKey], pending: Pending) -> bool {
        let mut queues = self.queues();
        match queues.get_mut(keys) {
            Some(queue) => {
                queue.push(pending);
                false
            }
            None => {
                queues.insert(keys.to_vec(), vec![pending]);
                true
            }
        }
    }

    /// The next writes for `keys`, oldest first, at most [`MAX_BATCH`]. When none is left the
    /// queue is removed under the same lock, so a later write starts a new worker.
    fn next_batch(&self, keys: &[LockKey]) -> Option<Vec<Pending>> {
        let mut queues = self.queues();
        let queue = queues.get_mut(keys)?;
        if queue.is_empty() {
            queues.remove(keys);
            return None;
        }
        let take = queue.len().min(MAX_BATCH);
        Some(queue.drain(..take).collect())
    }
}

/// A worker's claim on its queue. It is made before the worker task is spawned and moves into
/// it, so the queue is removed — and the writers waiting there are answered with an error instead
/// of waiting forever — however the worker ends early: a panic in an adapter, or a task dropped
/// unpolled because the runtime is shutting down.
struct QueueOwner {
    combiner: Arc<Combiner>,
    keys: Vec<LockKey>,
    /// Set once the queue was removed by [`Combiner::next_batch`]: by then a new worker may own
    /// a new queue under the same keys, which must be left alone.
    released: bool,
}

impl Drop for QueueOwner {
    fn drop(&mut self) {
        if !self.released {
            self.combiner.queues().remove(&self.keys);
        }
    }
}

impl StockWriter {
    /// Queues `write` (its changes sorted, `keys` its sorted lock keys) and waits for its outcome.
    pub(crate) async fn commit_combined(
        &self,
        tenant: &TenantId,
        keys: Vec<LockKey>,
        write: LedgerWrite,
    ) -> Outcome {
        let (reply, answer) = oneshot::channel();
        if self.combiner.enqueue(&keys, Pending { write, reply }) {
            let owner = QueueOwner {
                combiner: self.combiner.clone(),
                keys,
                released: false,
            };
            tokio::spawn(self.clone().serve_queue(*tenant, owner));
        }
        answer.await.unwrap_or_else(|_| {
            Err(DomainError::Unavailable(
                "the stock write was interrupted and its outcome is unknown".into(),
            ))
        })
    }

    /// The worker of one key set: lock, commit a batch, answer, until the queue is empty.
    async fn serve_queue(self, tenant: TenantId, mut owner: QueueOwner) {
        while let Some(batch) = self.combiner.next_batch(&owner.keys) {
            let (writes, replies): (Vec<_>, Vec<_>) =
                batch.into_iter().map(|p| (p.write, p.reply)).unzip();
            let outcomes = self.commit_locked(&tenant, &owner.keys, writes).await;
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // A writer that stopped waiting still had its write applied; nothing to tell.
                let _ = reply.send(outcome);
            }
        }
        owner.released = true;
    }

    /// Takes the locks of `keys` once and commits `writes` under them: one outcome per write.
    async fn commit_locked(
        &self,
        tenant: &TenantId,
        keys: &[LockKey],
        writes: Vec<LedgerWrite>,
    ) -> Vec<Outcome> {
        let count = writes.len();
        let guard = match self.lock.acquire(keys, self.lock_wait).await {
            Ok(guard) => guard,
            Err(error) => return (0..count).map(|_| Err(lock_refusal(&error))).collect(),
        };
        let results = if count == 1 {
            let write = writes.into_iter().next().expect("one write");
            vec![self.ledger.commit(tenant, write).await]
        } else {
            match self.ledger.commit_batch(tenant, writes).await {
                Ok(results) if results.len() == count => results,
                Ok(results) => {
                    let e = StoreError::Other(anyhow::anyhow!(
                        "the store answered {} results for {count} writes",
                        results.len()
                    ));
                    failed_batch(&e, count)
                }
                Err(e) => failed_batch(&e, count),
            }
        };
        drop(guard);
        results.into_iter().map(Ok).collect()
    }
}

fn lock_refusal(error: &LockError) -> DomainError {
    match error {
        LockError::Timeout => DomainError::LockTimeout,
        LockError::Unavailable(m) => DomainError::Unavailable(m.clone()),
    }
}

/// The same store failure for each write of a batch that was not applied at all.
fn failed_batch(error: &StoreError, count: usize) -> Vec<Result<Committed, LedgerError>> {
    (0..count)
        .map(|_| Err(LedgerError::Store(error.replicate())))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use async_trait::async_trait;
    use chrono::Utc;
    use tokio::sync::Semaphore;

    use super::*;
    use crate::error::Shortage;
    use crate::events::MockEventPublisher;
    use crate::ids::{LocationId, OrderId, UserId, VariantId};
    use crate::lock::{LockGuard, LockManager};
    use crate::stock::models::{DocumentWrite, Level, StockChange};
    use crate::stock::ports::MockLedgerRepository;

    /// A lock whose first acquisition waits until the test opens the gate.
    struct GatedLock {
        gate: Semaphore,
        acquisitions: AtomicUsize,
    }

    #[async_trait]
    impl LockManager for GatedLock {
        async fn acquire(&self, _: &[LockKey], _: Duration) -> Result<LockGuard, LockError> {
            if self.acquisitions.fetch_add(1, Ordering::SeqCst) == 0 {
                self.gate.acquire().await.expect("gate open").forget();
            }
            Ok(LockGuard::empty())
        }
    }

    fn sale(level: Level, units: i64) -> LedgerWrite {
        LedgerWrite {
            changes: vec![StockChange::sale(
                level,
                units,
                OrderId::new(),
                UserId::new(),
                Utc::now(),
            )],
            document: DocumentWrite::None,
            idempotency: None,
        }
    }

    fn writer(ledger: MockLedgerRepository, lock: Arc<GatedLock>) -> StockWriter {
        let mut events = MockEventPublisher::new();
        events.expect_publish().returning(|_| ());
        StockWriter::new(
            Arc::new(ledger),
            lock,
            Arc::new(events),
            Duration::from_secs(5),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_waiting_for_the_same_locks_share_one_hold_and_one_commit() {
        let tenant = TenantId::new();
        let variant = VariantId::new();
        let level = Level::new(variant, LocationId::new());
        let mut ledger = MockLedgerRepository::new();
        // The first write finds the lock free and commits alone.
        ledger
            .expect_commit()
            .times(1)
            .returning(|_, _| Ok(Committed::default()));
        // The three that queued while it waited go in one batch; the middle one is refused.
        ledger
            .expect_commit_batch()
            .times(1)
            .withf(|_, writes| writes.len() == 3 && writes[1].changes[0].delta == -5)
            .returning(move |_, _| {
                Ok(vec![
                    Ok(Committed::default()),
                    Err(LedgerError::Insufficient(vec![Shortage {
                        variant_id: variant,
                        location_id: Some(level.location_id),
                        requested: 5,
                        available: 1,
                    }])),
                    Ok(Committed::default()),
                ])
            });
        let lock = Arc::new(GatedLock {
            gate: Semaphore::new(0),
            acquisitions: AtomicUsize::new(0),
        });
        let deps = writer(ledger, lock.clone());

        let first = tokio::spawn({
            let deps = deps.clone();
            async move { deps.commit(&tenant, sale(level, 1)).await }
        });
        while lock.acquisitions.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // Queued one after another, so the batch order is known.
        let keys = vec![LockKey::level(&tenant, &level)];
        let queued_now = || deps.combiner.queues().get(&keys).map_or(0, Vec::len);
        let mut queued = Vec::new();
        for units in [1, 5, 1] {
            let deps = deps.clone();
            queued.push(tokio::spawn(async move {
                deps.commit(&tenant, sale(level, units)).await
            }));
            while queued_now() < queued.len() {
                tokio::task::yield_now().await;
            }
        }
        lock.gate.add_permits(1);

        assert!(matches!(first.await.unwrap(), Ok(Ok(_))));
        let answers: Vec<_> = futures_answers(queued).await;
        assert!(matches!(answers[0], Ok(Ok(_))));
        assert!(matches!(answers[1], Ok(Err(LedgerError::Insufficient(_)))));
        assert!(matches!(answers[2], Ok(Ok(_))));
        assert_eq!(
            lock.acquisitions.load(Ordering::SeqCst),
            2,
            "one lock hold per batch"
        );
        // Once the queue is drained the worker removes it, so the next write starts a new one.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !deps.combiner.queues().is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the queue outlived its worker"
            );
            tokio::task::yield_now().await;
        }
    }

    async fn futures_answers(handles: Vec<tokio::task::JoinHandle<Outcome>>) -> Vec<Outcome> {
        let mut answers = Vec::new();
        for handle in handles {
            answers.push(handle.await.expect("the writer finished"));
        }
        answers
    }
}
