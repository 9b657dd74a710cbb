//! The repository ports of the domain, implemented on [`MongoStore`], one file per area, and the
//! write helpers they share.

mod catalog_products;
mod catalog_variants;
mod idempotency;
mod incoming;
mod ledger;
mod ledger_batch;
mod ledger_write;
mod locations;
mod orders;
mod purchase_orders;
mod reports;
mod reservations;
mod suppliers;
mod tenants;
mod transfers;
mod users;

use domain::idempotency::IdempotencyWrite;
use domain::ids::TenantId;
use domain::StoreError;
use mongodb::bson::doc;
use mongodb::{ClientSession, Collection};
use serde::Serialize;

use crate::documents::{bson_time, IdempotencyDoc};
use crate::errors::{is_duplicate_key, StoreResult};
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

impl MongoStore {
    /// Stores an idempotency record inside the caller's transaction: first removes an expired
    /// record of the same key (expired as of the record's own creation time), then inserts. A
    /// live record of the key makes the insert fail with `IdempotencyKeyTaken`.
    pub(crate) async fn store_idempotency<E: From<StoreError>>(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        record: &IdempotencyWrite,
    ) -> Result<(), Abort<E>> {
        let records = self.idempotency_records();
        records
            .delete_one(doc! {
                "tenantId": tenant.to_string(),
                "userId": record.user_id.to_string(),
                "key": &record.key,
                "expiresAt": { "$lte": bson_time(record.created_at) },
            })
            .session(&mut *session)
            .await
            .or_abort("removing an expired idempotency record")?;
        match records
            .insert_one(IdempotencyDoc::new(tenant, record))
            .session(&mut *session)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => {
                Err(Abort::Refuse(StoreError::IdempotencyKeyTaken.into()))
            }
            Err(error) => Err(Abort::Driver {
                error,
                doing: "storing an idempotency record",
            }),
        }
    }

    /// Inserts `doc` — alone when there is no idempotency record, else in one transaction with
    /// the record. A unique-index violation on `doc` is `Duplicate`; a live key is
    /// `IdempotencyKeyTaken`; either way nothing is written.
    /// Claims the tenant's parent document `id` of `collection` for a child written in the same
    /// transaction (a variant's product, a purchase order's supplier): bumps its `childWrites`
    /// counter, or refuses with `NotFound` when it is gone.
    ///
    /// A check that only read the parent could pass while a concurrent transaction deletes it:
    /// both would commit, leaving the child orphaned. Writing the parent makes the two
    /// transactions write the same document, so MongoDB lets one commit and aborts the other
    /// with a write conflict; retried, it finds the parent gone (the child is refused) or the
    /// child there (the deletion is refused or takes the child with it).
    pub(crate) async fn claim_parent<D, E>(
        &self,
        session: &mut ClientSession,
        collection: &Collection<D>,
        tenant: &TenantId,
        id: &str,
        doing: &'static str,
    ) -> Result<(), Abort<E>>
    where
        D: Send + Sync,
        E: From<StoreError>,
    {
        let claimed = collection
            .update_one(
                doc! { "_id": id, "tenantId": tenant.to_string() },
                doc! { "$inc": { "childWrites": 1_i64 } },
            )
            .session(&mut *session)
            .await
            .or_abort(doing)?;
        if claimed.matched_count == 0 {
            return Err(Abort::Refuse(StoreError::NotFound.into()));
        }
        Ok(())
    }

    pub(crate) async fn insert_with_idempotency<D>(
        &self,
        collection: Collection<D>,
        doc: D,
        tenant: &TenantId,
        idempotency: Option<IdempotencyWrite>,
        doing: &'static str,
    ) -> Result<(), StoreError>
    where
        D: Serialize + Clone + Send + Sync + 'static,
    {
        let Some(record) = idempotency else {
            return collection.insert_one(doc).await.map(drop).store(doing);
        };
        let tenant = *tenant;
        self.in_transaction(move |session| {
            let store = self.clone();
            let collection = collection.clone();
            let doc = doc.clone();
            let record = record.clone();
            Box::pin(async move {
                collection
                    .insert_one(doc)
                    .session(&mut *session)
                    .await
                    .or_abort(doing)?;
                store.store_idempotency(session, &tenant, &record).await
            })
        })
        .await
    }
}
