//! The store handle: opening the database and running work on its connections.
//!
//! rusqlite is blocking, so every call runs on tokio's blocking pool (`spawn_blocking`) and never
//! stalls the async workers. Writes take the single writer connection and run inside a
//! `BEGIN IMMEDIATE` transaction, each in its own savepoint and kept only if the whole closure
//! succeeds — a use case's write is all or nothing; writes that queue together share the commit. Reads run in a deferred transaction on a pooled reader, so a read of
//! several statements (a page of orders and their lines) sees one consistent snapshot.

use std::sync::Arc;

use anyhow::Context;
use domain::StoreError;
use rusqlite::{Connection, Transaction};
use tokio::sync::oneshot::{self, error::TryRecvError};
use tokio::sync::Mutex;

use crate::connection::{open_writer, Lease, Location, ReaderPool};
use crate::error::{task_failed, SqlResultExt};
use crate::group::{run_group, Write, WriteQueue};
use crate::migrate;

/// How many reading connections a file database keeps open.
const READERS: usize = 4;

/// Stockroom's SQLite store. Implements every repository port of the domain; cheap to clone
/// (all clones share the same connections), so wire it as `Arc::new(store.clone())` per port.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Arc<Mutex<Connection>>,
    /// Writes waiting for the writer; whoever holds it commits them together.
    queue: Arc<WriteQueue>,
    /// `None` for an in-memory database, whose data only the writer connection can see.
    readers: Option<ReaderPool>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("readers", &self.inner.readers.is_some())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    ///
    /// `url` is `sqlite://relative/path.db`, `sqlite:///absolute/path.db` (the folder is created
    /// if missing) or `sqlite::memory:` (a fresh database private to this store and its clones).
    /// Async because opening touches the disk; the work runs on the blocking pool.
    pub async fn open(url: &str) -> anyhow::Result<SqliteStore> {
        let location = Location::parse(url)?;
        tokio::task::spawn_blocking(move || Self::open_blocking(&location))
            .await
            .context("opening the SQLite store")?
    }

    fn open_blocking(location: &Location) -> anyhow::Result<SqliteStore> {
        let mut writer = open_writer(location)?;
        migrate::apply(&mut writer)?;
        let readers = match location {
            Location::File(path) => Some(ReaderPool::open(path, READERS)?),
            Location::Memory => None,
        };
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writer: Arc::new(Mutex::new(writer)),
                queue: Arc::default(),
                readers,
            }),
        })
    }

    /// Runs `work` on the writer inside a `BEGIN IMMEDIATE` transaction, in its own savepoint,
    /// and answers once that transaction is committed: `Ok` only if `work` succeeded and the
    /// commit is durable; on `Err` nothing `work` did is kept. Writes queued at the same moment
    /// share the transaction and its commit ([`crate::group`]). `what` names the operation in
    /// error chains.
    pub(crate) async fn write<T, E, F>(&self, what: &'static str, work: F) -> Result<T, E>
    where
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, mut answer) = oneshot::channel();
        let _queued = self.inner.queue.push(Box::new(Write { what, work, reply }));
        loop {
            let mut conn = self.inner.writer.clone().lock_owned().await;
            // Whoever held the writer before has finished and answered everything it took.
            match answer.try_recv() {
                Ok(result) => return result,
                Err(TryRecvError::Closed) => return Err(E::from(abandoned(what))),
                Err(TryRecvError::Empty) => {}
            }
            let writes = self.inner.queue.take();
            tokio::task::spawn_blocking(move || run_group(&mut conn, writes))
                .await
                .map_err(|e| E::from(task_failed(what, e)))?;
            // Ours was in that group unless more were queued before it than one group takes.
            match answer.try_recv() {
                Ok(result) => return result,
                Err(TryRecvError::Closed) => return Err(E::from(abandoned(what))),
                Err(TryRecvError::Empty) => {}
            }
        }
    }

    /// Sets the stock of one level (`variant` at `location`) with plain SQL, outside the ledger:
    /// no movement, no check, and the variant's total is left as it was — so the audit reports
    /// both the level and the total. A level the variant does not have yet is created. Returns
    /// how many levels were written: 1, or 0 when the variant does not exist in the tenant.
    ///
    /// It exists only so tests can corrupt stock on purpose and see the audit report it — an
    /// in-memory database is reachable through this store's connection alone. Never compiled
    /// into the server (feature `test-support`, enabled only by tests).
    #[cfg(feature = "test-support")]
    pub async fn set_stock_behind_the_ledger(
        &self,
        tenant: &domain::ids::TenantId,
        variant: &domain::ids::VariantId,
        location: &domain::ids::LocationId,
        stock: i64,
    ) -> Result<usize, StoreError> {
        let (tenant, variant, location) = (
            tenant.to_string(),
            variant.to_string(),
            location.to_string(),
        );
        self.write("changing stock behind the ledger", move |tx| {
            tx.execute(
                crate::test_support::SET_LEVEL_SQL,
                rusqlite::params![tenant, variant, location, stock],
            )
            .or_store("changing stock behind the ledger")
        })
        .await
    }

    /// Runs `work` in a read transaction on a pooled reader (the writer for memory databases).
    pub(crate) async fn read<T, F>(&self, what: &'static str, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let mut lease = match &self.inner.readers {
            Some(pool) => pool.lease().await,
            None => Lease::unpooled(self.inner.writer.clone().lock_owned().await),
        };
        tokio::task::spawn_blocking(move || {
            let tx = lease.conn.transaction().or_store(what)?;
            let out = work(&tx).or_store(what)?;
            tx.commit().or_store(what)?;
            Ok(out)
        })
        .await
        .map_err(|e| task_failed(what, e))?
    }
}

/// A write whose answer was dropped without being sent: it ran in a group that failed in a way
/// that lost its answer (a panic), so its outcome is unknown.
fn abandoned(what: &'static str) -> StoreError {
    StoreError::Unavailable(format!(
        "{what}: the write was interrupted and its outcome is unknown"
    ))
}
