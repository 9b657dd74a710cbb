//! Fast seeding of ledgers for the reports benchmark.
//!
//! A million movements through the api would take hours and measure the wrong thing, so the
//! ledger is written straight into the store — SQLite with rusqlite in large transactions,
//! MongoDB with `insert_many` — in the exact shape the adapters write. The generator keeps the
//! stock invariant: no movement takes a level below zero, each level's stock is set to the sum of
//! its movements and each variant's total to the sum of its levels, so `/v1/stock/audit` stays
//! clean and the data is what real use would leave behind.
//!
//! Every movement is at the tenant's default location, as a single-location shop's would be: the
//! reports benchmark then reads the same ledger it read before stock was kept per location, so
//! its figures compare across that change.

pub mod mongo;
pub mod sqlite;

use std::collections::BTreeMap;

use rand::Rng;

/// One movement row, as both stores keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct Movement {
    pub id: String,
    pub tenant_id: String,
    pub variant_id: String,
    /// The level it changed is (`variant_id`, `location_id`); seeded ledgers use the default.
    pub location_id: String,
    pub kind: &'static str,
    pub quantity: i64,
    /// The level's stock after it.
    pub stock_after: i64,
    pub reason: Option<&'static str>,
    pub unit_cost: Option<i64>,
    pub actor: String,
    pub created_at_ms: i64,
}

/// A tenant's catalogue as the seeder needs it.
#[derive(Debug, Clone)]
pub struct TenantSeed {
    pub tenant_id: String,
    /// The tenant's default location, where the seeded ledger happens.
    pub location_id: String,
    pub actor: String,
    pub variants: Vec<String>,
}

/// `count` movements of `tenant` spread evenly (with jitter) over `[from_ms, to_ms)`, oldest
/// first, all at the tenant's default location, and each variant's stock there after them (in
/// `tenant.variants` order; also the variant's total, as it has no other level). Mostly sales, with
/// purchases (at a unit cost) whenever stock runs low, some returns and recounts.
pub fn movements(
    rng: &mut impl Rng,
    tenant: &TenantSeed,
    count: usize,
    from_ms: i64,
    to_ms: i64,
) -> (Vec<Movement>, Vec<i64>) {
    let mut stock = vec![0i64; tenant.variants.len()];
    let mut out = Vec::with_capacity(count);
    let step = ((to_ms - from_ms) / count.max(1) as i64).max(1);
    for k in 0..count {
        let at = (from_ms + k as i64 * step + rng.gen_range(0..step)).min(to_ms - 1);
        let v = rng.gen_range(0..stock.len());
        let (kind, quantity, reason, unit_cost) = if stock[v] < 3 {
            (
                "PURCHASE",
                rng.gen_range(20..=100),
                None,
                Some(rng.gen_range(300..=900)),
            )
        } else {
            match rng.gen_range(0..100) {
                0..=69 => ("SALE", -rng.gen_range(1..=3.min(stock[v])), None, None),
                70..=84 => (
                    "PURCHASE",
                    rng.gen_range(10..=50),
                    None,
                    Some(rng.gen_range(300..=900)),
                ),
                85..=92 => (
                    "RETURN",
                    rng.gen_range(1..=2),
                    Some("customer return"),
                    None,
                ),
                _ => {
                    let delta = if rng.gen_bool(0.5) {
                        rng.gen_range(1..=3)
                    } else {
                        -rng.gen_range(1..=stock[v].min(3))
                    };
                    ("ADJUSTMENT", delta, Some("recount"), None)
                }
            }
        };
        stock[v] += quantity;
        out.push(Movement {
            id: uuid_at(rng, at),
            tenant_id: tenant.tenant_id.clone(),
            variant_id: tenant.variants[v].clone(),
            location_id: tenant.location_id.clone(),
            kind,
            quantity,
            stock_after: stock[v],
            reason,
            unit_cost,
            actor: tenant.actor.clone(),
            created_at_ms: at,
        });
    }
    (out, stock)
}

/// Σ quantity per level (variant id, location id) that `movements` touch: the levels the ledger
/// would have created (at a level's first movement), with the stock they hold after them.
pub fn level_sums(movements: &[Movement]) -> BTreeMap<(&str, &str), i64> {
    let mut levels = BTreeMap::new();
    for m in movements {
        *levels
            .entry((m.variant_id.as_str(), m.location_id.as_str()))
            .or_insert(0) += m.quantity;
    }
    levels
}

/// `variant`'s entries of `level_sums`: (location id, stock) by location id.
pub fn levels_of<'a>(
    levels: &'a BTreeMap<(&str, &str), i64>,
    variant: &'a str,
) -> impl Iterator<Item = (&'a str, i64)> + 'a {
    levels
        .range((variant, "")..)
        .take_while(move |((v, _), _)| *v == variant)
        .map(|((_, location), stock)| (*location, *stock))
}

/// `variant`'s total: the sum of its levels.
pub fn total_of(levels: &BTreeMap<(&str, &str), i64>, variant: &str) -> i64 {
    levels_of(levels, variant).map(|(_, stock)| stock).sum()
}

/// A UUIDv7 for the millisecond `at`: ids sort like the times they were made at, as the
/// adapters' own ids do.
pub fn uuid_at(rng: &mut impl Rng, at_ms: i64) -> String {
    let mut bytes: [u8; 16] = rng.gen();
    let ms = (at_ms as u64).to_be_bytes();
    bytes[..6].copy_from_slice(&ms[2..]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    uuid::Uuid::from_bytes(bytes).to_string()
}

/// A fresh random UUIDv7 (ids of seeded tenants, products, variants and actors).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// What both seeders' tests check through the store's own ports once a tenant is seeded: its one
/// location is the default, every variant has exactly one level, there, holding what the ledger
/// says and equal to the variant's total, and the audit finds no drift.
#[cfg(test)]
pub(crate) async fn assert_clean_through_ports<S>(
    store: &S,
    tenant: &TenantSeed,
    final_stock: &[i64],
) where
    S: domain::stock::ports::LedgerRepository
        + domain::catalog::ports::VariantRepository
        + domain::locations::ports::LocationRepository,
{
    use domain::ids::{LocationId, TenantId, VariantId};
    use domain::locations::ports::LocationRepository;

    let id: TenantId = tenant.tenant_id.parse().unwrap();
    let location: LocationId = tenant.location_id.parse().unwrap();
    let locations = LocationRepository::all(store, &id).await.unwrap();
    assert_eq!(locations.len(), 1, "{locations:?}");
    assert!(locations[0].id == location && locations[0].is_default && locations[0].active);
    assert_eq!(
        locations[0].code.as_str(),
        domain::locations::models::DEFAULT_LOCATION_CODE
    );
    for (variant, stock) in tenant.variants.iter().zip(final_stock) {
        let variant: VariantId = variant.parse().unwrap();
        let v = domain::catalog::ports::VariantRepository::get(store, &id, &variant)
            .await
            .unwrap()
            .expect("a seeded variant");
        assert_eq!(v.stock, *stock);
        assert_eq!(v.levels.len(), 1, "{:?}", v.levels);
        assert_eq!(
            (v.levels[0].location_id, v.levels[0].stock),
            (location, *stock)
        );
    }
    let audit = store.audit(&id).await.unwrap();
    let variants = tenant.variants.len() as u64;
    assert_eq!(
        (
            audit.variants_checked,
            audit.levels_checked,
            audit.drift.len()
        ),
        (variants, variants, 0),
        "{:?}",
        audit.drift
    );
    assert!(final_stock.iter().sum::<i64>() > 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn tenant() -> TenantSeed {
        TenantSeed {
            tenant_id: new_id(),
            location_id: new_id(),
            actor: new_id(),
            variants: (0..7).map(|_| new_id()).collect(),
        }
    }

    #[test]
    fn movements_never_go_below_zero_and_sum_to_the_final_stock() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let t = tenant();
        let (ms, stock) = movements(&mut rng, &t, 5000, 1_000_000, 2_000_000);
        assert_eq!(ms.len(), 5000);
        for (i, v) in t.variants.iter().enumerate() {
            let mine: Vec<_> = ms.iter().filter(|m| &m.variant_id == v).collect();
            let mut running = 0;
            for m in &mine {
                running += m.quantity;
                assert!(running >= 0 && m.stock_after == running);
                assert_ne!(m.quantity, 0);
            }
            assert_eq!(running, stock[i]);
        }
        assert!(ms
            .windows(2)
            .all(|w| w[0].created_at_ms <= w[1].created_at_ms && w[0].id < w[1].id));
        assert!(ms
            .iter()
            .all(|m| (1_000_000..2_000_000).contains(&m.created_at_ms)));
        assert!(ms.iter().any(|m| m.kind == "SALE") && ms.iter().any(|m| m.kind == "PURCHASE"));
        assert!(ms
            .iter()
            .filter(|m| m.kind == "PURCHASE")
            .all(|m| m.unit_cost.is_some()));
        assert!(ms.iter().all(|m| m.location_id == t.location_id));
    }

    #[test]
    fn ids_carry_their_time() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let id: uuid::Uuid = uuid_at(&mut rng, 1_700_000_000_123).parse().unwrap();
        assert_eq!(id.get_version_num(), 7);
        let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
        assert_eq!(
            secs * 1000 + u64::from(nanos) / 1_000_000,
            1_700_000_000_123
        );
    }
}
