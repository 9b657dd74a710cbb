//! The ledger port: commits run as one retried transaction (their body is in `ledger_write`);
//! movements are listed newest first; the audit compares every level's on hand and unavailable
//! states with its movements, its committed units with the open allocations of the orders that
//! committed them, and its live holds with the allocations of the reservations live now (each
//! summed by the server, grouped by variant and location), and every variant's stored totals
//! with its levels.
//!
//! The audit judges holds and reservations at one instant taken when it starts: a hold counts
//! while its expiry is after it, a reservation while it is stored ACTIVE and expires after it —
//! the same instant for both, so a reservation expiring during the audit is no drift. Reading
//! the reservations and the variants is not one snapshot (neither is reading the orders), so a
//! reservation placed or ended while the audit runs may show as drift for that run.
//!
//! The orders counted are the tenant's PLACED orders with `soldAtPlacement: false`: an order sold
//! at placement (every order stored before orders committed units, whose documents lack the
//! field and so do not match `false`) holds no committed units. Each allocation counts its
//! quantity less what came back. The orders' `{tenantId, status}` index serves that match.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use std::sync::Arc;

use async_trait::async_trait;
use domain::ids::TenantId;
use domain::orders::models::OrderStatus;
use domain::pagination::{Direction, Page, PageRequest};
use domain::reservations::models::ReservationStatus;
use domain::stock::models::{
    AuditReport, AuditedState, Committed, Drift, LedgerError, LedgerWrite, MovementFilter,
    StockMovement,
};
use domain::stock::ports::LedgerRepository;
use domain::StoreError;
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};

use super::catalog_variants::{instant, integer};
use super::ledger_batch::{batchable, BatchEnd};
use crate::documents::{bson_time, parse, KeptClaim};
use crate::errors::{corrupt, StoreResult};
use crate::paging::read_page;
use crate::store::MongoStore;

/// Named sums per location id.
type Sums = BTreeMap<String, BTreeMap<&'static str, i64>>;

/// Aggregated rows `{_id: {variant, location}, <field>…}` as each field's sum per variant id,
/// then per location id.
fn by_level(
    rows: Vec<Document>,
    fields: &[&'static str],
    what: &str,
) -> Result<HashMap<String, Sums>, StoreError> {
    let mut sums: HashMap<String, Sums> = HashMap::new();
    for row in rows {
        let key = row.get_document("_id").map_err(|e| corrupt(what, e))?;
        let text = |field: &str| match key.get(field) {
            Some(Bson::String(id)) => Ok(id.clone()),
            other => Err(corrupt(what, format!("{field}: {other:?}"))),
        };
        let at = sums
            .entry(text("variant")?)
            .or_default()
            .entry(text("location")?)
            .or_default();
        for field in fields {
            at.insert(*field, integer(row.get(*field), what)?);
        }
    }
    Ok(sums)
}

impl MongoStore {
    /// Each write committed on its own, in order.
    async fn commit_each(
        &self,
        tenant: &TenantId,
        writes: Vec<LedgerWrite>,
    ) -> Vec<Result<Committed, LedgerError>> {
        let mut answers = Vec::with_capacity(writes.len());
        for write in writes {
            answers.push(self.commit(tenant, write).await);
        }
        answers
    }
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

    /// One transaction for the whole batch when every write is of the shape `ledger_batch`
    /// writes (placing orders and holds); otherwise, or when the store disagrees with the
    /// batch's reading, each write is committed on its own.
    async fn commit_batch(
        &self,
        tenant: &TenantId,
        writes: Vec<LedgerWrite>,
    ) -> Result<Vec<Result<Committed, LedgerError>>, StoreError> {
        if writes.len() > 1 && writes.iter().all(batchable) {
            let tenant = *tenant;
            let shared = Arc::new(writes);
            let batch = shared.clone();
            let outcome = self
                .in_transaction(move |session| {
                    let store = self.clone();
                    let batch = batch.clone();
                    Box::pin(async move { store.apply_batch(session, &tenant, &batch).await })
                })
                .await;
            match outcome {
                Ok(answers) => return Ok(answers),
                Err(BatchEnd::Failed(e)) => return Err(e),
                Err(BatchEnd::OneByOne) => {}
            }
            let writes = Arc::try_unwrap(shared).unwrap_or_else(|shared| (*shared).clone());
            return Ok(self.commit_each(&tenant, writes).await);
        }
        Ok(self.commit_each(tenant, writes).await)
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
        let now = instant();
        // Σ per level of each movement's on hand and unavailable states (a movement without
        // `unavailable` moved none: `$sum` skips the missing field).
        let movements = self
            .aggregate_rows(
                self.movements(),
                vec![
                    doc! { "$match": { "tenantId": &tenant_id } },
                    doc! { "$group": {
                        "_id": { "variant": "$variantId", "location": "$locationId" },
                        "onHand": { "$sum": "$quantity" },
                        "damaged": { "$sum": "$unavailable.damaged" },
                        "qualityControl": { "$sum": "$unavailable.qualityControl" },
                        "safetyStock": { "$sum": "$unavailable.safetyStock" },
                    }},
                ],
                "summing movements",
            )
            .await?;
        let mut moved = by_level(
            movements,
            &["onHand", "damaged", "qualityControl", "safetyStock"],
            "movement level",
        )?;
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
        let mut committed = by_level(allocations, &["sum"], "order allocation level")?;
        // What the holds must add up to: the allocations of the reservations live now.
        let held = self
            .aggregate_rows(
                self.reservations(),
                vec![
                    doc! { "$match": {
                        "tenantId": &tenant_id,
                        "status": ReservationStatus::Active.as_str(),
                        "expiresAt": { "$gt": now },
                    }},
                    doc! { "$unwind": "$lines" },
                    doc! { "$unwind": "$lines.allocations" },
                    doc! { "$group": {
                        "_id": {
                            "variant": "$lines.variantId",
                            "location": "$lines.allocations.locationId",
                        },
                        "sum": { "$sum": "$lines.allocations.quantity" },
                    }},
                ],
                "summing held allocations",
            )
            .await?;
        let mut reserved = by_level(held, &["sum"], "reservation allocation level")?;

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
        let none = BTreeMap::new();
        while let Some(v) = variants.try_next().await.store("reading stock levels")? {
            report.variants_checked += 1;
            let variant_id = parse(&v.id, "variant id")?;
            let moved = moved.remove(&v.id).unwrap_or_default();
            let orders = committed.remove(&v.id).unwrap_or_default();
            let reservations = reserved.remove(&v.id).unwrap_or_default();
            let stored = v.stored_locations();
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
            // Every location the variant has a level, live holds, movements, committing orders
            // or live reservations at, by location id; any of those at a location without a
            // level mean the level was removed behind the ledger.
            let live_holds = v.holds.iter().filter(|h| h.is_live(now)).map(|h| &h.l);
            let locations: BTreeSet<&String> = stored
                .iter()
                .copied()
                .chain(live_holds)
                .chain(moved.keys())
                .chain(orders.keys())
                .chain(reservations.keys())
                .collect();
            for location in locations {
                let at = Some(parse(location, "level location id")?);
                let state = v.state_at(location, now);
                let sums = moved.get(location).unwrap_or(&none);
                let sum = |field: &str| sums.get(field).copied().unwrap_or(0);
                let single = |sums: &Sums| {
                    sums.get(location)
                        .and_then(|s| s.get("sum"))
                        .copied()
                        .unwrap_or(0)
                };
                drift(at, AuditedState::OnHand, state.on_hand, sum("onHand"));
                drift(
                    at,
                    AuditedState::Committed,
                    state.claims.committed,
                    single(&orders),
                );
                drift(
                    at,
                    AuditedState::Reserved,
                    state.claims.reserved,
                    single(&reservations),
                );
                let u = &state.claims.unavailable;
                drift(at, AuditedState::Damaged, u.damaged, sum("damaged"));
                drift(
                    at,
                    AuditedState::QualityControl,
                    u.quality_control,
                    sum("qualityControl"),
                );
                drift(
                    at,
                    AuditedState::SafetyStock,
                    u.safety_stock,
                    sum("safetyStock"),
                );
            }
            // The stored totals against Σ of the levels (reserved has none: it is Σ the holds).
            drift(None, AuditedState::OnHand, v.stock, v.levels.values().sum());
            for claim in KeptClaim::ALL {
                drift(
                    None,
                    claim.audited(),
                    v.kept_total(claim),
                    v.kept(claim).values().sum(),
                );
            }
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
