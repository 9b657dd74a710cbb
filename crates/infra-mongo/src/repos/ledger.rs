//! The ledger port: commits run as one retried transaction (their body is in `ledger_write`);
//! movements are listed newest first; the audit compares every level with its movements (summed
//! by the server, grouped by variant and location) and every variant's total with its levels.

use std::collections::{BTreeMap, BTreeSet, HashMap};

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
        if let Some(location) = &filter.location_id {
            query.insert("locationId", location.to_string());
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
                doc! { "$group": {
                    "_id": { "variant": "$variantId", "location": "$locationId" },
                    "sum": { "$sum": "$quantity" },
                }},
            ])
            .await
            .store("summing movements")?
            .try_collect()
            .await
            .store("summing movements")?;
        // Per variant, Σ quantity per location id.
        let mut ledger: HashMap<String, BTreeMap<String, i64>> = HashMap::new();
        for row in sums {
            let key = row
                .get_document("_id")
                .map_err(|e| corrupt("movement level", e))?;
            let text = |field: &str| match key.get(field) {
                Some(Bson::String(id)) => Ok(id.clone()),
                other => Err(corrupt("movement level", format!("{field}: {other:?}"))),
            };
            ledger
                .entry(text("variant")?)
                .or_default()
                .insert(text("location")?, integer(row.get("sum"), "movement sum")?);
        }

        let mut variants = self
            .variants()
            .find(doc! { "tenantId": &tenant_id })
            .sort(doc! { "_id": 1 })
            .await
            .store("reading stock levels")?;
        let mut report = AuditReport {
            variants_checked: 0,
            levels_checked: 0,
            drift: Vec::new(),
        };
        while let Some(v) = variants.try_next().await.store("reading stock levels")? {
            report.variants_checked += 1;
            report.levels_checked += v.levels.len() as u64;
            let variant_id = parse(&v.id, "variant id")?;
            let sums = ledger.remove(&v.id).unwrap_or_default();
            // Every location the variant has a level or movements at, by location id; movements
            // at a location without a level mean the level was removed behind the ledger.
            let locations: BTreeSet<&String> = v.levels.keys().chain(sums.keys()).collect();
            for location in locations {
                let stock = v.levels.get(location).copied().unwrap_or(0);
                let ledger_sum = sums.get(location).copied().unwrap_or(0);
                if stock != ledger_sum {
                    report.drift.push(Drift {
                        variant_id,
                        location_id: Some(parse(location, "level location id")?),
                        sku: v.sku.clone(),
                        stock,
                        ledger_sum,
                    });
                }
            }
            let levels_sum: i64 = v.levels.values().sum();
            if v.stock != levels_sum {
                report.drift.push(Drift {
                    variant_id,
                    location_id: None,
                    sku: v.sku.clone(),
                    stock: v.stock,
                    ledger_sum: levels_sum,
                });
            }
        }
        Ok(report)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map(drop)
            .store("pinging")
    }
}
