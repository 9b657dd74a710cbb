//! Reading idempotency records; they are written only beside the write they guard.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::idempotency::{IdempotencyRecord, IdempotencyRepository};
use domain::ids::{TenantId, UserId};
use domain::StoreError;
use mongodb::bson::doc;

use crate::documents::bson_time;
use crate::errors::StoreResult;
use crate::store::MongoStore;

#[async_trait]
impl IdempotencyRepository for MongoStore {
    async fn find(
        &self,
        tenant: &TenantId,
        user: &UserId,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        // The TTL monitor removes expired records only about once a minute: filter on expiry too.
        self.idempotency_records()
            .find_one(doc! {
                "tenantId": tenant.to_string(),
                "userId": user.to_string(),
                "key": key,
                "expiresAt": { "$gt": bson_time(now) },
            })
            .await
            .store("reading an idempotency record")?
            .map(IdempotencyRecord::try_from)
            .transpose()
    }
}
