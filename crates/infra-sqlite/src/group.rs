//! Group commit: the writes waiting for the writer connection share one transaction.
//!
//! SQLite has one writer, and with `synchronous=FULL` every commit waits for the disk. Writes that
//! arrive while another is committing used to queue for the connection and then each pay for its
//! own flush. Instead every write is first put in a shared queue; whoever gets the connection
//! runs everything queued so far in one `BEGIN IMMEDIATE` transaction, each write inside its own
//! savepoint, and commits once. A write that fails is rolled back to its savepoint and answered
//! with its own error; the others are unaffected. A write is answered only once the commit that
//! carries it is durable (or with the commit's error if it is not).
//!
//! A caller that goes away before its write was taken from the queue takes the write back out
//! (see [`Queued`]), so an abandoned request is not applied later; once taken, the write
//! completes like a statement already sent to a database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use domain::StoreError;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use crate::error::SqlResultExt;

/// The most writes one transaction carries; the rest go in the next.
const MAX_GROUP: usize = 128;

/// Called with the fate of the transaction that carried a write: `None` once committed.
type Finish = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// A write waiting for the writer, with its result type erased.
pub(crate) trait PendingWrite: Send {
    /// Runs the write in its own savepoint. Returns how to answer it once the transaction's fate
    /// is known, and `false` if the transaction can no longer be trusted (a savepoint could not
    /// be rolled back): then the whole group must fail.
    fn run(self: Box<Self>, tx: &Transaction<'_>) -> (Finish, bool);

    /// Answers the write with `error` without running it.
    fn refuse(self: Box<Self>, error: &StoreError);
}

/// One write: its closure and where its result goes.
pub(crate) struct Write<T, E, F> {
    pub(crate) what: &'static str,
    pub(crate) work: F,
    pub(crate) reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> PendingWrite for Write<T, E, F>
where
    F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    fn run(self: Box<Self>, tx: &Transaction<'_>) -> (Finish, bool) {
        let Write { what, work, reply } = *self;
        let (out, intact) = in_savepoint(tx, what, work);
        let finish: Finish = Box::new(move |failed| {
            let result = match (out, failed) {
                (Ok(_), Some(error)) => Err(E::from(error.replicate())),
                (out, _) => out,
            };
            let _ = reply.send(result);
        });
        (finish, intact)
    }

    fn refuse(self: Box<Self>, error: &StoreError) {
        let _ = self.reply.send(Err(E::from(error.replicate())));
    }
}

/// Runs `work` between `SAVEPOINT` and `RELEASE`, rolling back to the savepoint on error, so a
/// failure undoes this work only. The flag is `false` when the transaction is no longer in a
/// known state and must not be committed. Savepoints nest: SQLite resolves the name to the
/// innermost one.
pub(crate) fn in_savepoint<T, E, F>(
    tx: &Transaction<'_>,
    what: &'static str,
    work: F,
) -> (Result<T, E>, bool)
where
    F: FnOnce(&Transaction<'_>) -> Result<T, E>,
    E: From<StoreError>,
{
    if let Err(e) = tx.execute_batch("SAVEPOINT write").or_store(what) {
        return (Err(E::from(e)), false);
    }
    match work(tx) {
        Ok(value) => match tx.execute_batch("RELEASE write").or_store(what) {
            Ok(()) => (Ok(value), true),
            Err(e) => (Err(E::from(e)), false),
        },
        Err(e) => {
            // SQLite rolls the whole transaction back itself after some errors (I/O, disk
            // full): then there is no savepoint left, and the writes before this one are gone.
            let intact =
                !tx.is_autocommit() && tx.execute_batch("ROLLBACK TO write; RELEASE write").is_ok();
            (Err(e), intact)
        }
    }
}

/// Writes waiting for the writer connection, each with an id so its caller can withdraw it.
#[derive(Default)]
pub(crate) struct WriteQueue {
    next_id: AtomicU64,
    waiting: Mutex<Vec<(u64, Box<dyn PendingWrite>)>>,
}

impl WriteQueue {
    fn waiting(&self) -> MutexGuard<'_, Vec<(u64, Box<dyn PendingWrite>)>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `write`; the returned handle withdraws it if dropped before it was taken.
    pub(crate) fn push(self: &Arc<Self>, write: Box<dyn PendingWrite>) -> Queued {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.waiting().push((id, write));
        Queued {
            queue: self.clone(),
            id,
        }
    }

    /// The oldest queued writes, at most [`MAX_GROUP`].
    pub(crate) fn take(&self) -> Vec<Box<dyn PendingWrite>> {
        let mut waiting = self.waiting();
        let take = waiting.len().min(MAX_GROUP);
        waiting.drain(..take).map(|(_, write)| write).collect()
    }
}

/// A queued write's claim: dropping it before the write was taken withdraws the write.
pub(crate) struct Queued {
    queue: Arc<WriteQueue>,
    id: u64,
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.queue.waiting().retain(|(id, _)| *id != self.id);
    }
}

/// Runs `writes` in one transaction on `conn` and answers each of them.
pub(crate) fn run_group(conn: &mut Connection, writes: Vec<Box<dyn PendingWrite>>) {
    const WHAT: &str = "committing a group of writes";
    let tx = match conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .or_store(WHAT)
    {
        Ok(tx) => tx,
        Err(error) => {
            for write in writes {
                write.refuse(&error);
            }
            return;
        }
    };
    let mut finishes = Vec::with_capacity(writes.len());
    let mut writes = writes.into_iter();
    for write in writes.by_ref() {
        let (finish, intact) = write.run(&tx);
        finishes.push(finish);
        if !intact {
            let error = StoreError::Other(anyhow::anyhow!(
                "the write transaction was rolled back after a failed write; nothing in it was kept"
            ));
            drop(tx);
            for finish in finishes {
                finish(Some(&error));
            }
            for write in writes {
                write.refuse(&error);
            }
            return;
        }
    }
    let failed = tx.commit().or_store(WHAT).err();
    for finish in finishes {
        finish(failed.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER PRIMARY KEY)")
            .unwrap();
        conn
    }

    /// A write inserting `v`, and where its answer arrives.
    fn insert(
        v: i64,
    ) -> (
        Box<dyn PendingWrite>,
        oneshot::Receiver<Result<i64, StoreError>>,
    ) {
        let (reply, answer) = oneshot::channel();
        let write = Write {
            what: "inserting",
            work: move |tx: &Transaction<'_>| {
                tx.execute("INSERT INTO t (v) VALUES (?1)", [v])
                    .or_store("inserting")?;
                Ok(v)
            },
            reply,
        };
        (Box::new(write), answer)
    }

    fn stored(conn: &Connection) -> Vec<i64> {
        let mut statement = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        let rows = statement.query_map([], |row| row.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn a_failed_write_is_undone_alone_and_the_others_commit_together() {
        let mut conn = table();
        let (first, first_answer) = insert(1);
        let (again, again_answer) = insert(1);
        let (second, second_answer) = insert(2);
        run_group(&mut conn, vec![first, again, second]);

        assert_eq!(first_answer.blocking_recv().unwrap().unwrap(), 1);
        assert!(again_answer.blocking_recv().unwrap().is_err());
        assert_eq!(second_answer.blocking_recv().unwrap().unwrap(), 2);
        assert_eq!(stored(&conn), vec![1, 2]);
        assert!(conn.is_autocommit(), "the group's transaction is closed");
    }

    #[test]
    fn when_the_transaction_cannot_start_every_write_is_refused_unrun() {
        let mut conn = table();
        conn.execute_batch("BEGIN").unwrap();
        let (write, answer) = insert(7);
        run_group(&mut conn, vec![write]);
        assert!(answer.blocking_recv().unwrap().is_err());
        conn.execute_batch("ROLLBACK").unwrap();
        assert_eq!(stored(&conn), Vec::<i64>::new());
    }

    #[test]
    fn a_write_withdrawn_before_it_was_taken_never_runs() {
        let queue = Arc::new(WriteQueue::default());
        let (kept, _kept_answer) = insert(1);
        let (dropped, dropped_answer) = insert(2);
        let _kept = queue.push(kept);
        drop(queue.push(dropped));
        let taken = queue.take();
        assert_eq!(taken.len(), 1);
        let mut conn = table();
        run_group(&mut conn, taken);
        assert_eq!(stored(&conn), vec![1]);
        assert!(dropped_answer.blocking_recv().is_err(), "never answered");
    }
}
