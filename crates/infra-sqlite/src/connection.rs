//! Where the database lives and how connections to it are opened and shared.
//!
//! SQLite allows one writer at a time, so the store keeps exactly one writing connection behind an
//! async mutex: use cases queue for it without blocking a thread, and `BEGIN IMMEDIATE` never has
//! to wait on another connection of this process. In WAL mode readers see the last committed
//! snapshot beside the writer, so reads go to a small pool of read-only connections and are never
//! queued behind writes. An in-memory database exists only inside its connection, so there the
//! writer serves reads too: every caller sees the same data.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

/// How long a statement waits for a lock held by another process before giving up as busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the database is, parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// `sqlite://path/to/file.db` (relative to the working directory) or `sqlite:///abs/file.db`.
    File(PathBuf),
    /// `sqlite::memory:` — a fresh database that lives as long as the store.
    Memory,
}

impl Location {
    pub(crate) fn parse(url: &str) -> anyhow::Result<Self> {
        if url == "sqlite::memory:" {
            return Ok(Location::Memory);
        }
        let Some(path) = url.strip_prefix("sqlite://") else {
            bail!("a SQLite URL must be `sqlite://<path>` or `sqlite::memory:`, got `{url}`");
        };
        if path.is_empty() {
            bail!("the SQLite URL `{url}` names no file");
        }
        if path.contains('?') {
            bail!("the SQLite URL `{url}` has query parameters, which are not supported");
        }
        Ok(Location::File(PathBuf::from(path)))
    }
}

/// Applies the settings every connection needs. `journal_mode` is per database, so only the
/// writer sets it; `synchronous=FULL` makes an acknowledged commit survive power loss.
fn configure(conn: &Connection) -> anyhow::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// Opens the single writing connection, creating the file (and its folder) if missing.
pub(crate) fn open_writer(location: &Location) -> anyhow::Result<Connection> {
    let conn = match location {
        Location::Memory => {
            Connection::open_in_memory().context("opening an in-memory database")?
        }
        Location::File(path) => {
            create_parent(path)?;
            let conn = Connection::open(path)
                .with_context(|| format!("opening the database {}", path.display()))?;
            let mode: String = conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
                .context("switching to WAL")?;
            if !mode.eq_ignore_ascii_case("wal") {
                bail!(
                    "the database {} refused WAL mode (got {mode})",
                    path.display()
                );
            }
            conn
        }
    };
    configure(&conn)?;
    // Writes run inside savepoints (see `group`), and SQLite keeps a savepoint's undo pages in a
    // statement journal: a temporary file by default, one write call per page. They only serve
    // to roll a savepoint back inside the open transaction — crash recovery is the WAL's job —
    // so the writer keeps them in memory.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

fn create_parent(path: &Path) -> anyhow::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the folder {}", parent.display())),
        _ => Ok(()),
    }
}

/// Opens a connection that can only read (`query_only`), for the reader pool.
fn open_reader(path: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .with_context(|| format!("opening a reader of {}", path.display()))?;
    configure(&conn)?;
    conn.pragma_update(None, "query_only", "ON")?;
    Ok(conn)
}

/// A fixed set of reading connections; a caller leases a free one for one read.
pub(crate) struct ReaderPool {
    slots: Vec<Arc<Mutex<Connection>>>,
    free: Arc<Semaphore>,
}

/// A leased connection. The connection is released before the permit (field order), so a
/// caller holding a permit always finds a free slot.
pub(crate) struct Lease {
    pub(crate) conn: OwnedMutexGuard<Connection>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Lease {
    /// A connection that is not part of a pool (the writer serving reads of a memory database).
    pub(crate) fn unpooled(conn: OwnedMutexGuard<Connection>) -> Self {
        Self {
            conn,
            _permit: None,
        }
    }
}

impl ReaderPool {
    pub(crate) fn open(path: &Path, size: usize) -> anyhow::Result<Self> {
        let slots = (0..size.max(1))
            .map(|_| open_reader(path).map(|c| Arc::new(Mutex::new(c))))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let free = Arc::new(Semaphore::new(slots.len()));
        Ok(Self { slots, free })
    }

    /// Waits for a free reader without blocking a thread.
    pub(crate) async fn lease(&self) -> Lease {
        // The semaphore is never closed, so the permit is always granted.
        let permit = self.free.clone().acquire_owned().await.ok();
        for slot in &self.slots {
            if let Ok(conn) = slot.clone().try_lock_owned() {
                return Lease {
                    conn,
                    _permit: permit,
                };
            }
        }
        // Unreachable while every lease holds a permit; waiting on a slot is still correct.
        Lease {
            conn: self.slots[0].clone().lock_owned().await,
            _permit: permit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_file_or_memory() {
        assert_eq!(
            Location::parse("sqlite::memory:").unwrap(),
            Location::Memory
        );
        assert_eq!(
            Location::parse("sqlite://data/stockroom.db").unwrap(),
            Location::File(PathBuf::from("data/stockroom.db"))
        );
        assert_eq!(
            Location::parse("sqlite:///var/lib/stockroom.db").unwrap(),
            Location::File(PathBuf::from("/var/lib/stockroom.db"))
        );
        for bad in [
            "",
            "sqlite://",
            "postgres://x",
            "sqlite://a.db?mode=rwc",
            "file.db",
        ] {
            assert!(Location::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
