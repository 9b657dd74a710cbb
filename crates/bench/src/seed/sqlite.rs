//! Seeding a SQLite store file directly, while no api has it open.
//!
//! Rows are written with the columns of `crates/infra-sqlite/migrations/0001_init.sql`, in large
//! transactions through one prepared statement, with `synchronous=OFF` for this connection only
//! (a crash mid-seed just means seeding again). The WAL is checkpointed at the end so the api
//! starts on a compact file.

use std::path::Path;

use anyhow::Context;
use rusqlite::{params, Connection};

use super::{new_id, Movement, TenantSeed};

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

    /// A tenant with one product of `variants` variants (stock 0, reorder level 10); no users,
    /// since nobody logs in as the background tenants.
    pub fn add_tenant(
        &mut self,
        slug: &str,
        variants: usize,
        now_ms: i64,
    ) -> anyhow::Result<TenantSeed> {
        let tenant_id = new_id();
        let product_id = new_id();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO tenants (id, name, slug, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![tenant_id, format!("Seeded {slug}"), slug, now_ms],
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
                                       reorder_level, stock, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, '{\"size\":\"M\"}', 1999, 10, 0, ?5, ?5)",
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
            actor: new_id(),
            variants: ids,
        })
    }

    /// Appends `movements` and sets each variant's stock (`final_stock` in `tenant.variants`
    /// order) to the sum of its movements, in one transaction.
    pub fn add_ledger(
        &mut self,
        tenant: &TenantSeed,
        movements: &[Movement],
        final_stock: &[i64],
    ) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO stock_movements (id, tenant_id, variant_id, kind, quantity, stock_after,
                                              reason, order_id, purchase_order_id, unit_cost, actor,
                                              created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL, ?8, ?9, ?10)",
            )?;
            for m in movements {
                insert.execute(params![
                    m.id,
                    m.tenant_id,
                    m.variant_id,
                    m.kind,
                    m.quantity,
                    m.stock_after,
                    m.reason,
                    m.unit_cost,
                    m.actor,
                    m.created_at_ms
                ])?;
            }
            let mut set = tx.prepare_cached(
                "UPDATE variants SET stock = stock + ?1 WHERE tenant_id = ?2 AND id = ?3",
            )?;
            for (variant, stock) in tenant.variants.iter().zip(final_stock) {
                anyhow::ensure!(
                    set.execute(params![stock, tenant.tenant_id, variant])? == 1,
                    "variant {variant} of tenant {} is not in the store",
                    tenant.tenant_id
                );
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
    use crate::seed::movements;
    use domain::ids::TenantId;
    use domain::stock::ports::LedgerRepository;
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
        seeder.add_ledger(&tenant, &ms, &stock).unwrap();
        assert_eq!(seeder.movement_count().unwrap(), 400);
        seeder.finish().unwrap();

        let store = infra_sqlite::SqliteStore::open(&url).await.unwrap();
        let id: TenantId = tenant.tenant_id.parse().unwrap();
        let audit = store.audit(&id).await.unwrap();
        assert_eq!((audit.variants_checked, audit.drift.len()), (5, 0));
        assert!(stock.iter().sum::<i64>() > 0);
    }
}
