//! Idempotency records: stored in the same transaction as the write they guard.
//!
//! A record is keyed by (tenant, user, key): a key is its sender's own. An expired record of the
//! key is deleted first, inside the same transaction, so an old key can be reused; a live one
//! makes the primary key refuse the insert, which is reported as `IdempotencyKeyTaken` and rolls
//! the whole write back.
//!
//! SQLite has no TTL index, so expired records are purged on write: every write that stores a
//! record first deletes up to [`PURGE_BATCH`] records of any tenant expired by then, in the same
//! transaction (through the expiry index). Keyed writes far outnumber the records expiring between
//! two of them, so the table holds about one retention period of records; a store without keyed
//! writes keeps its old records, which no read ever returns, until the next one.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::idempotency::{
    IdempotencyRecord, IdempotencyRepository, IdempotencyWrite, StoredResponse,
};
use domain::ids::{TenantId, UserId};
use domain::StoreError;
use rusqlite::{params, Transaction};

use crate::error::{is_unique_violation, translate, SqlResultExt};
use crate::row::{millis, optional_row, RowExt};
use crate::SqliteStore;

/// The parts of a record as written.
pub(crate) struct NewRecord<'a> {
    pub user: UserId,
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub response: &'a StoredResponse,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl<'a> From<&'a IdempotencyWrite> for NewRecord<'a> {
    fn from(w: &'a IdempotencyWrite) -> Self {
        Self {
            user: w.user_id,
            key: &w.key,
            fingerprint: &w.fingerprint,
            response: &w.response,
            created_at: w.created_at,
            expires_at: w.expires_at,
        }
    }
}

/// How many expired records (of any tenant) a write that stores a record purges at most.
pub(crate) const PURGE_BATCH: i64 = 100;

/// Deletes up to [`PURGE_BATCH`] records expired at `now`, oldest expiry first.
pub(crate) fn purge_expired(tx: &Transaction<'_>, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    tx.execute(
        "DELETE FROM idempotency_records WHERE rowid IN (
             SELECT rowid FROM idempotency_records WHERE expires_at <= ?1
              ORDER BY expires_at LIMIT ?2)",
        params![millis(&now), PURGE_BATCH],
    )
}

/// Purges expired records ([`purge_expired`], which also frees an expired record of this very
/// key, as of the new record's creation) and inserts the new one. `IdempotencyKeyTaken` if a
/// live record holds the key.
pub(crate) fn store(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    record: NewRecord<'_>,
) -> Result<(), StoreError> {
    let tenant = tenant.to_string();
    let user = record.user.to_string();
    tx.execute(
        "DELETE FROM idempotency_records
          WHERE tenant_id = ?1 AND user_id = ?2 AND key = ?3 AND expires_at <= ?4",
        params![tenant, user, record.key, millis(&record.created_at)],
    )
    .or_store("removing an expired idempotency record")?;
    purge_expired(tx, record.created_at).or_store("purging expired idempotency records")?;
    tx.execute(
        "INSERT INTO idempotency_records
             (tenant_id, user_id, key, fingerprint, status, body, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            tenant,
            user,
            record.key,
            record.fingerprint,
            record.response.status,
            record.response.body,
            millis(&record.created_at),
            millis(&record.expires_at),
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::IdempotencyKeyTaken
        } else {
            translate(e, "storing an idempotency record")
        }
    })?;
    Ok(())
}

/// `IdempotencyKeyTaken` when `user`'s record of `key` is live at `now`. Checked before a write
/// does its work, so a repeat is refused as a repeat rather than for whatever else it would
/// collide with.
pub(crate) fn refuse_if_live(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    user: &UserId,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let live = optional_row(
        tx,
        "SELECT 1 FROM idempotency_records
          WHERE tenant_id = ?1 AND user_id = ?2 AND key = ?3 AND expires_at > ?4",
        params![tenant.to_string(), user.to_string(), key, millis(&now)],
        |_| Ok(()),
    )
    .or_store("looking up an idempotency key")?;
    match live {
        Some(()) => Err(StoreError::IdempotencyKeyTaken),
        None => Ok(()),
    }
}

#[async_trait]
impl IdempotencyRepository for SqliteStore {
    async fn find(
        &self,
        tenant: &TenantId,
        user: &UserId,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let (tenant, user_id, key) = (tenant.to_string(), *user, key.to_owned());
        self.read("finding an idempotency record", move |tx| {
            optional_row(
                tx,
                "SELECT key, fingerprint, status, body, created_at, expires_at
                 FROM idempotency_records
                 WHERE tenant_id = ?1 AND user_id = ?2 AND key = ?3 AND expires_at > ?4",
                params![tenant, user_id.to_string(), key, millis(&now)],
                |row| {
                    Ok(IdempotencyRecord {
                        user_id,
                        key: row.get("key")?,
                        fingerprint: row.get("fingerprint")?,
                        response: StoredResponse {
                            status: row.get("status")?,
                            body: row.get("body")?,
                        },
                        created_at: row.time("created_at")?,
                        expires_at: row.time("expires_at")?,
                    })
                },
            )
        })
        .await
    }
}
