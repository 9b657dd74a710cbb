//! Idempotency records: stored in the same transaction as the write they guard.
//!
//! A record is keyed by (tenant, key). An expired record of the key is deleted first, inside the
//! same transaction, so an old key can be reused; a live one makes the primary key refuse the
//! insert, which is reported as `IdempotencyKeyTaken` and rolls the whole write back.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::idempotency::{
    IdempotencyRecord, IdempotencyRepository, IdempotencyWrite, StoredResponse,
};
use domain::ids::TenantId;
use domain::StoreError;
use rusqlite::{params, Transaction};

use crate::error::{is_unique_violation, translate, SqlResultExt};
use crate::row::{millis, optional_row, RowExt};
use crate::SqliteStore;

/// The parts of a record as written.
pub(crate) struct NewRecord<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub response: &'a StoredResponse,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl<'a> From<&'a IdempotencyWrite> for NewRecord<'a> {
    fn from(w: &'a IdempotencyWrite) -> Self {
        Self {
            key: &w.key,
            fingerprint: &w.fingerprint,
            response: &w.response,
            created_at: w.created_at,
            expires_at: w.expires_at,
        }
    }
}

/// Replaces an expired record of the key (expired as of the new record's creation) and inserts
/// the new one. `IdempotencyKeyTaken` if a live record holds the key.
pub(crate) fn store(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    record: NewRecord<'_>,
) -> Result<(), StoreError> {
    let tenant = tenant.to_string();
    tx.execute(
        "DELETE FROM idempotency_records WHERE tenant_id = ?1 AND key = ?2 AND expires_at <= ?3",
        params![tenant, record.key, millis(&record.created_at)],
    )
    .or_store("removing an expired idempotency record")?;
    tx.execute(
        "INSERT INTO idempotency_records
             (tenant_id, key, fingerprint, status, body, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            tenant,
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

/// `IdempotencyKeyTaken` when a record of `key` is live at `now`. Checked before a write does its
/// work, so a repeat is refused as a repeat rather than for whatever else it would collide with.
pub(crate) fn refuse_if_live(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let live = optional_row(
        tx,
        "SELECT 1 FROM idempotency_records WHERE tenant_id = ?1 AND key = ?2 AND expires_at > ?3",
        params![tenant.to_string(), key, millis(&now)],
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
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let (tenant, key) = (tenant.to_string(), key.to_owned());
        self.read("finding an idempotency record", move |tx| {
            optional_row(
                tx,
                "SELECT key, fingerprint, status, body, created_at, expires_at
                 FROM idempotency_records WHERE tenant_id = ?1 AND key = ?2 AND expires_at > ?3",
                params![tenant, key, millis(&now)],
                |row| {
                    Ok(IdempotencyRecord {
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
