//! The ledger port: commits run as one retried transaction (their body is in `ledger_write`);
//! movements are listed newest first; the audit compares stock with the movements, both summed
//! by the server.

use async_trait::async_trait;
use domain::ids::TenantId;
use domain::pagination::{Direction, Page, PageRequest};
use domain::stock::models::{
    AuditReport, Committed, Drift, LedgerError, LedgerWrite, MovementFilter, StockMovement,
};
use domain::stock::ports::LedgerRepository;
use domain::StoreError;
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};

use super::catalog_variants::integer;
use crate::documents::{bson_time, parse};
use crate::errors::{corrupt, StoreResult};
use crate::paging::read_page;
use crate::store::MongoStore;

#[async_trait]
impl LedgerRepository for MongoStore {
    async fn commit(
        &self,
        tenant: &TenantId,
        write: LedgerWrite,
    ) -> Result<Committed, LedgerError> {
        let tenant = *tenant;
        self.in_transaction(move |session| {
            let store = self.clone();
            let write = write.clone();
            Box::pin(async move { store.apply_ledger_write(session, &tenant, &write).await })
        })
        .await
    }

    async fn list_movements(
        &self,
        tenant: &TenantId,
        filter: &MovementFilter,
        page: &PageRequest,
    ) -> Result<Page<StockMovement>, StoreError> {
        let mut query = doc! { "tenantId": tenant.to_string() };
        if let Some(variant) = &filter.variant_id {
            query.insert("variantId", variant.to_string());
        }
        if let Some(kind) = filter.kind {
            query.insert("kind", kind.as_str());
        }
        let mut created = Document::new();
        if let Some(from) = filter.from {
            created.insert("$gte", bson_time(from));
        }
        if let Some(to) = filter.to {
            created.insert("$lt", bson_time(to));
        }
        if !created.is_empty() {
            query.insert("createdAt", created);
        }
        read_page(
            &self.movements(),
            query,
            page,
            Direction::Descending,
            StockMovement::try_from,
            |m| m.id.to_string(),
        )
        .await
    }

    async fn audit(&self, tenant: &TenantId) -> Result<AuditReport, StoreError> {
        let tenant_id = tenant.to_string();
        let sums: Vec<Document> = self
            .movements()
            .aggregate([
                doc! { "$match": { "tenantId": &tenant_id } },
                doc! { "$group": { "_id": "$variantId", "sum": { "$sum": "$quantity" } } },
            ])
            .await
            .store("summing movements")?
            .try_collect()
            .await
            .store("summing movements")?;
        let mut ledger = std::collections::HashMap::with_capacity(sums.len());
        for row in sums {
            let id = match row.get("_id") {
                Some(Bson::String(id)) => id.clone(),
                other => return Err(corrupt("movement variant id", format!("{other:?}"))),
            };
            ledger.insert(id, integer(row.get("sum"), "movement sum")?);
        }

        let mut variants = self
            .variants()
            .clone_with_type::<Document>()
            .find(doc! { "tenantId": &tenant_id })
            .projection(doc! { "_id": 1, "sku": 1, "stock": 1 })
            .sort(doc! { "_id": 1 })
            .await
            .store("reading stock levels")?;
        let mut variants_checked = 0;
        let mut drift = Vec::new();
        while let Some(v) = variants.try_next().await.store("reading stock levels")? {
            variants_checked += 1;
            let id = v.get_str("_id").map_err(|e| corrupt("variant id", e))?;
            let stock = integer(v.get("stock"), "variant stock")?;
            let ledger_sum = ledger.get(id).copied().unwrap_or(0);
            if stock != ledger_sum {
                drift.push(Drift {
                    variant_id: parse(id, "variant id")?,
                    sku: v.get_str("sku").unwrap_or_default().to_owned(),
                    stock,
                    ledger_sum,
                });
            }
        }
        Ok(AuditReport {
            variants_checked,
            drift,
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map(drop)
            .store("pinging")
    }
}
