//! Running a multi-document write as one transaction, with bounded retries.
//!
//! MongoDB reports a transaction that collided with another (a write conflict) or lost its
//! connection with the `TransientTransactionError` label: the whole transaction may simply be run
//! again. A commit whose outcome is unknown (`UnknownTransactionCommitResult`) may be committed
//! again. Both are retried here with jittered exponential backoff, within a bounded number of
//! attempts and time, so concurrent writers spread out instead of colliding in lock-step; past
//! the bound the write is reported as `Unavailable` (retryable by the client) rather than hanging.
//!
//! Each attempt is bounded too: its body must finish within [`BODY_DEADLINE`] and the server may
//! spend at most [`MAX_COMMIT_TIME`] on the commit, else the transaction is aborted and run again,
//! so a live instance never keeps the documents it writes locked for long. Transactions run on
//! the store's own sessions (`liveness`), whose ids the other instances know: the transactions
//! of an instance that died are aborted by the others within seconds, not when the server's
//! transaction lifetime (60 s by default) runs out.
//!
//! The body is given a fresh transaction on every attempt and must therefore be re-runnable: it
//! owns clones of what it writes. It separates *refusals* (a domain answer such as "not enough
//! stock", which aborts without retry) from *driver errors* (which may be retried).

use std::time::Duration;

use tokio::time::Instant;

use domain::StoreError;
use futures::future::BoxFuture;
use mongodb::error::{Error, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
use mongodb::options::{ReadConcern, WriteConcern};
use mongodb::ClientSession;
use rand::Rng;

use crate::errors::{describe, store_error};
use crate::liveness::Lease;
use crate::store::MongoStore;

/// Most attempts of one transaction (first run included). Generous: without the lock port in
/// front (or with its keys expired), hundreds of writers can collide on one hot variant, and
/// each collision costs a retry, not a wrong answer.
const MAX_ATTEMPTS: u32 = 100;
/// Longest time spent retrying one transaction.
const RETRY_BUDGET: Duration = Duration::from_secs(15);
/// First backoff ceiling; doubles on each retry up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_millis(250);
/// Longest one attempt's body may keep its transaction open before it is aborted and run again.
/// A body writes a handful of documents (a batch of orders, a few dozen): milliseconds, or
/// a few hundred under load. Every document it wrote is locked against all other writers until
/// it ends, so a body that stalls (a slow server, a lost reply) must not hold them longer.
const BODY_DEADLINE: Duration = Duration::from_secs(3);
/// Longest the server may spend on one `commitTransaction` (sent as its `maxTimeMS`).
const MAX_COMMIT_TIME: Duration = Duration::from_secs(2);

/// Why a transaction body stopped.
pub(crate) enum Abort<E> {
    /// A domain answer: abort and return it as is.
    Refuse(E),
    /// The driver failed while `doing` something: retried if transient, else translated.
    Driver { error: Error, doing: &'static str },
}

impl<E> From<E> for Abort<E> {
    fn from(e: E) -> Self {
        Abort::Refuse(e)
    }
}

/// `.or_abort("doing x")?` inside a transaction body.
pub(crate) trait OrAbort<T> {
    fn or_abort<E>(self, doing: &'static str) -> Result<T, Abort<E>>;
}

impl<T> OrAbort<T> for Result<T, Error> {
    fn or_abort<E>(self, doing: &'static str) -> Result<T, Abort<E>> {
        self.map_err(|error| Abort::Driver { error, doing })
    }
}

/// Counts attempts and sleeps between them.
struct Backoff {
    attempts: u32,
    started: Instant,
}

impl Backoff {
    fn new() -> Self {
        Self {
            attempts: 1,
            started: Instant::now(),
        }
    }

    /// Sleeps a random time below the current ceiling and returns `true`, or returns `false`
    /// when the attempts or the time budget are spent.
    async fn pause(&mut self) -> bool {
        if self.attempts >= MAX_ATTEMPTS || self.started.elapsed() >= RETRY_BUDGET {
            return false;
        }
        let ceiling = BASE_BACKOFF
            .saturating_mul(1 << self.attempts.min(16))
            .min(MAX_BACKOFF);
        let delay = rand::thread_rng().gen_range(Duration::ZERO..=ceiling);
        self.attempts += 1;
        tokio::time::sleep(delay).await;
        true
    }

    fn gave_up(&self, error: &Error, doing: &str) -> StoreError {
        StoreError::Unavailable(format!(
            "MongoDB kept refusing the transaction while {doing} ({} attempts in {} ms): {}",
            self.attempts,
            self.started.elapsed().as_millis(),
            describe(error)
        ))
    }
}

/// How a commit ended when it did not succeed.
enum CommitFailure {
    /// The whole transaction may be run again.
    Transient(Error),
    /// Give up with this error.
    Final(StoreError),
}

impl MongoStore {
    /// Runs `body` in a transaction (snapshot reads, majority writes) and commits it, retrying as
    /// described in the module docs. Nothing is written unless this returns `Ok`.
    pub(crate) async fn in_transaction<T, E, F>(&self, mut body: F) -> Result<T, E>
    where
        F: for<'s> FnMut(&'s mut ClientSession) -> BoxFuture<'s, Result<T, Abort<E>>> + Send,
        T: Send,
        E: From<StoreError> + Send,
    {
        let mut backoff = Backoff::new();
        let mut session = self
            .sessions
            .lease()
            .await
            .map_err(|e| E::from(store_error(e, "starting a session")))?;
        loop {
            session
                .start_transaction()
                .read_concern(ReadConcern::snapshot())
                .write_concern(WriteConcern::majority())
                .max_commit_time(MAX_COMMIT_TIME)
                .await
                .map_err(|e| E::from(store_error(e, "starting a transaction")))?;
            session.set_open(true);
            let ran = tokio::time::timeout(BODY_DEADLINE, body(&mut session)).await;
            let overran = ran.is_err();
            let ran = ran.unwrap_or_else(|_| {
                Err(Abort::Driver {
                    error: Error::custom(format!(
                        "the transaction ran past its {} ms deadline",
                        BODY_DEADLINE.as_millis()
                    )),
                    doing: "running a transaction",
                })
            });
            let (error, doing) = match ran {
                Ok(value) => {
                    let committed = commit(&mut session, &mut backoff).await;
                    session.set_open(false);
                    match committed {
                        Ok(()) => return Ok(value),
                        Err(CommitFailure::Final(e)) => return Err(E::from(e)),
                        Err(CommitFailure::Transient(error)) => (error, "committing a transaction"),
                    }
                }
                Err(Abort::Refuse(refusal)) => {
                    abort(&mut session).await;
                    return Err(refusal);
                }
                Err(Abort::Driver { error, doing }) => {
                    abort(&mut session).await;
                    if !overran && !error.contains_label(TRANSIENT_TRANSACTION_ERROR) {
                        return Err(E::from(store_error(error, doing)));
                    }
                    (error, doing)
                }
            };
            tracing::debug!(
                error = %describe(&error),
                doing,
                attempt = backoff.attempts,
                "transaction will be retried"
            );
            if !backoff.pause().await {
                return Err(E::from(backoff.gave_up(&error, doing)));
            }
        }
    }
}

/// Commits, re-committing while the outcome is unknown.
async fn commit(session: &mut Lease, backoff: &mut Backoff) -> Result<(), CommitFailure> {
    loop {
        match session.commit_transaction().await {
            Ok(()) => return Ok(()),
            Err(e) if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) => {
                if !backoff.pause().await {
                    return Err(CommitFailure::Final(
                        backoff.gave_up(&e, "committing a transaction"),
                    ));
                }
            }
            Err(e) if e.contains_label(TRANSIENT_TRANSACTION_ERROR) => {
                return Err(CommitFailure::Transient(e))
            }
            Err(e) => {
                return Err(CommitFailure::Final(store_error(
                    e,
                    "committing a transaction",
                )))
            }
        }
    }
}

/// Aborts after a failed body. The server may already have aborted it (a write conflict does),
/// so a failure here changes nothing and is only logged.
async fn abort(session: &mut Lease) {
    if let Err(e) = session.abort_transaction().await {
        tracing::debug!(error = %describe(&e), "aborting a transaction failed");
    }
    session.set_open(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn backoff_stops_at_the_attempt_or_time_bound() {
        let started = Instant::now();
        let mut backoff = Backoff::new();
        let mut pauses = 0;
        while backoff.pause().await {
            pauses += 1;
        }
        let spent = started.elapsed();
        assert!(
            pauses == MAX_ATTEMPTS - 1 || spent >= RETRY_BUDGET,
            "stopped early: {pauses} pauses in {spent:?}"
        );
        assert!(
            spent < RETRY_BUDGET + MAX_BACKOFF,
            "overran the budget: {spent:?}"
        );
    }
}
