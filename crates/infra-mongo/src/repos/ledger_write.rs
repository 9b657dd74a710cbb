//! The body of a ledger transaction: the document, then the conditional stock changes, the
//! movements and the idempotency record, in that order (see `LedgerRepository::commit`).
//!
//! Each change is ONE conditional `findOneAndUpdate` of the variant document, whose levels are
//! maps by location id, one per kept state (`levels` on hand, `committed`, `damaged`,
//! `qualityControl`, `safetyStock`), and whose holds are embedded as an array. The filter names
//! the variant in the tenant and asks, of the level before the change, what the domain's
//! [`StockChange::requirements`] ask: `levels.<loc>` at least the on hand the change takes (and
//! equal to the expected stock when given), each kept claim at least what it takes from it, and
//! what is available — on hand less every kept claim and the units of the level's holds live at
//! the instant of the write — at least the available units it takes: that compares fields and
//! sums the array, so an `$expr` (`$reduce` over `holds`). A change that takes or extends a hold
//! asks for it too: `holds` `$elemMatch` the reservation at the level, still live. The update
//! is one `$inc` of the level's kept states and the variant's totals by the same amounts (and
//! `inTransit` by the units in transit), with the change's hold pushed (placed), pulled (taken
//! or dropped) or its expiry `$set` through the matched element (extended) — so the store itself
//! refuses to take any state or the units available below zero, or a hold that has expired,
//! and the level, the totals and the holds move together in one document write; there is no
//! read-then-write, and a change without a hold costs what it did before holds existed.
//!
//! "The instant of the write" is one `now` per change, taken right before its update inside the
//! transaction: the filter, the state reported after the change and the state read on a refusal
//! all judge holds at it, so they agree with each other.
//!
//! A level the variant never had is missing fields: it holds 0 of everything, so it meets no
//! clause but "at least 0" (no clause) and "expected 0" (`$or: [{$exists: false}, {$eq: 0}]`),
//! and `$inc` creates it. When a change matches nothing, the variant is read inside the same
//! transaction: missing, it is `None`; a hold the change takes or extends that is not there
//! live is `HoldGone`; otherwise the level's states (0 when absent) go to the domain's
//! [`Application`], which decides why (stock mismatch, or a shortage — collected over every
//! change so the caller learns all of them at once) and builds the movements — one for each
//! change that moved on hand or an unavailable state. Any refusal aborts the whole transaction.

use domain::ids::TenantId;
use domain::orders::models::Order;
use domain::reservations::models::Reservation;
use domain::stock::apply::{Application, VariantAfter};
use domain::stock::models::{
    Committed, DocumentWrite, HoldChange, LedgerError, LedgerWrite, StockChange,
};
use domain::stock::state::{Requirements, StockState};
use domain::values::{Sku, StockLevel};
use domain::StoreError;
use mongodb::bson::{self, doc, Document};
use mongodb::options::ReturnDocument;
use mongodb::{ClientSession, Collection};
use serde::Serialize;

use super::catalog_variants::{available_at, instant};
use crate::documents::{
    bson_time, level_path, valid, HoldDoc, KeptClaim, MovementDoc, OrderDoc, ReservationDoc,
    TransferDoc, VariantDoc,
};
use crate::store::MongoStore;
use crate::transaction::{Abort, OrAbort};

impl MongoStore {
    /// The body of a ledger transaction; see [`LedgerRepository::commit`]. The domain's
    /// [`Application`] decides what each outcome means; this only reads and writes.
    pub(crate) async fn apply_ledger_write(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        write: &LedgerWrite,
    ) -> Result<Committed, Abort<LedgerError>> {
        // The document first: a transition decided from a stale version is a conflict, whatever
        // its stock changes would have found.
        self.apply_document(session, tenant, &write.document)
            .await?;
        let mut application = Application::new(tenant, write);
        for change in &write.changes {
            let now = instant();
            match self
                .conditional_update(session, tenant, change, now)
                .await?
            {
                Some(after) => application.applied(change, after),
                None => {
                    let state = self.current_state(session, tenant, change, now).await?;
                    application.refused(change, state).map_err(Abort::Refuse)?;
                }
            }
        }
        let committed = application.finish().map_err(Abort::Refuse)?;

        let movements: Vec<MovementDoc> = committed
            .applied
            .iter()
            .filter_map(|a| a.movement.as_ref())
            .map(MovementDoc::from)
            .collect();
        if !movements.is_empty() {
            self.movements()
                .insert_many(movements)
                .session(&mut *session)
                .await
                .or_abort("recording movements")?;
        }

        if let Some(record) = write.idempotency_record(&committed) {
            self.store_idempotency(session, tenant, &record).await?;
        }
        Ok(committed)
    }

    /// The atomic conditional write: a `$inc` of the level's kept states and the variant's
    /// totals with the change's hold placed, taken, dropped or extended, matching only a variant
    /// of the tenant whose level meets the change's requirements at `now` (and holds the
    /// expected stock when one is given, and the live hold a take or an extension needs).
    /// `None` when it matched nothing.
    async fn conditional_update(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        change: &StockChange,
        now: bson::DateTime,
    ) -> Result<Option<VariantAfter>, Abort<LedgerError>> {
        let location = change.location_id.to_string();
        let mut filter = variant_key(tenant, change);
        filter.extend(level_condition(
            &location,
            &change.requirements(),
            change.expected_stock,
            now,
        ));
        let mut inc = doc! { level_path(&location): change.delta, "stock": change.delta };
        for claim in KeptClaim::ALL {
            let units = claim.of(&change.claims);
            if units != 0 {
                inc.insert(claim.path(&location), units);
                inc.insert(claim.total_field(), units);
            }
        }
        if change.in_transit_delta != 0 {
            inc.insert("inTransit", change.in_transit_delta);
        }
        let mut update = doc! { "$inc": inc };
        if let Some(hold) = &change.hold {
            let reservation = hold.reservation_id().to_string();
            let this_hold = doc! { "r": &reservation, "l": &location };
            let live_hold = doc! { "holds": { "$elemMatch": {
                "r": &reservation, "l": &location, "e": { "$gt": now },
            }}};
            match hold {
                HoldChange::Place { expires_at, .. } => {
                    let placed = HoldDoc {
                        r: reservation,
                        l: location.clone(),
                        q: change.claims.reserved,
                        e: bson_time(*expires_at),
                    };
                    let placed = bson::to_bson(&placed).map_err(|e| {
                        StoreError::Other(anyhow::Error::new(e).context("encoding a hold"))
                    })?;
                    update.insert("$push", doc! { "holds": placed });
                }
                HoldChange::Take { .. } => {
                    filter.extend(live_hold);
                    // The level must not be over-claimed counting the taken hold itself (live at
                    // `now`), so an instance whose clock runs behind another's cannot confirm a
                    // hold whose units an order on the other already took.
                    filter.entry("$expr".to_owned()).or_insert_with(|| {
                        doc! { "$gte": [available_at(&location, now), 0_i64] }.into()
                    });
                    update.insert("$pull", doc! { "holds": this_hold });
                }
                HoldChange::Drop { .. } => {
                    update.insert("$pull", doc! { "holds": this_hold });
                }
                HoldChange::Extend { expires_at, .. } => {
                    filter.extend(live_hold);
                    update.insert("$set", doc! { "holds.$.e": bson_time(*expires_at) });
                }
            }
        }
        let updated = self
            .variants()
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await
            .or_abort("changing stock")?;
        let Some(doc) = updated else {
            return Ok(None);
        };
        Ok(Some(VariantAfter {
            level: doc.state_at(&location, now),
            total: doc.total(now),
            sku: valid(Sku::new(&doc.sku), "variant SKU")?,
            reorder_level: valid(StockLevel::new(doc.reorder_level), "variant reorder level")?
                .get(),
        }))
    }

    /// The states at `now` of a change's level, read in the transaction after its conditional
    /// write matched nothing: all 0 when the variant has no level there, `None` when the variant
    /// is missing; `HoldGone` when the change takes or extends a hold that is not there live.
    async fn current_state(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        change: &StockChange,
        now: bson::DateTime,
    ) -> Result<Option<StockState>, Abort<LedgerError>> {
        let current: Option<VariantDoc> = self
            .variants()
            .find_one(variant_key(tenant, change))
            .session(&mut *session)
            .await
            .or_abort("reading a variant's stock")?;
        let Some(current) = current else {
            return Ok(None);
        };
        let location = change.location_id.to_string();
        if let Some(
            hold
            @ (HoldChange::Take { reservation_id } | HoldChange::Extend { reservation_id, .. }),
        ) = &change.hold
        {
            if !current.holds_live(&reservation_id.to_string(), &location, now) {
                return Err(Abort::Refuse(LedgerError::HoldGone(hold.reservation_id())));
            }
        }
        Ok(Some(current.state_at(&location, now)))
    }

    /// Inserts the order, purchase order, transfer or reservation, or replaces it if its version
    /// is still the expected one (else `VersionConflict`); a confirmed reservation is replaced so
    /// and its order inserted.
    async fn apply_document(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        document: &DocumentWrite,
    ) -> Result<(), Abort<LedgerError>> {
        match document {
            DocumentWrite::None => Ok(()),
            DocumentWrite::InsertOrder(order) => self.insert_order(session, tenant, order).await,
            DocumentWrite::InsertPurchaseOrder(po) => {
                // With its units due counted into its variants' incoming (see `incoming`).
                self.insert_purchase_order(session, tenant, po).await
            }
            DocumentWrite::InsertTransfer(transfer) => {
                let doc = TransferDoc::of(tenant, transfer);
                insert(session, self.transfers(), doc, "inserting a transfer").await
            }
            DocumentWrite::InsertReservation(reservation) => {
                let doc = ReservationDoc::of(tenant, reservation);
                insert(session, self.reservations(), doc, "inserting a reservation").await
            }
            DocumentWrite::UpdateTransfer {
                transfer,
                expected_version,
            } => {
                let doc = TransferDoc::of(tenant, transfer);
                let to = Guarded::new(tenant, &doc.id, *expected_version);
                replace(session, self.transfers(), to, doc, "updating a transfer").await
            }
            DocumentWrite::UpdateOrder {
                order,
                expected_version,
            } => {
                let mut doc = OrderDoc::from(order);
                doc.tenant_id = tenant.to_string();
                let to = Guarded::new(tenant, &doc.id, *expected_version);
                replace(session, self.orders(), to, doc, "updating an order").await
            }
            DocumentWrite::UpdatePurchaseOrder {
                purchase_order,
                expected_version,
            } => {
                // Version-guarded, moving its variants' incoming by what changed (see `incoming`).
                self.replace_purchase_order(session, tenant, purchase_order, *expected_version)
                    .await
            }
            DocumentWrite::UpdateReservation {
                reservation,
                expected_version,
            } => {
                self.replace_reservation(session, tenant, reservation, *expected_version)
                    .await
            }
            DocumentWrite::ConfirmReservation {
                reservation,
                expected_version,
                order,
            } => {
                self.replace_reservation(session, tenant, reservation, *expected_version)
                    .await?;
                self.insert_order(session, tenant, order).await
            }
        }
    }

    async fn insert_order(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        order: &Order,
    ) -> Result<(), Abort<LedgerError>> {
        let mut doc = OrderDoc::from(order);
        doc.tenant_id = tenant.to_string();
        insert(session, self.orders(), doc, "inserting an order").await
    }

    async fn replace_reservation(
        &self,
        session: &mut ClientSession,
        tenant: &TenantId,
        reservation: &Reservation,
        expected_version: i64,
    ) -> Result<(), Abort<LedgerError>> {
        let doc = ReservationDoc::of(tenant, reservation);
        let to = Guarded::new(tenant, &doc.id, expected_version);
        replace(
            session,
            self.reservations(),
            to,
            doc,
            "updating a reservation",
        )
        .await
    }
}

/// The document of the tenant with this id, at the expected version.
struct Guarded(Document);

impl Guarded {
    fn new(tenant: &TenantId, id: &str, expected_version: i64) -> Self {
        Self(doc! { "_id": id, "tenantId": tenant.to_string(), "version": expected_version })
    }
}

async fn insert<D: Serialize + Send + Sync>(
    session: &mut ClientSession,
    collection: Collection<D>,
    doc: D,
    doing: &'static str,
) -> Result<(), Abort<LedgerError>> {
    collection
        .insert_one(doc)
        .session(&mut *session)
        .await
        .or_abort(doing)?;
    Ok(())
}

/// Replaces the document `at` names with `doc`, or refuses with `VersionConflict` when none is
/// at the expected version.
async fn replace<D: Serialize + Send + Sync>(
    session: &mut ClientSession,
    collection: Collection<D>,
    at: Guarded,
    doc: D,
    doing: &'static str,
) -> Result<(), Abort<LedgerError>> {
    let replaced = collection
        .replace_one(at.0, doc)
        .session(&mut *session)
        .await
        .or_abort(doing)?;
    if replaced.matched_count == 0 {
        return Err(Abort::Refuse(LedgerError::Store(
            StoreError::VersionConflict,
        )));
    }
    Ok(())
}

impl From<StoreError> for Abort<LedgerError> {
    fn from(e: StoreError) -> Self {
        Abort::Refuse(LedgerError::Store(e))
    }
}

/// The filter clauses that let a change apply to the level at `location` at `now`: on hand at
/// least `need.on_hand` and exactly `expected` when given, each kept claim at least what `need`
/// asks of it, and on hand less every claim (the holds live at `now` included) at least
/// `need.available`. A missing field counts as 0, so it passes "at least 0" (no clause) and
/// "exactly 0" (`$exists: false` or 0), and fails anything more; inside `$expr` it is made 0
/// with `$ifNull`.
pub(crate) fn level_condition(
    location: &str,
    need: &Requirements,
    expected: Option<i64>,
    now: bson::DateTime,
) -> Document {
    let on_hand = level_path(location);
    let mut clauses = match expected {
        Some(0) if need.on_hand == 0 => doc! {
            "$or": [ { &on_hand: { "$exists": false } }, { &on_hand: 0_i64 } ],
        },
        Some(expected) => doc! { &on_hand: { "$gte": need.on_hand, "$eq": expected } },
        None if need.on_hand > 0 => doc! { &on_hand: { "$gte": need.on_hand } },
        None => Document::new(),
    };
    for claim in KeptClaim::ALL {
        let units = claim.of(&need.claims);
        if units > 0 {
            clauses.insert(claim.path(location), doc! { "$gte": units });
        }
    }
    if need.available > 0 {
        clauses.insert(
            "$expr",
            doc! { "$gte": [available_at(location, now), need.available] },
        );
    }
    clauses
}

/// The filter naming a change's variant within the tenant.
fn variant_key(tenant: &TenantId, change: &StockChange) -> Document {
    doc! {
        "_id": change.variant_id.to_string(),
        "tenantId": tenant.to_string(),
    }
}
