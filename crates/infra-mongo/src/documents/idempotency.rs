//! Idempotency records as stored. `expiresAt` carries a TTL index, so MongoDB deletes expired
//! records by itself; reads still filter on it because the TTL monitor runs only once a minute.

use domain::idempotency::{IdempotencyRecord, IdempotencyWrite, StoredResponse};
use domain::ids::TenantId;
use domain::StoreError;
use mongodb::bson::{self, spec::BinarySubtype, Binary};
use serde::{Deserialize, Serialize};

use super::{bson_time, domain_time};
use crate::errors::corrupt;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IdempotencyDoc {
    /// A fresh UUIDv7; records are found by the unique `(tenantId, userId, key)` triple.
    #[serde(rename = "_id")]
    pub id: String,
    pub tenant_id: String,
    /// Who sent the key. Records written before keys were scoped per user have none: no
    /// lookup matches them and they expire like any other.
    #[serde(default)]
    pub user_id: String,
    pub key: String,
    pub fingerprint: String,
    pub status: i32,
    /// The response body, byte for byte.
    pub body: Binary,
    pub created_at: bson::DateTime,
    pub expires_at: bson::DateTime,
}

impl IdempotencyDoc {
    pub(crate) fn new(tenant: &TenantId, record: &IdempotencyWrite) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id: tenant.to_string(),
            user_id: record.user_id.to_string(),
            key: record.key.clone(),
            fingerprint: record.fingerprint.clone(),
            status: i32::from(record.response.status),
            body: Binary {
                subtype: BinarySubtype::Generic,
                bytes: record.response.body.clone(),
            },
            created_at: bson_time(record.created_at),
            expires_at: bson_time(record.expires_at),
        }
    }
}

impl TryFrom<IdempotencyDoc> for IdempotencyRecord {
    type Error = StoreError;

    fn try_from(d: IdempotencyDoc) -> Result<Self, StoreError> {
        Ok(IdempotencyRecord {
            user_id: d
                .user_id
                .parse()
                .map_err(|_| corrupt("idempotency record user", &d.user_id))?,
            key: d.key,
            fingerprint: d.fingerprint,
            response: StoredResponse {
                status: u16::try_from(d.status)
                    .map_err(|_| corrupt("idempotency response status", d.status))?,
                body: d.body.bytes,
            },
            created_at: domain_time(d.created_at)?,
            expires_at: domain_time(d.expires_at)?,
        })
    }
}
