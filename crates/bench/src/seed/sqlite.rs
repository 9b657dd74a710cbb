//! Seeding a SQLite store file directly, while no api has it open.
//!
//! Rows are written with the columns of `crates/infra-sqlite/migrations/` (0001, then 0002's
//! locations, levels and located movements, 0003's variants without a stored total, 0004's
//! committed units per level, all 0 here: the seed places no orders), in large transactions through one prepared
//! statement, with `synchronous=OFF` for this connection only (a crash mid-seed just means seeding
//! again). The WAL is checkpointed at the end so the api starts on a compact file.
//!
//! As the ledger does: a variant gets its level row at its first movement (none before) and the
//! level keeps the sum of its movements; a variant's total is derived from its levels.

use std::path::Path;

use anyhow::Context;
use domain::locations::models::{DEFAULT_LOCATION_CODE, DEFAULT_LOCATION_NAME};
use rusqlite::{params, Connection};

use super::{level_sums, new_id, Movement, TenantSeed};

pub struct SqliteSeeder {
    conn: Connection,
}

impl SqliteSeeder {
    /// Opens the (already migrated) store file.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        conn.pragma_update(None, "synchronous", "OFF")?;
        conn.pragma_update(None, "cache_size", -262_144)?;
        Ok(SqliteSeeder { conn })
    }

    /// A tenant with its default location and one product of `variants` variants (stock 0,
    /// reorder level 10, no level yet); no users, since nobody logs in as the background tenants.
    pub fn add_tenant(
        &mut self,
        slug: &str,
        variants: usize,
        now_ms: i64,
    ) -> anyhow::Result<TenantSeed> {
        let (tenant_id, location_id, product_id) = (new_id(), new_id(), new_id());
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO tenants (id, name, slug, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![tenant_id, format!("Seeded {slug}"), slug, now_ms],
        )?;
        tx.execute(
            "INSERT INTO locations (id, tenant_id, name, code, is_default, active, priority,
                                    created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 1, 1, 0, ?5, ?5)",
            params![
                location_id,
                tenant_id,
                DEFAULT_LOCATION_NAME,
                DEFAULT_LOCATION_CODE,
                now_ms
            ],
        )?;
        tx.execute(
            "INSERT INTO products (id, tenant_id, name, description, created_at, updated_at)
             VALUES (?1, ?2, 'Seeded product', NULL, ?3, ?3)",
            params![product_id, tenant_id, now_ms],
        )?;
        let mut ids = Vec::with_capacity(variants);
        {
            let mut stmt = tx.prepare(
                "INSERT INTO variants (id, tenant_id, product_id, sku, attributes, price,
                                       reorder_level, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, '{\"size\":\"M\"}', 1999, 10, ?5, ?5)",
            )?;
            for i in 0..variants {
                let id = new_id();
                stmt.execute(params![
                    id,
                    tenant_id,
                    product_id,
                    format!("SEED-{i:05}"),
                    now_ms
                ])?;
                ids.push(id);
            }
        }
        tx.commit()?;
        Ok(TenantSeed {
            tenant_id,
            location_id,
            actor: new_id(),
            variants: ids,
        })
    }

    /// Appends `movements` of `tenant` and adds to each level what they moved, in one
    /// transaction.
    pub fn add_ledger(
        &mut self,
        tenant: &TenantSeed,
        movements: &[Movement],
    ) -> anyhow::Result<()> {
        let levels = level_sums(movements);
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO stock_movements (id, tenant_id, variant_id, location_id, kind, quantity,
                                              stock_after, reason, order_id, purchase_order_id,
                                              transfer_id, unit_cost, actor, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL, NULL, ?9, ?10, ?11)",
            )?;
            for m in movements {
                insert.execute(params![
                    m.id,
                    m.tenant_id,
                    m.variant_id,
                    m.location_id,
                    m.kind,
                    m.quantity,
                    m.stock_after,
                    m.reason,
                    m.unit_cost,
                    m.actor,
                    m.created_at_ms
                ])?;
            }
            let mut level = tx.prepare_cached(
                "INSERT INTO stock_levels (tenant_id, variant_id, location_id, stock)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant_id, variant_id, location_id)
                 DO UPDATE SET stock = stock + excluded.stock",
            )?;
            for ((variant, location), moved) in &levels {
                level.execute(params![tenant.tenant_id, variant, location, moved])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Folds the WAL into the main file.
    pub fn finish(self) -> anyhow::Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .context("checkpointing the WAL")?;
        Ok(())
    }

    /// Movements in the file (all tenants).
    pub fn movement_count(&self) -> anyhow::Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM stock_movements", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{assert_clean_through_ports, movements};
    use rand::SeedableRng;

    #[tokio::test]
    async fn a_seeded_ledger_passes_the_stores_own_audit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.db");
        let url = format!("sqlite://{}", path.display());
        drop(infra_sqlite::SqliteStore::open(&url).await.unwrap());

        let mut seeder = SqliteSeeder::open(&path).unwrap();
        let tenant = seeder.add_tenant("seeded-one", 5, 1_000).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let (ms, stock) = movements(&mut rng, &tenant, 400, 10_000, 20_000_000);
        seeder.add_ledger(&tenant, &ms).unwrap();
        assert_eq!(seeder.movement_count().unwrap(), 400);
        seeder.finish().unwrap();

        let store = infra_sqlite::SqliteStore::open(&url).await.unwrap();
        assert_clean_through_ports(&store, &tenant, &stock).await;
    }
}
