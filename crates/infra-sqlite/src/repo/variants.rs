//! Variants: unique SKU per tenant, stock changed only by the ledger (`in_transit`, the units
//! on shipped transfers, is kept by the ledger's writes beside the levels), `levels`, their
//! totals and `incoming` computed in SQL.
//!
//! A page of variants, like a set of ids, is one statement: each variant row carries its levels,
//! its live holds and the units incoming per location (from the purchase orders' destinations)
//! as three short lists read by correlated subqueries, one index probe each. A level's reserved
//! units are its holds whose expiry is after the instant of the read, so every statement here
//! binds that instant as `?1`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::Utc;
use domain::catalog::models::{Variant, VariantFilter, VariantLevel};
use domain::catalog::ports::VariantRepository;
use domain::idempotency::IdempotencyWrite;
use domain::ids::{LocationId, TenantId, VariantId};
use domain::pagination::{Direction, Page, PageRequest};
use domain::precondition::Version;
use domain::purchasing::models::PurchaseOrderStatus;
use domain::stock::state::{StockState, Unavailable};
use domain::transfers::models::TransferStatus;
use domain::values::Attributes;
use domain::StoreError;
use rusqlite::{params, Row};

use super::idempotency;
use crate::error::SqlResultExt;
use crate::row::{id_list, millis, missing_or_moved, optional_row, RowExt, Select};
use crate::SqliteStore;

/// `'A', 'B'` for a fixed set of statuses taken from the domain (never from input).
pub(crate) fn status_list(statuses: &[PurchaseOrderStatus]) -> String {
    quoted(statuses.iter().map(|s| s.as_str()))
}

/// `'A', 'B'` for a fixed set of transfer statuses taken from the domain.
pub(crate) fn transfer_status_list(statuses: &[TransferStatus]) -> String {
    quoted(statuses.iter().map(|s| s.as_str()))
}

fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The units of the live holds (`expires_at` after `?1`, the instant of the read in
/// milliseconds) of the level aliased `s`: one range of the `holds_by_level` index.
pub(crate) const LEVEL_RESERVED: &str = "(SELECT COALESCE(SUM(h.quantity), 0) FROM holds h
                                          WHERE h.tenant_id = s.tenant_id
                                            AND h.variant_id = s.variant_id
                                            AND h.location_id = s.location_id
                                            AND h.expires_at > ?1)";

/// The units of the level aliased `s` that are claimed by nothing: on hand less committed,
/// unavailable and reserved (live at `?1`).
pub(crate) static LEVEL_AVAILABLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "(s.stock - s.committed - s.damaged - s.quality_control - s.safety_stock
          - {LEVEL_RESERVED})"
    )
});

/// The columns of a variant row (table alias `v`), in the order of [`column`], with its levels,
/// its live holds and the units incoming per location in three correlated subqueries: one
/// index probe each per variant, so a page or a set of ids is one statement. Binds `?1`: the
/// instant of the read (milliseconds), at which holds are judged live. The levels answer
/// `location:on_hand:committed:damaged:quality_control:safety_stock,…`, the holds and the
/// incoming units `location:units,…` (or NULL each), decoded by [`levels_from`].
pub(crate) static VARIANT_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "v.id, v.tenant_id, v.product_id, v.sku, v.attributes, v.price, v.reorder_level,
         v.created_at, v.updated_at, v.in_transit,
         (SELECT group_concat(sl.location_id || ':' || sl.stock || ':' || sl.committed || ':'
                              || sl.damaged || ':' || sl.quality_control || ':'
                              || sl.safety_stock, ',')
            FROM stock_levels sl
           WHERE sl.tenant_id = v.tenant_id AND sl.variant_id = v.id) AS levels,
         (SELECT group_concat(h.location_id || ':' || h.quantity, ',')
            FROM holds h
           WHERE h.tenant_id = v.tenant_id AND h.variant_id = v.id
             AND h.expires_at > ?1) AS held,
         (SELECT group_concat(p.location_id || ':' || (l.quantity - l.received), ',')
            FROM purchase_order_lines l
            JOIN purchase_orders p ON p.id = l.purchase_order_id
           WHERE l.tenant_id = v.tenant_id AND l.variant_id = v.id AND l.quantity > l.received
             AND p.tenant_id = v.tenant_id AND p.status IN ({})) AS incoming",
        status_list(&PurchaseOrderStatus::INCOMING)
    )
});

/// A variant's available total (table alias `v`): Σ of its levels' on hand less committed and
/// unavailable, one primary-key range, less its holds live at `?1`, one index range.
pub(crate) const TOTAL_AVAILABLE: &str =
    "((SELECT COALESCE(SUM(sl.stock - sl.committed - sl.damaged - sl.quality_control
                            - sl.safety_stock), 0)
         FROM stock_levels sl
        WHERE sl.tenant_id = v.tenant_id AND sl.variant_id = v.id)
      - (SELECT COALESCE(SUM(h.quantity), 0) FROM holds h
          WHERE h.tenant_id = v.tenant_id AND h.variant_id = v.id AND h.expires_at > ?1))";

/// A variant's total on hand (table alias `v`): Σ of its levels' on hand.
pub(crate) const TOTAL_ON_HAND: &str = "(SELECT COALESCE(SUM(sl.stock), 0) FROM stock_levels sl
                                          WHERE sl.tenant_id = v.tenant_id AND sl.variant_id = v.id)";

/// Whether the variant (table alias `v`) holds stock at any of its levels — on hand, which
/// every committed, reserved and unavailable unit is part of — or a hold live at `?1` (the
/// instant of the write, in milliseconds).
pub(crate) const HOLDS_STOCK: &str = "(EXISTS (SELECT 1 FROM stock_levels sl
                                        WHERE sl.tenant_id = v.tenant_id AND sl.variant_id = v.id
                                          AND sl.stock <> 0)
                                      OR EXISTS (SELECT 1 FROM holds h
                                        WHERE h.tenant_id = v.tenant_id AND h.variant_id = v.id
                                          AND h.expires_at > ?1))";

/// Variant rows of a tenant (binds `?1` the instant of the read in milliseconds, `?2` the
/// tenant); ends in a `WHERE` on the tenant, so callers append conditions with plain `?`
/// placeholders (numbered from 3).
pub(crate) static SELECT_VARIANTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM variants v WHERE v.tenant_id = ?2",
        *VARIANT_COLUMNS
    )
});

/// The instant of a read, in milliseconds: what holds are judged live at.
pub(crate) fn read_instant() -> i64 {
    millis(&Utc::now())
}

/// A variant's levels, by location id, from the three lists [`VARIANT_COLUMNS`] reads: the kept
/// numbers per level row (`location:on_hand:committed:damaged:quality_control:safety_stock`),
/// the units of each live hold (`location:units`, summed per location into reserved) and the
/// units incoming per open purchase-order line (`location:units`, summed per location).
fn levels_from(
    stock: Option<String>,
    held: Option<String>,
    incoming: Option<String>,
) -> Result<Vec<VariantLevel>, String> {
    #[derive(Clone, Copy)]
    enum List {
        Levels,
        Held,
        Incoming,
    }
    let mut by_location: BTreeMap<LocationId, (StockState, i64)> = BTreeMap::new();
    for (list, which) in [
        (stock, List::Levels),
        (held, List::Held),
        (incoming, List::Incoming),
    ] {
        for entry in list.iter().flat_map(|l| l.split(',')) {
            let mut parts = entry.split(':');
            let location: LocationId = parts
                .next()
                .and_then(|l| l.parse().ok())
                .ok_or_else(|| format!("malformed level entry '{entry}'"))?;
            let mut number = || {
                let units = parts.next().unwrap_or_default();
                units
                    .parse::<i64>()
                    .map_err(|_| format!("malformed level units '{units}' in '{entry}'"))
            };
            let level = by_location.entry(location).or_default();
            match which {
                List::Levels => {
                    let on_hand = number()?;
                    let committed = number()?;
                    let unavailable = Unavailable {
                        damaged: number()?,
                        quality_control: number()?,
                        safety_stock: number()?,
                    };
                    level.0.on_hand = on_hand;
                    level.0.claims.committed = committed;
                    level.0.claims.unavailable = unavailable;
                }
                List::Held => level.0.claims.reserved += number()?,
                List::Incoming => level.1 += number()?,
            }
        }
    }
    Ok(by_location
        .into_iter()
        .map(|(location_id, (state, incoming))| VariantLevel::new(location_id, state, incoming))
        .collect())
}

/// Positions of the columns of [`VARIANT_COLUMNS`]. Variant pages are the most frequent read,
/// and reading by position skips a by-name lookup per column and row.
pub(crate) mod column {
    pub const ID: usize = 0;
    pub const TENANT_ID: usize = 1;
    pub const PRODUCT_ID: usize = 2;
    pub const SKU: usize = 3;
    pub const ATTRIBUTES: usize = 4;
    pub const PRICE: usize = 5;
    pub const REORDER_LEVEL: usize = 6;
    pub const CREATED_AT: usize = 7;
    pub const UPDATED_AT: usize = 8;
    pub const IN_TRANSIT: usize = 9;
    pub const LEVELS: usize = 10;
    pub const HELD: usize = 11;
    pub const INCOMING: usize = 12;
}

/// A row of [`VARIANT_COLUMNS`], without its levels and `incoming` (see [`attach_levels`]).
pub(crate) fn variant_from_row(row: &Row<'_>) -> rusqlite::Result<Variant> {
    let stock: Option<String> = row.get(column::LEVELS)?;
    let held: Option<String> = row.get(column::HELD)?;
    let incoming: Option<String> = row.get(column::INCOMING)?;
    let levels = levels_from(stock, held, incoming).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            column::LEVELS,
            rusqlite::types::Type::Text,
            e.into(),
        )
    })?;
    Ok(Variant {
        id: row.id(column::ID)?,
        tenant_id: row.id(column::TENANT_ID)?,
        product_id: row.id(column::PRODUCT_ID)?,
        sku: row.sku(column::SKU)?,
        attributes: row.decode(column::ATTRIBUTES, |s: String| {
            let map: BTreeMap<String, String> =
                serde_json::from_str(&s).map_err(|e| e.to_string())?;
            Attributes::new(map).map_err(|e| e.to_string())
        })?,
        price: row.money(column::PRICE)?,
        reorder_level: row.level(column::REORDER_LEVEL)?,
        stock: 0,
        state: StockState::default(),
        incoming: 0,
        levels: Vec::new(),
        in_transit: row.get(column::IN_TRANSIT)?,
        created_at: row.time(column::CREATED_AT)?,
        updated_at: row.time(column::UPDATED_AT)?,
    }
    .with_levels(levels))
}

/// Deletes the variant only if it may go: it holds no stock, no live hold (at `?1`) and no
/// units of it are in transit.
static DELETABLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "DELETE FROM variants AS v
          WHERE v.tenant_id = ?2 AND v.id = ?3 AND v.in_transit = 0 AND NOT {HOLDS_STOCK}"
    )
});

fn attributes_json(attributes: &Attributes) -> String {
    serde_json::Value::from_iter(
        attributes
            .as_map()
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))),
    )
    .to_string()
}

#[async_trait]
impl VariantRepository for SqliteStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        variant: &Variant,
        idempotency: Option<IdempotencyWrite>,
    ) -> Result<(), StoreError> {
        let (tenant, variant, record) = (*tenant, variant.clone(), idempotency);
        self.write("inserting a variant", move |tx| {
            // In the write's own transaction, which holds the database's write lock: the
            // product cannot be deleted between this check and the commit.
            optional_row(
                tx,
                "SELECT 1 FROM products WHERE tenant_id = ?1 AND id = ?2",
                params![tenant.to_string(), variant.product_id.to_string()],
                |_| Ok(()),
            )
            .or_store("checking the variant's product")?
            .ok_or(StoreError::NotFound)?;
            if let Some(record) = &record {
                idempotency::store(tx, &tenant, record.into())?;
            }
            tx.execute(
                "INSERT INTO variants (id, tenant_id, product_id, sku, attributes, price,
                                       reorder_level, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    variant.id.to_string(),
                    tenant.to_string(),
                    variant.product_id.to_string(),
                    variant.sku.as_str(),
                    attributes_json(&variant.attributes),
                    variant.price.minor_units(),
                    variant.reorder_level.get(),
                    millis(&variant.created_at),
                    millis(&variant.updated_at),
                ],
            )
            .or_store("inserting a variant")?;
            Ok(())
        })
        .await
    }

    async fn get(&self, tenant: &TenantId, id: &VariantId) -> Result<Option<Variant>, StoreError> {
        let tenant = tenant.to_string();
        let query = Select::new(&SELECT_VARIANTS)
            .bind(read_instant())
            .bind(tenant.clone())
            .and("v.id = ?", id.to_string());
        let mut found = self
            .read("reading a variant", move |tx| {
                query.rows(tx, variant_from_row)
            })
            .await?;
        Ok(found.pop())
    }

    async fn get_many(
        &self,
        tenant: &TenantId,
        ids: &[VariantId],
    ) -> Result<Vec<Variant>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let tenant = tenant.to_string();
        let query = Select::new(&SELECT_VARIANTS)
            .bind(read_instant())
            .bind(tenant.clone())
            .and("v.id IN (SELECT value FROM json_each(?))", id_list(ids));
        self.read("reading variants", move |tx| {
            query.rows(tx, variant_from_row)
        })
        .await
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &VariantFilter,
        page: &PageRequest,
    ) -> Result<Page<Variant>, StoreError> {
        let limit = page.limit;
        let tenant = tenant.to_string();
        let mut query = Select::new(&SELECT_VARIANTS)
            .bind(read_instant())
            .bind(tenant.clone());
        if let Some(product) = &filter.product_id {
            query = query.and("v.product_id = ?", product.to_string());
        }
        if let Some(sku) = &filter.sku {
            query = query.and("v.sku = ?", sku.as_str().to_owned());
        }
        if filter.low_stock {
            query = query.and_raw(&format!("{TOTAL_AVAILABLE} <= v.reorder_level"));
        }
        let query = query.page("v.id", page, Direction::Ascending);
        let rows = self
            .read("listing variants", move |tx| {
                query.rows(tx, variant_from_row)
            })
            .await?;
        Ok(Page::from_rows(rows, limit, |v| v.id.to_string()))
    }

    async fn update(
        &self,
        tenant: &TenantId,
        variant: &Variant,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let (tenant, variant) = (tenant.to_string(), variant.clone());
        self.write("updating a variant", move |tx| {
            // The version is the stored `updated_at` in milliseconds (the ledger never writes
            // it), compared in the UPDATE itself.
            let changed = tx
                .execute(
                    "UPDATE variants SET product_id = ?1, sku = ?2, attributes = ?3, price = ?4,
                                         reorder_level = ?5, updated_at = ?6
                     WHERE tenant_id = ?7 AND id = ?8 AND (?9 IS NULL OR updated_at = ?9)",
                    params![
                        variant.product_id.to_string(),
                        variant.sku.as_str(),
                        attributes_json(&variant.attributes),
                        variant.price.minor_units(),
                        variant.reorder_level.get(),
                        millis(&variant.updated_at),
                        tenant,
                        variant.id.to_string(),
                        expected_version,
                    ],
                )
                .or_store("updating a variant")?;
            if changed == 0 {
                return Err(missing_or_moved(
                    tx,
                    "variants",
                    &tenant,
                    &variant.id.to_string(),
                ));
            }
            Ok(())
        })
        .await
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        id: &VariantId,
        expected_version: Option<Version>,
    ) -> Result<(), StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.write("deleting a variant", move |tx| {
            if let Some(expected) = expected_version {
                // Under the write lock: the version compared is the one deleted.
                let current: Option<i64> = optional_row(
                    tx,
                    "SELECT updated_at FROM variants WHERE tenant_id = ?1 AND id = ?2",
                    params![tenant, id],
                    |row| row.get(0),
                )
                .or_store("reading the variant's version")?;
                match current {
                    None => return Err(StoreError::NotFound),
                    Some(current) if current != expected => {
                        return Err(StoreError::VersionConflict)
                    }
                    Some(_) => {}
                }
            }
            // Holds are judged live at the instant of the write, taken under the write lock.
            let now = read_instant();
            let deleted = tx
                .execute(&DELETABLE, params![now, tenant, id])
                .or_store("deleting a variant")?;
            if deleted == 1 {
                tx.execute(
                    "DELETE FROM stock_levels WHERE tenant_id = ?1 AND variant_id = ?2",
                    params![tenant, id],
                )
                .or_store("deleting a variant's levels")?;
                // Only expired holds can be left (a live one keeps the variant): they count for
                // nothing, and go with the levels they were at.
                tx.execute(
                    "DELETE FROM holds WHERE tenant_id = ?1 AND variant_id = ?2",
                    params![tenant, id],
                )
                .or_store("deleting a variant's expired holds")?;
                return Ok(());
            }
            let exists = optional_row(
                tx,
                "SELECT 1 FROM variants WHERE tenant_id = ?1 AND id = ?2",
                params![tenant, id],
                |_| Ok(()),
            )
            .or_store("finding the variant to delete")?;
            Err(match exists {
                Some(()) => StoreError::InUse,
                None => StoreError::NotFound,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_positions_match_the_select() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::migrate::apply(&mut conn).unwrap();
        let statement = conn.prepare(&SELECT_VARIANTS).unwrap();
        let expected = [
            (column::ID, "id"),
            (column::TENANT_ID, "tenant_id"),
            (column::PRODUCT_ID, "product_id"),
            (column::SKU, "sku"),
            (column::ATTRIBUTES, "attributes"),
            (column::PRICE, "price"),
            (column::REORDER_LEVEL, "reorder_level"),
            (column::CREATED_AT, "created_at"),
            (column::UPDATED_AT, "updated_at"),
            (column::IN_TRANSIT, "in_transit"),
            (column::LEVELS, "levels"),
            (column::HELD, "held"),
            (column::INCOMING, "incoming"),
        ];
        assert_eq!(statement.column_count(), expected.len());
        for (index, name) in expected {
            assert_eq!(statement.column_name(index).unwrap(), name);
        }
    }
}
