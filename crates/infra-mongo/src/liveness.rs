//! What happens to the open transactions of an instance that dies.
//!
//! MongoDB keeps a transaction open until its client commits or aborts it, or until the server's
//! `transactionLifetimeLimitSeconds` (60 s by default) runs out. While it is open, every document
//! it wrote stays write-locked: another transaction writing one of them fails at once with a
//! `WriteConflict` and is retried, over and over. So an instance killed mid-write (`kill -9`, an
//! OOM kill, a lost VM) would leave the variants it was writing unsellable by every other instance
//! for up to a minute — the hot variant of a flash sale first of all.
//!
//! The server cannot tell a dead client from a slow one, and its lifetime limit is one
//! server-wide setting that a hosted deployment may not let the application change. What every
//! MongoDB since 3.6 does offer is `killSessions`: given logical session ids, it aborts their
//! open transactions, freeing the documents at once. Any client may run it on sessions of its own
//! user. So each instance makes its session ids known and watches the others:
//!
//! - Transactions run only on this instance's own [`Sessions`]: a pool of driver sessions that
//!   grows to the peak number of concurrent transactions and is kept for the life of the store,
//!   so their session ids are few and stable. Each new session's id is recorded in the
//!   `instances` collection, in this instance's document, *before* its first transaction.
//! - Every [`BEAT_EVERY`] the instance bumps a counter (`beat`) in its document.
//! - Every [`CHECK_EVERY`] the instance reads the other documents. One whose `beat` has not moved
//!   for [`DEAD_AFTER`], timed on the reader's own monotonic clock (so no two machines' clocks
//!   are compared), belongs to an instance that stopped: the reader runs `killSessions` on its
//!   session ids and removes its document.
//!
//! An instance that dies therefore blocks the documents it was writing for at most
//! `DEAD_AFTER + CHECK_EVERY + BEAT_EVERY` (3.25 s), plus the retry backoff of the writers
//! waiting for them. Killing the sessions of an instance that was only stalled (a long pause)
//! costs it nothing but retries: an aborted transaction wrote nothing, its commit fails with a
//! transient error and `in_transaction` runs it again; its next beat writes its document back.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mongodb::bson::{doc, Bson, Document};
use mongodb::options::UpdateOptions;
use mongodb::{Client, ClientSession, Collection};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::errors::describe;

/// How often an instance says it is alive.
pub(crate) const BEAT_EVERY: Duration = Duration::from_millis(500);
/// How long another instance's beat may stand still before it is taken for dead: five beats, so
/// a late beat or two (a busy machine, a slow write) is not a death.
pub(crate) const DEAD_AFTER: Duration = Duration::from_millis(2500);
/// How often an instance looks for dead ones.
pub(crate) const CHECK_EVERY: Duration = Duration::from_millis(250);

/// This instance's transaction sessions, and its record in the `instances` collection.
#[derive(Clone)]
pub(crate) struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    /// This instance's id: the `_id` of its document.
    instance: String,
    client: Client,
    instances: Collection<Document>,
    /// Sessions not in use.
    idle: Mutex<Vec<ClientSession>>,
    /// The id of every session this instance ever used (they are never discarded).
    known: Mutex<Vec<Document>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("instance", &self.inner.instance)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    pub(crate) fn new(client: Client, instances: Collection<Document>) -> Self {
        Self {
            inner: Arc::new(Inner {
                instance: uuid::Uuid::now_v7().to_string(),
                client,
                instances,
                idle: Mutex::new(Vec::new()),
                known: Mutex::new(Vec::new()),
            }),
        }
    }

    /// A session to run one transaction on: an idle one, or a new one whose id is recorded
    /// first, so that this instance's death can never leave a transaction nobody may abort.
    pub(crate) async fn lease(&self) -> Result<Lease, mongodb::error::Error> {
        let idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let session = match idle {
            Some(session) => session,
            None => {
                let session = self.inner.client.start_session().await?;
                let id = session.id().clone();
                self.inner
                    .known
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(id.clone());
                self.inner
                    .instances
                    .update_one(
                        doc! { "_id": &self.inner.instance },
                        doc! { "$addToSet": { "sessions": id } },
                    )
                    .with_options(UpdateOptions::builder().upsert(true).build())
                    .await?;
                session
            }
        };
        Ok(Lease {
            session: Some(session),
            open: false,
            home: self.inner.clone(),
        })
    }

    /// Starts the beat and the watch for dead instances; both stop when the returned guard's
    /// last clone is dropped.
    pub(crate) fn watch(&self) -> Watch {
        let beat = tokio::spawn(beat(self.inner.clone())).abort_handle();
        let check = tokio::spawn(check(self.inner.clone())).abort_handle();
        Watch(Arc::new(Tasks(vec![beat, check])))
    }
}

/// One session, lent for one transaction and given back when dropped.
pub(crate) struct Lease {
    session: Option<ClientSession>,
    /// Whether a transaction may still be open on the session.
    open: bool,
    home: Arc<Inner>,
}

impl Lease {
    /// Records whether a transaction may be open on the session, so a lease dropped mid-way
    /// (its caller cancelled) aborts it before the session is used again.
    pub(crate) fn set_open(&mut self, open: bool) {
        self.open = open;
    }
}

impl Deref for Lease {
    type Target = ClientSession;
    fn deref(&self) -> &ClientSession {
        self.session.as_ref().expect("a lease holds its session")
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut ClientSession {
        self.session.as_mut().expect("a lease holds its session")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(mut session) = self.session.take() else {
            return;
        };
        let home = self.home.clone();
        if !self.open {
            home.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(session);
            return;
        }
        // Dropping `session` would let the driver abort it, but the session is ours to reuse.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = session.abort_transaction().await {
                    tracing::debug!(error = %describe(&e), "aborting an abandoned transaction failed");
                }
                home.idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(session);
            });
        }
    }
}

/// Keeps the background tasks of one store running; aborts them when the last clone drops.
#[derive(Clone, Debug)]
pub(crate) struct Watch(#[allow(dead_code)] Arc<Tasks>);

#[derive(Debug)]
struct Tasks(Vec<AbortHandle>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Bumps this instance's `beat` every [`BEAT_EVERY`], re-adding its session ids (so an instance
/// taken for dead during a long pause is known again at once).
async fn beat(inner: Arc<Inner>) {
    let mut every = tokio::time::interval(BEAT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let known = inner
            .known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let result = inner
            .instances
            .update_one(
                doc! { "_id": &inner.instance },
                doc! { "$inc": { "beat": 1_i64 }, "$addToSet": { "sessions": { "$each": known } } },
            )
            .with_options(UpdateOptions::builder().upsert(true).build())
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %describe(&e), "cannot record that this instance is alive");
        }
    }
}

/// What this instance last saw of another one.
struct Seen {
    beat: Bson,
    since: Instant,
}

/// Every [`CHECK_EVERY`], frees the sessions of the instances whose beat stood still for
/// [`DEAD_AFTER`].
async fn check(inner: Arc<Inner>) {
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut every = tokio::time::interval(CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = check_once(&inner, &mut seen).await {
            tracing::warn!(error = %describe(&e), "cannot look for stopped instances");
        }
    }
}

async fn check_once(
    inner: &Inner,
    seen: &mut HashMap<String, Seen>,
) -> Result<(), mongodb::error::Error> {
    use futures::TryStreamExt;
    let others: Vec<Document> = inner
        .instances
        .find(doc! { "_id": { "$ne": &inner.instance } })
        .await?
        .try_collect()
        .await?;
    let now = Instant::now();
    let present: Vec<String> = others
        .iter()
        .filter_map(|d| d.get_str("_id").ok().map(str::to_owned))
        .collect();
    seen.retain(|id, _| present.contains(id));
    for other in others {
        let Ok(id) = other.get_str("_id").map(str::to_owned) else {
            continue;
        };
        let beat = other.get("beat").cloned().unwrap_or(Bson::Null);
        let entry = seen.entry(id.clone()).or_insert_with(|| Seen {
            beat: beat.clone(),
            since: now,
        });
        if entry.beat != beat {
            *entry = Seen { beat, since: now };
            continue;
        }
        if now.duration_since(entry.since) < DEAD_AFTER {
            continue;
        }
        let sessions: Vec<Bson> = other
            .get_array("sessions")
            .map(|s| s.to_vec())
            .unwrap_or_default();
        if !sessions.is_empty() {
            inner
                .client
                .database("admin")
                .run_command(doc! { "killSessions": sessions.clone() })
                .await?;
        }
        // Removed only if it did not beat meanwhile: a live instance keeps its document.
        let filter = match &beat {
            Bson::Null => doc! { "_id": &id, "beat": { "$exists": false } },
            beat => doc! { "_id": &id, "beat": beat.clone() },
        };
        inner.instances.delete_one(filter).await?;
        seen.remove(&id);
        tracing::warn!(
            instance = %id,
            sessions = sessions.len(),
            "an instance stopped: aborted the transactions of its sessions"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MongoStore;
    use crate::transaction::{Abort, OrAbort};
    use domain::StoreError;

    /// A fresh database on the test server, or `None` (after a loud line) outside CI.
    fn test_url() -> Option<String> {
        match std::env::var("STOCKROOM_TEST_MONGO_URL") {
            Ok(url) if !url.is_empty() => {
                let name = format!("stockroom_liveness_{}", uuid::Uuid::now_v7().simple());
                let (base, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
                let base = base.trim_end_matches('/');
                Some(format!("{base}/{name}?{query}"))
            }
            _ if std::env::var("CI").is_ok() => panic!("STOCKROOM_TEST_MONGO_URL is not set"),
            _ => {
                eprintln!("!!!!! SKIPPED: STOCKROOM_TEST_MONGO_URL is not set !!!!!");
                None
            }
        }
    }

    /// One instance dies holding a transaction that wrote a document: no abort is ever sent and
    /// its beat stops. Another instance's transaction on that document must commit within the
    /// bound — without the watch it would be refused with `WriteConflict` until the server's
    /// transaction lifetime (60 s) ran out, past `in_transaction`'s retry budget.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dead_instances_open_transaction_is_aborted_within_seconds() {
        let Some(url) = test_url() else { return };
        let dead = MongoStore::connect(&url).await.unwrap();
        let alive = MongoStore::connect(&url).await.unwrap();
        let probes = alive.raw("livenessProbe");
        probes
            .insert_one(doc! { "_id": "hot", "n": 0_i64 })
            .await
            .unwrap();

        let mut lease = dead.sessions.lease().await.unwrap();
        lease.start_transaction().await.unwrap();
        dead.raw("livenessProbe")
            .update_one(doc! { "_id": "hot" }, doc! { "$inc": { "n": 100_i64 } })
            .session(&mut *lease)
            .await
            .unwrap();
        // Die: the beat stops and the session is never ended.
        std::mem::forget(lease);
        drop(dead);

        let started = Instant::now();
        let written: Result<(), StoreError> = alive
            .in_transaction(|session| {
                let probes = probes.clone();
                Box::pin(async move {
                    probes
                        .update_one(doc! { "_id": "hot" }, doc! { "$inc": { "n": 1_i64 } })
                        .session(session)
                        .await
                        .or_abort::<StoreError>("writing the probe")?;
                    Ok::<(), Abort<StoreError>>(())
                })
            })
            .await;
        let took = started.elapsed();
        assert!(written.is_ok(), "the write went through: {written:?}");
        assert!(
            took <= Duration::from_secs(5),
            "the dead instance blocked the document for {took:?}"
        );
        assert!(
            took >= Duration::from_millis(1500),
            "the document was free at once ({took:?}): the dead transaction did not hold it"
        );
        let probe = probes
            .find_one(doc! { "_id": "hot" })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(probe.get_i64("n").unwrap(), 1, "only the live write landed");
        let left = alive
            .raw(crate::store::collections::INSTANCES)
            .count_documents(doc! {})
            .await
            .unwrap();
        assert_eq!(left, 1, "the dead instance's record was removed");
    }
}
