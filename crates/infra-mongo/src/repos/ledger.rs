//! The ledger port: commits run as one retried transaction (their body is in `ledger_write`);
//! movements are listed newest first; the audit compares every level's on hand with its movements
//! and its committed units with the open allocations of the orders that committed them (both
//! summed by the server, grouped by variant and location), and every variant's stored totals
//! with its levels.
//!
//! The orders counted are the tenant's PLACED orders with `soldAtPlacement: false`: an order sold
//! at placement (every order stored before orders committed units, whose documents lack the
//! field and so do not match `false`) holds no committed units. Each allocation counts its
//! quantity less what came back. The orders' `{tenantId, status}` index serves that match.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use domain::ids::TenantId;
use domain::orders::models::OrderStatus;
use domain::pagination::{Direction, Page, PageRequest};
use domain::stock::models::{
    AuditReport, AuditedState, Committed, Drift, LedgerError, LedgerWrite, MovementFilter,
    StockMovement,
};
use domain::stock::ports::LedgerRepository;
use domain::StoreError;
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};

use super::catalog_variants::{integer, ByLevel};
use crate::documents::{bson_time, parse};
use crate::errors::{corrupt, StoreResult};
use crate::paging::read_page;
use crate::store::MongoStore;

/// Aggregated rows `{_id: {variant, location}, sum}` as Σ per variant id, then per location id.
fn by_level(rows: Vec<Document>, what: &str) -> Result<ByLevel, StoreError> {
    let mut sums = ByLevel::new();
    for row in rows {
        let key = row.get_document("_id").map_err(|e| corrupt(what, e))?;
        let text = |field: &str| match key.get(field) {
            Some(Bson::String(id)) => Ok(id.clone()),
            other => Err(corrupt(what, format!("{field}: {other:?}"))),
        };
        sums.entry(text("variant")?)
            .or_default()
            .insert(text("location")?, integer(row.get("sum"), what)?);
    }
    Ok(sums)
}

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
        let movements = self
            .aggregate_rows(
                self.movements(),
                vec![
                    doc! { "$match": { "tenantId": &tenant_id } },
                    doc! { "$group": {
                        "_id": { "variant": "$variantId", "location": "$locationId" },
                        "sum": { "$sum": "$quantity" },
                    }},
                ],
                "summing movements",
            )
            .await?;
        let mut on_hand = by_level(movements, "movement level")?;
        let allocations = self
            .aggregate_rows(
                self.orders(),
                vec![
                    doc! { "$match": {
                        "tenantId": &tenant_id,
                        "status": OrderStatus::Placed.as_str(),
                        "soldAtPlacement": false,
                    }},
                    doc! { "$unwind": "$lines" },
                    doc! { "$unwind": "$lines.allocations" },
                    doc! { "$group": {
                        "_id": {
                            "variant": "$lines.variantId",
                            "location": "$lines.allocations.locationId",
                        },
                        "sum": { "$sum": { "$subtract": [
                            "$lines.allocations.quantity",
                            "$lines.allocations.returned",
                        ]}},
                    }},
                ],
                "summing committed allocations",
            )
            .await?;
        let mut committed = by_level(allocations, "order allocation level")?;

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
            let variant_id = parse(&v.id, "variant id")?;
            let movements = on_hand.remove(&v.id).unwrap_or_default();
            let orders = committed.remove(&v.id).unwrap_or_default();
            let stored: BTreeSet<&String> = v.levels.keys().chain(v.committed.keys()).collect();
            report.levels_checked += stored.len() as u64;
            let mut drift = |location_id, state, stock, ledger_sum| {
                if stock != ledger_sum {
                    report.drift.push(Drift {
                        variant_id,
                        location_id,
                        state,
                        sku: v.sku.clone(),
                        stock,
                        ledger_sum,
                    });
                }
            };
            // Every location the variant has a level, movements or committing orders at, by
            // location id; any of those at a location without a level mean the level was
            // removed behind the ledger.
            let locations: BTreeSet<&String> = stored
                .iter()
                .copied()
                .chain(movements.keys())
                .chain(orders.keys())
                .collect();
            for location in locations {
                let at = Some(parse(location, "level location id")?);
                let state = v.state_at(location);
                let sum = |sums: &BTreeMap<String, i64>| sums.get(location).copied().unwrap_or(0);
                drift(at, AuditedState::OnHand, state.on_hand, sum(&movements));
                drift(
                    at,
                    AuditedState::Committed,
                    state.claims.committed,
                    sum(&orders),
                );
            }
            drift(None, AuditedState::OnHand, v.stock, v.levels.values().sum());
            drift(
                None,
                AuditedState::Committed,
                v.committed_total,
                v.committed.values().sum(),
            );
        }
        report.drift.sort_by_key(Drift::report_order);
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
