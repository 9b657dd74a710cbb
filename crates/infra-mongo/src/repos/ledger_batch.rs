//! A batch of ledger writes as ONE transaction: the orders waiting for one lock hold share it.
//!
//! The domain's combiner hands over every write queued behind the same lock keys while it holds
//! those locks (`domain::stock::combine`). Committed one by one, each write is its own
//! transaction — three or four round trips and a majority commit per order — so a flash sale on
//! one SKU runs at one transaction per order whatever the store could carry. Here the batch is
//! decided once, under the lock, and written with a few round trips whatever its size:
//!
//! 1. In one transaction (snapshot reads), the batch's variants are read at one instant `now`.
//! 2. Each write is judged in order against the states the writes before it left — by the
//!    domain's own [`StockChange::judge`] through [`Application`], exactly as the store's
//!    conditional write would judge it — so a refused write changes nothing and the writes after
//!    it see the stock as the applied ones left it (the port's contract).
//! 3. Each variant is then written by ONE conditional `findOneAndUpdate`: the sums of the
//!    applied changes' `$inc`s and holds, guarded by the sum of their requirements at `now`.
//!    The guard is sound: a change takes from each number at most what it requires, so a level
//!    that meets the sum before the batch meets each change's own requirement when it comes.
//!    The lock orders writers, but it is never trusted alone: a write that slipped past it
//!    (a lock key that expired) either collides with this transaction (a write conflict, and the
//!    whole batch is re-run) or fails the guard.
//! 4. The orders and reservations, the movements and the idempotency records are inserted, a
//!    `insertMany` per collection, and the transaction commits.
//!
//! Anything outside that shape — a change that takes, drops or extends a hold or compares on
//! hand, a document replaced under a version guard, a guard that fails, an idempotency key
//! already live — falls back to committing the writes one by one, each exactly as `commit`
//! would. The fallback is the port's default path, so it answers the same; the batch path only
//! makes the common case (placing orders and holds) cheaper.

use std::collections::{BTreeMap, BTreeSet};

use domain::ids::{TenantId, VariantId};
use domain::stock::apply::{Application, VariantAfter};
use domain::stock::models::{
    Committed, DocumentWrite, HoldChange, LedgerError, LedgerWrite, StockChange,
};
use domain::stock::state::{Claims, Requirements, StockState};
use domain::values::{Sku, StockLevel};
use domain::StoreError;
use futures::TryStreamExt;
use mongodb::bson::{self, doc, Bson, Document};
use mongodb::{ClientSession, Collection};
use serde::Serialize;

use super::catalog_variants::instant;
use super::ledger_write::level_condition;
use crate::documents::{
    bson_time, level_path, valid, HoldDoc, KeptClaim, MovementDoc, OrderDoc, ReservationDoc,
    VariantDoc,
};
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

/// Why a batch transaction ended without an answer for every write.
pub(crate) enum BatchEnd {
    /// The batch is outside what this path writes, or the store disagreed with the reading:
    /// commit the writes one by one instead.
    OneByOne,
    /// The store failed; none of the writes was applied.
    Failed(StoreError),
}

impl From<StoreError> for BatchEnd {
    fn from(e: StoreError) -> Self {
        BatchEnd::Failed(e)
    }
}

impl From<StoreError> for Abort<BatchEnd> {
    fn from(e: StoreError) -> Self {
        Abort::Refuse(BatchEnd::Failed(e))
    }
}

/// One answer per write, in order.
pub(crate) type Answers = Vec<Result<Committed, LedgerError>>;

/// Whether a write can go in a shared transaction: it inserts at most an order or a reservation
/// (no version-guarded replace), and none of its changes compares on hand or takes, drops or
/// extends a hold (those need the hold's own guard).
pub(crate) fn batchable(write: &LedgerWrite) -> bool {
    let document = matches!(
        write.document,
        DocumentWrite::None | DocumentWrite::InsertOrder(_) | DocumentWrite::InsertReservation(_)
    );
    document
        && write.changes.iter().all(|c| {
            c.expected_stock.is_none() && matches!(c.hold, None | Some(HoldChange::Place { .. }))
        })
}

/// A variant as the batch reads and changes it: its levels' and totals' states at `now`.
struct Reading {
    sku: Sku,
    reorder_level: i64,
    levels: BTreeMap<String, StockState>,
    total: StockState,
}

/// How one level's on hand and claims move over the batch's applied changes.
#[derive(Default)]
struct Moved {
    delta: i64,
    claims: Claims,
}

/// What the applied changes of the batch do to one variant, summed per level.
#[derive(Default)]
struct Sum {
    /// Per location: the summed requirements, and how on hand and the claims move in all.
    levels: BTreeMap<String, (Requirements, Moved)>,
    in_transit: i64,
    holds: Vec<Bson>,
}

impl MongoStore {
    /// The body of a batch transaction (module docs); `Err(OneByOne)` when the batch must be
    /// committed write by write instead.
    pub(crate) async fn apply_batch(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        writes: &[LedgerWrite],
    ) -> Result<Answers, Abort<BatchEnd>> {
        let now = instant();
        let mut readings = self.read_batch(session, tenant, writes, now).await?;
        let mut sums: BTreeMap<VariantId, Sum> = BTreeMap::new();
        let mut answers = Vec::with_capacity(writes.len());
        let mut movements = Vec::new();
        let mut orders = Vec::new();
        let mut reservations = Vec::new();
        let mut records = Vec::new();
        for write in writes {
            let answer = judge_write(tenant, write, &readings);
            if let Ok(committed) = &answer {
                for (change, applied) in write.changes.iter().zip(&committed.applied) {
                    let reading = readings
                        .get_mut(&change.variant_id)
                        .expect("an applied change's variant was read");
                    let location = change.location_id.to_string();
                    reading.levels.insert(location.clone(), applied.after);
                    reading.total = change.apply_to(&reading.total);
                    add_change(sums.entry(change.variant_id).or_default(), location, change)?;
                }
                movements.extend(
                    committed
                        .applied
                        .iter()
                        .filter_map(|a| a.movement.as_ref())
                        .map(MovementDoc::from),
                );
                match &write.document {
                    DocumentWrite::InsertOrder(order) => {
                        let mut doc = OrderDoc::from(order);
                        doc.tenant_id = tenant.to_string();
                        orders.push(doc);
                    }
                    DocumentWrite::InsertReservation(reservation) => {
                        reservations.push(ReservationDoc::of(tenant, reservation));
                    }
                    _ => {}
                }
                if let Some(record) = write.idempotency_record(committed) {
                    records.push(record);
                }
            }
            answers.push(answer);
        }

        for (variant, sum) in &sums {
            self.write_sum(session, tenant, variant, sum, now).await?;
        }
        insert_all(session, self.orders(), orders, "inserting orders").await?;
        insert_all(
            session,
            self.reservations(),
            reservations,
            "inserting reservations",
        )
        .await?;
        insert_all(session, self.movements(), movements, "recording movements").await?;
        for record in &records {
            match self
                .store_idempotency::<BatchEnd>(session, tenant, record)
                .await
            {
                Ok(()) => {}
                // A key already live belongs to one write alone: the writes one by one say which.
                Err(Abort::Refuse(_)) => return Err(Abort::Refuse(BatchEnd::OneByOne)),
                Err(driver) => return Err(driver),
            }
        }
        Ok(answers)
    }

    /// The batch's variants of `tenant`, read at `now` in the transaction.
    async fn read_batch(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        writes: &[LedgerWrite],
        now: bson::DateTime,
    ) -> Result<BTreeMap<VariantId, Reading>, Abort<BatchEnd>> {
        let ids: BTreeSet<VariantId> = writes
            .iter()
            .flat_map(|w| w.changes.iter().map(|c| c.variant_id))
            .collect();
        let by_name: BTreeMap<String, VariantId> =
            ids.iter().map(|id| (id.to_string(), *id)).collect();
        let names: Vec<&String> = by_name.keys().collect();
        let docs: Vec<VariantDoc> = self
            .variants()
            .find(doc! { "_id": { "$in": names }, "tenantId": tenant.to_string() })
            .session(&mut *session)
            .await
            .or_abort("reading the batch's variants")?
            .stream(&mut *session)
            .try_collect()
            .await
            .or_abort("reading the batch's variants")?;
        let mut readings = BTreeMap::new();
        for doc in docs {
            let id = by_name.get(&doc.id).copied().ok_or_else(|| {
                StoreError::Other(anyhow::anyhow!("variant {} was not asked for", doc.id))
            })?;
            let locations: BTreeSet<String> = writes
                .iter()
                .flat_map(|w| w.changes.iter())
                .filter(|c| c.variant_id == id)
                .map(|c| c.location_id.to_string())
                .collect();
            let levels = locations
                .into_iter()
                .map(|l| {
                    let state = doc.state_at(&l, now);
                    (l, state)
                })
                .collect();
            readings.insert(
                id,
                Reading {
                    sku: valid(Sku::new(&doc.sku), "variant SKU")?,
                    reorder_level: valid(
                        StockLevel::new(doc.reorder_level),
                        "variant reorder level",
                    )?
                    .get(),
                    levels,
                    total: doc.total(now),
                },
            );
        }
        Ok(readings)
    }

    /// One variant's share of the batch: the summed `$inc` and placed holds, only if its levels
    /// meet the summed requirements at `now`; `OneByOne` when they do not.
    async fn write_sum(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        variant: &VariantId,
        sum: &Sum,
        now: bson::DateTime,
    ) -> Result<(), Abort<BatchEnd>> {
        let mut guards = Vec::new();
        let mut inc = Document::new();
        let mut stock = 0;
        for (location, (need, change)) in &sum.levels {
            let guard = level_condition(location, need, None, now);
            if !guard.is_empty() {
                guards.push(guard);
            }
            // Even a delta of 0 writes the field: a change creates the level it names.
            inc.insert(level_path(location), change.delta);
            stock += change.delta;
            for claim in KeptClaim::ALL {
                let units = claim.of(&change.claims);
                if units != 0 {
                    inc.insert(claim.path(location), units);
                    let total = inc.get_i64(claim.total_field()).unwrap_or(0) + units;
                    inc.insert(claim.total_field(), total);
                }
            }
        }
        inc.insert("stock", stock);
        if sum.in_transit != 0 {
            inc.insert("inTransit", sum.in_transit);
        }
        let mut filter = doc! { "_id": variant.to_string(), "tenantId": tenant.to_string() };
        if !guards.is_empty() {
            filter.insert("$and", guards);
        }
        let mut update = Document::new();
        if !inc.is_empty() {
            update.insert("$inc", inc);
        }
        if !sum.holds.is_empty() {
            update.insert("$push", doc! { "holds": { "$each": sum.holds.clone() } });
        }
        if update.is_empty() {
            return Ok(());
        }
        let written = self
            .variants()
            .update_one(filter, update)
            .session(&mut *session)
            .await
            .or_abort("changing stock")?;
        if written.matched_count == 0 {
            return Err(Abort::Refuse(BatchEnd::OneByOne));
        }
        Ok(())
    }
}

/// Inserts `docs` into `collection` in the transaction, in one `insertMany` (none when empty).
async fn insert_all<D: Serialize + Send + Sync>(
    session: &mut ClientSession,
    collection: Collection<D>,
    docs: Vec<D>,
    doing: &'static str,
) -> Result<(), Abort<BatchEnd>> {
    if !docs.is_empty() {
        collection
            .insert_many(docs)
            .session(&mut *session)
            .await
            .or_abort(doing)?;
    }
    Ok(())
}

/// The domain's answer to one write against the batch's reading as the writes before it left it.
fn judge_write(
    tenant: &TenantId,
    write: &LedgerWrite,
    readings: &BTreeMap<VariantId, Reading>,
) -> Result<Committed, LedgerError> {
    let mut application = Application::new(tenant, write);
    // Changes name distinct levels, so each is judged against the reading before this write.
    let mut totals: BTreeMap<VariantId, StockState> = BTreeMap::new();
    for change in &write.changes {
        let Some(reading) = readings.get(&change.variant_id) else {
            application.refused(change, None)?;
            continue;
        };
        let location = change.location_id.to_string();
        let before = reading.levels.get(&location).copied().unwrap_or_default();
        if change.judge(Some(before)).is_err() {
            application.refused(change, Some(before))?;
            continue;
        }
        let total = totals.entry(change.variant_id).or_insert(reading.total);
        *total = change.apply_to(total);
        application.applied(
            change,
            VariantAfter {
                level: change.apply_to(&before),
                total: *total,
                sku: reading.sku.clone(),
                reorder_level: reading.reorder_level,
            },
        );
    }
    application.finish()
}

/// Adds an applied change to its variant's sum.
fn add_change(sum: &mut Sum, location: String, change: &StockChange) -> Result<(), StoreError> {
    if let Some(hold @ HoldChange::Place { expires_at, .. }) = &change.hold {
        let placed = HoldDoc {
            r: hold.reservation_id().to_string(),
            l: location.clone(),
            q: change.claims.reserved,
            e: bson_time(*expires_at),
        };
        sum.holds
            .push(bson::to_bson(&placed).map_err(|e| {
                StoreError::Other(anyhow::Error::new(e).context("encoding a hold"))
            })?);
    }
    sum.in_transit += change.in_transit_delta;
    let need = change.requirements();
    let (summed, moved) = sum.levels.entry(location).or_default();
    summed.on_hand += need.on_hand;
    summed.claims = summed.claims.plus(&need.claims);
    summed.available += need.available;
    moved.delta += change.delta;
    moved.claims = moved.claims.plus(&change.claims);
    Ok(())
}
