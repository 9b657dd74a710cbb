//! The ledger: the one transaction in which stock changes.
//!
//! Each change is a conditional write on its level (one variant at one location): a single
//! `UPDATE stock_levels … WHERE stock >= … AND committed >= … AND damaged >= … AND
//! stock − committed − damaged − quality_control − safety_stock − (live holds) >= … RETURNING …`
//! (the minimums are the change's requirements), which SQLite evaluates and writes in one step,
//! so no reader-then-writer window exists even without the lock port. A level the variant never
//! had reads as 0: when nothing matched and the change needs no stock, the level is created with
//! `INSERT … SELECT FROM variants … ON CONFLICT DO NOTHING`, which also proves the variant
//! exists. The variant's total is Σ of its levels, derived on every read, so nothing else is
//! written for it.
//!
//! Reserved units are not kept as a number: they are the level's rows in `holds` whose
//! `expires_at` is after the instant of the write, read by a subquery of the same conditional
//! update (one range of `holds_by_level`), so a hold stops counting the instant it expires
//! without anything writing it. That instant is read once per write, inside the transaction
//! that holds the write lock. A change's hold is written after its level's update passed: placed,
//! taken or extended (refused with `HoldGone` unless live then), or dropped.
//!
//! When a change is refused the level's states are read (still inside the write transaction, so
//! the reading is exact) and handed to the domain's [`Application`], which decides why —
//! missing, not at the expected stock, or short — and builds the movements to insert. Any
//! refusal returns an error, and the store's write helper rolls the transaction back.

use async_trait::async_trait;
use chrono::Utc;
use domain::ids::TenantId;
use domain::pagination::{Direction, Page, PageRequest};
use domain::stock::apply::{Application, VariantAfter};
use domain::stock::models::{
    AuditReport, Committed, DocumentWrite, HoldChange, LedgerError, LedgerWrite, MovementFilter,
    MovementKind, StockChange, StockMovement,
};
use domain::stock::ports::LedgerRepository;
use domain::stock::state::{Claims, StockState, Unavailable};
use domain::StoreError;
use rusqlite::{params, Row, Transaction};

use super::idempotency::{self, NewRecord};
use super::{audit, orders, purchase_orders, reservations, transfers};
use crate::error::SqlResultExt;
use crate::group::in_savepoint;
use crate::row::{millis, optional_row, RowExt, Select};
use crate::SqliteStore;

const SELECT_MOVEMENTS: &str =
    "SELECT id, tenant_id, variant_id, location_id, kind, quantity, stock_after, reason, order_id,
            purchase_order_id, transfer_id, unit_cost, actor, created_at, damaged,
            quality_control, safety_stock
       FROM stock_movements WHERE tenant_id = ?";

/// Applies one write of a batch inside a savepoint, so a refusal undoes that write only.
/// `Err` when the transaction as a whole can no longer go on.
fn apply_alone(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    write: &LedgerWrite,
) -> Result<Result<Committed, LedgerError>, StoreError> {
    match in_savepoint(tx, "committing one write of a batch", |tx| {
        apply(tx, tenant, write)
    }) {
        (result, true) => Ok(result),
        (result, false) => Err(StoreError::Other(anyhow::anyhow!(
            "the batch transaction can no longer be committed: {}",
            result.err().map(|e| e.to_string()).unwrap_or_default()
        ))),
    }
}

#[async_trait]
impl LedgerRepository for SqliteStore {
    async fn commit(
        &self,
        tenant: &TenantId,
        write: LedgerWrite,
    ) -> Result<Committed, LedgerError> {
        let tenant = *tenant;
        self.write("committing a ledger write", move |tx| {
            apply(tx, &tenant, &write)
        })
        .await
    }

    async fn commit_batch(
        &self,
        tenant: &TenantId,
        writes: Vec<LedgerWrite>,
    ) -> Result<Vec<Result<Committed, LedgerError>>, StoreError> {
        let tenant = *tenant;
        self.write("committing ledger writes", move |tx| {
            writes
                .iter()
                .map(|write| apply_alone(tx, &tenant, write))
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await
    }

    async fn list_movements(
        &self,
        tenant: &TenantId,
        filter: &MovementFilter,
        page: &PageRequest,
    ) -> Result<Page<StockMovement>, StoreError> {
        let limit = page.limit;
        let mut query = Select::new(SELECT_MOVEMENTS).bind(tenant.to_string());
        if let Some(variant) = &filter.variant_id {
            query = query.and("variant_id = ?", variant.to_string());
        }
        if let Some(location) = &filter.location_id {
            query = query.and("location_id = ?", location.to_string());
        }
        if let Some(kind) = filter.kind {
            query = query.and("kind = ?", kind.as_str().to_owned());
        }
        if let Some(from) = &filter.from {
            query = query.and("created_at >= ?", millis(from));
        }
        if let Some(to) = &filter.to {
            query = query.and("created_at < ?", millis(to));
        }
        let query = query.page("id", page, Direction::Descending);
        let rows = self
            .read("listing movements", move |tx| {
                query.rows(tx, movement_from_row)
            })
            .await?;
        Ok(Page::from_rows(rows, limit, |m| m.id.to_string()))
    }

    async fn audit(&self, tenant: &TenantId) -> Result<AuditReport, StoreError> {
        let tenant = tenant.to_string();
        let now = Utc::now().timestamp_millis();
        self.read("auditing the ledger", move |tx| {
            audit::run(tx, &tenant, now)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read("pinging the database", |tx| {
            tx.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
        })
        .await
        .map(|_| ())
    }
}

/// Steps 1–4 of [`LedgerRepository::commit`], inside the caller's transaction. The domain's
/// [`Application`] decides what each outcome means; this only reads and writes.
fn apply(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    write: &LedgerWrite,
) -> Result<Committed, LedgerError> {
    if let Some(idem) = &write.idempotency {
        // Refuse a live key before doing the work, so a repeat is reported as a repeat.
        idempotency::refuse_if_live(tx, tenant, &idem.user_id, &idem.key, idem.created_at)?;
    }
    // The document first: a transition decided from a stale version is a conflict, whatever its
    // stock changes would have found.
    apply_document(tx, tenant, &write.document)?;
    // The instant holds are judged live at, for every change of this write. Taken here, inside
    // the write transaction, which holds the database's write lock: no other write can place,
    // take or extend a hold between this reading of the clock and the commit.
    let now = Utc::now().timestamp_millis();
    let mut application = Application::new(tenant, write);
    for change in &write.changes {
        match conditional_update(tx, tenant, change, now)? {
            Some(after) => application.applied(change, after),
            None => application.refused(change, level_state(tx, tenant, change, now)?)?,
        }
    }
    let committed = application.finish()?;
    for movement in committed.applied.iter().filter_map(|a| a.movement.as_ref()) {
        insert_movement(tx, movement)?;
    }
    if let Some(record) = write.idempotency_record(&committed) {
        idempotency::store(tx, tenant, NewRecord::from(&record))?;
    }
    Ok(committed)
}

/// The numbers a level keeps, as the conditional write returns them: on hand, committed and
/// each unavailable state (reserved is derived from the level's holds, never kept).
fn kept_state(row: &Row<'_>, first: usize) -> rusqlite::Result<StockState> {
    Ok(StockState::new(
        row.get(first)?,
        Claims {
            committed: row.get(first + 1)?,
            reserved: 0,
            unavailable: Unavailable {
                damaged: row.get(first + 2)?,
                quality_control: row.get(first + 3)?,
                safety_stock: row.get(first + 4)?,
            },
        },
    ))
}

/// The atomic conditional write on the change's level — the one row a stock change writes —
/// then the change's hold, and the variant's units in transit by the change's
/// `in_transit_delta` when it has one. `Ok(None)` when refused: the level is not at the
/// expected on hand (when one is given) or holds less than the change requires of its on hand,
/// committed, unavailable or available units (available counting every hold of the level live
/// at `now`), or the variant does not exist in the tenant. `Err(HoldGone)` when the change takes
/// or extends a hold that is not there or not live at `now`.
fn conditional_update(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    change: &StockChange,
    now: i64,
) -> Result<Option<VariantAfter>, LedgerError> {
    let (tenant, variant, location) = (
        tenant.to_string(),
        change.variant_id.to_string(),
        change.location_id.to_string(),
    );
    let need = change.requirements();
    let (claims, kept) = (&change.claims, &change.claims.unavailable);
    let mut level: Option<StockState> = optional_row(
        tx,
        "UPDATE stock_levels
            SET stock = stock + ?1, committed = committed + ?2, damaged = damaged + ?3,
                quality_control = quality_control + ?4, safety_stock = safety_stock + ?5
          WHERE tenant_id = ?6 AND variant_id = ?7 AND location_id = ?8
            AND stock >= ?9 AND committed >= ?10 AND damaged >= ?11
            AND quality_control >= ?12 AND safety_stock >= ?13
            AND stock - committed - damaged - quality_control - safety_stock
                - (SELECT COALESCE(SUM(h.quantity), 0) FROM holds h
                    WHERE h.tenant_id = ?6 AND h.variant_id = ?7 AND h.location_id = ?8
                      AND h.expires_at > ?14) >= ?15
            AND (?16 IS NULL OR stock = ?16)
         RETURNING stock, committed, damaged, quality_control, safety_stock",
        params![
            change.delta,
            claims.committed,
            kept.damaged,
            kept.quality_control,
            kept.safety_stock,
            tenant,
            variant,
            location,
            need.on_hand,
            need.claims.committed,
            need.claims.unavailable.damaged,
            need.claims.unavailable.quality_control,
            need.claims.unavailable.safety_stock,
            now,
            need.available,
            change.expected_stock,
        ],
        |row| kept_state(row, 0),
    )
    .or_store("changing a level's stock")?;
    if level.is_none() && need.met_by_nothing() && change.expected_stock.unwrap_or(0) == 0 {
        // A level the variant never had holds 0 of everything, which this change accepts. A
        // conflict means the level exists and refused the change; no row means no such variant.
        level = optional_row(
            tx,
            "INSERT INTO stock_levels (tenant_id, variant_id, location_id, stock, committed,
                                       damaged, quality_control, safety_stock)
             SELECT tenant_id, id, ?3, ?4, ?5, ?6, ?7, ?8
               FROM variants WHERE tenant_id = ?1 AND id = ?2
             ON CONFLICT DO NOTHING
             RETURNING stock, committed, damaged, quality_control, safety_stock",
            params![
                tenant,
                variant,
                location,
                change.delta,
                claims.committed,
                kept.damaged,
                kept.quality_control,
                kept.safety_stock,
            ],
            |row| kept_state(row, 0),
        )
        .or_store("creating a level")?;
    }
    let Some(kept_after) = level else {
        return Ok(None);
    };
    if let Some(hold) = &change.hold {
        apply_hold(tx, &tenant, &variant, &location, change, hold, now)?;
    }
    if change.in_transit_delta != 0 {
        tx.prepare_cached(
            "UPDATE variants SET in_transit = in_transit + ?1 WHERE tenant_id = ?2 AND id = ?3",
        )
        .and_then(|mut stmt| stmt.execute(params![change.in_transit_delta, tenant, variant]))
        .or_store("changing a variant's units in transit")?;
    }
    // The totals are Σ levels (migration 0003): read, with what events need of the variant,
    // from the pages the level's write just touched; reserved, of the level and in total, from
    // the holds live at `now`, the change's own hold as it just left it.
    let after = optional_row(
        tx,
        "SELECT SUM(sl.stock), SUM(sl.committed), SUM(sl.damaged), SUM(sl.quality_control),
                SUM(sl.safety_stock), v.sku, v.reorder_level,
                (SELECT COALESCE(SUM(h.quantity), 0) FROM holds h
                  WHERE h.tenant_id = ?1 AND h.variant_id = ?2 AND h.expires_at > ?4),
                (SELECT COALESCE(SUM(h.quantity), 0) FROM holds h
                  WHERE h.tenant_id = ?1 AND h.variant_id = ?2 AND h.location_id = ?3
                    AND h.expires_at > ?4)
           FROM variants v
           JOIN stock_levels sl ON sl.tenant_id = v.tenant_id AND sl.variant_id = v.id
          WHERE v.tenant_id = ?1 AND v.id = ?2
          GROUP BY v.id",
        params![tenant, variant, location, now],
        |row| {
            let mut total = kept_state(row, 0)?;
            total.claims.reserved = row.get(7)?;
            let mut level = kept_after;
            level.claims.reserved = row.get(8)?;
            Ok(VariantAfter {
                level,
                total,
                sku: row.sku(5)?,
                reorder_level: row.get(6)?,
            })
        },
    )
    .or_store("reading a changed variant's total")?;
    Ok(after)
}

/// Applies the change's hold at its level, once the level's conditional write has passed (so a
/// hold taken counted as live in that write): `Place` stores it with the change's reserved
/// units; `Take` and `Extend` require it there and live at `now`, else `HoldGone`; `Drop`
/// removes it if present.
fn apply_hold(
    tx: &Transaction<'_>,
    tenant: &str,
    variant: &str,
    location: &str,
    change: &StockChange,
    hold: &HoldChange,
    now: i64,
) -> Result<(), LedgerError> {
    let reservation = hold.reservation_id().to_string();
    let changed = match hold {
        HoldChange::Place { expires_at, .. } => tx
            .prepare_cached(
                "INSERT INTO holds (tenant_id, reservation_id, variant_id, location_id, quantity,
                                    expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    tenant,
                    reservation,
                    variant,
                    location,
                    change.claims.reserved,
                    millis(expires_at),
                ])
            })
            .or_store("placing a hold")?,
        HoldChange::Take { .. } => tx
            .prepare_cached(
                "DELETE FROM holds
                  WHERE reservation_id = ?1 AND variant_id = ?2 AND location_id = ?3
                    AND tenant_id = ?4 AND expires_at > ?5",
            )
            .and_then(|mut stmt| stmt.execute(params![reservation, variant, location, tenant, now]))
            .or_store("taking a hold")?,
        HoldChange::Drop { .. } => {
            tx.prepare_cached(
                "DELETE FROM holds
                  WHERE reservation_id = ?1 AND variant_id = ?2 AND location_id = ?3
                    AND tenant_id = ?4",
            )
            .and_then(|mut stmt| stmt.execute(params![reservation, variant, location, tenant]))
            .or_store("dropping a hold")?;
            return Ok(());
        }
        HoldChange::Extend { expires_at, .. } => tx
            .prepare_cached(
                "UPDATE holds SET expires_at = ?1
                  WHERE reservation_id = ?2 AND variant_id = ?3 AND location_id = ?4
                    AND tenant_id = ?5 AND expires_at > ?6",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    millis(expires_at),
                    reservation,
                    variant,
                    location,
                    tenant,
                    now
                ])
            })
            .or_store("extending a hold")?,
    };
    if changed == 0 {
        return Err(LedgerError::HoldGone(hold.reservation_id()));
    }
    Ok(())
}

/// The states of a change's level, read in the write transaction (reserved: its holds live at
/// `now`): all 0 for a level the variant never had, `None` when the variant is missing.
fn level_state(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    change: &StockChange,
    now: i64,
) -> Result<Option<StockState>, StoreError> {
    optional_row(
        tx,
        "SELECT COALESCE(s.stock, 0), COALESCE(s.committed, 0), COALESCE(s.damaged, 0),
                COALESCE(s.quality_control, 0), COALESCE(s.safety_stock, 0),
                (SELECT COALESCE(SUM(h.quantity), 0) FROM holds h
                  WHERE h.tenant_id = ?1 AND h.variant_id = ?2 AND h.location_id = ?3
                    AND h.expires_at > ?4)
           FROM variants v
           LEFT JOIN stock_levels s
             ON s.tenant_id = v.tenant_id AND s.variant_id = v.id AND s.location_id = ?3
          WHERE v.tenant_id = ?1 AND v.id = ?2",
        params![
            tenant.to_string(),
            change.variant_id.to_string(),
            change.location_id.to_string(),
            now,
        ],
        |r| {
            let mut state = kept_state(r, 0)?;
            state.claims.reserved = r.get(5)?;
            Ok(state)
        },
    )
    .or_store("reading the stock of a refused change")
}

fn insert_movement(tx: &Transaction<'_>, m: &StockMovement) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO stock_movements (id, tenant_id, variant_id, location_id, kind, quantity,
                                      stock_after, reason, order_id, purchase_order_id,
                                      transfer_id, unit_cost, actor, created_at, damaged,
                                      quality_control, safety_stock)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            m.id.to_string(),
            m.tenant_id.to_string(),
            m.variant_id.to_string(),
            m.location_id.to_string(),
            m.kind.as_str(),
            m.quantity,
            m.stock_after,
            m.reason,
            m.order_id.map(|id| id.to_string()),
            m.purchase_order_id.map(|id| id.to_string()),
            m.transfer_id.map(|id| id.to_string()),
            m.unit_cost.map(|c| c.minor_units()),
            m.actor.to_string(),
            millis(&m.created_at),
            m.unavailable.damaged,
            m.unavailable.quality_control,
            m.unavailable.safety_stock,
        ])
    })
    .or_store("inserting a movement")?;
    Ok(())
}

fn apply_document(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    document: &DocumentWrite,
) -> Result<(), StoreError> {
    match document {
        DocumentWrite::None => Ok(()),
        DocumentWrite::InsertOrder(order) => orders::insert(tx, tenant, order),
        DocumentWrite::UpdateOrder {
            order,
            expected_version,
        } => orders::replace(tx, tenant, order, *expected_version),
        DocumentWrite::InsertPurchaseOrder(po) => purchase_orders::insert(tx, tenant, po),
        DocumentWrite::UpdatePurchaseOrder {
            purchase_order,
            expected_version,
        } => purchase_orders::replace(tx, tenant, purchase_order, *expected_version),
        DocumentWrite::InsertTransfer(transfer) => transfers::insert(tx, tenant, transfer),
        DocumentWrite::UpdateTransfer {
            transfer,
            expected_version,
        } => transfers::replace(tx, tenant, transfer, *expected_version),
        DocumentWrite::InsertReservation(reservation) => {
            reservations::insert(tx, tenant, reservation)
        }
        DocumentWrite::UpdateReservation {
            reservation,
            expected_version,
        } => reservations::replace(tx, tenant, reservation, *expected_version),
        DocumentWrite::ConfirmReservation {
            reservation,
            expected_version,
            order,
        } => {
            reservations::replace(tx, tenant, reservation, *expected_version)?;
            orders::insert(tx, tenant, order)
        }
    }
}

fn movement_from_row(row: &Row<'_>) -> rusqlite::Result<StockMovement> {
    Ok(StockMovement {
        id: row.id("id")?,
        tenant_id: row.id("tenant_id")?,
        variant_id: row.id("variant_id")?,
        location_id: row.id("location_id")?,
        kind: row.decode("kind", |s: String| {
            MovementKind::parse(&s).ok_or("unknown movement kind")
        })?,
        quantity: row.get("quantity")?,
        unavailable: Unavailable {
            damaged: row.get("damaged")?,
            quality_control: row.get("quality_control")?,
            safety_stock: row.get("safety_stock")?,
        },
        stock_after: row.get("stock_after")?,
        reason: row.get("reason")?,
        order_id: row.opt_id("order_id")?,
        purchase_order_id: row.opt_id("purchase_order_id")?,
        transfer_id: row.opt_id("transfer_id")?,
        unit_cost: row.opt_money("unit_cost")?,
        actor: row.id("actor")?,
        created_at: row.time("created_at")?,
    })
}
