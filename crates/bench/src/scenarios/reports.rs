//! The reports benchmark: do a tenant's reads and reports slow down with other tenants' data?
//!
//! One tenant (signed up over HTTP, its variants created over HTTP) gets the same ledger in two
//! stores: first alone (`movements_per_tenant` movements in total), then beside `tenants − 1`
//! other tenants with as many movements each (10k vs 1M by default). Each report, a variant
//! read and an order of one unit are timed with one client, one request at a time, in both; the ratio large ÷ small should stay near 1, since
//! every report query is bounded by the tenant's own index range. Seeding writes straight into the
//! store (see [`crate::seed`]); the api is stopped while SQLite is being written.

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::api::{locate_api_bin, random_secret, start_api, ApiSettings, StoreUrl};
use crate::child::ChildServer;
use crate::cli::{Common, ReportParams, ReportsArgs};
use crate::client::{create_variants, http_client, register, ApiClient};
use crate::load::Percentiles;
use crate::machine::Machine;
use crate::report::{checks_table, ms, record, Check, Table};
use crate::seed::mongo::MongoSeeder;
use crate::seed::sqlite::SqliteSeeder;
use crate::seed::{movements, TenantSeed};

/// Largest acceptable `large ÷ small` latency ratio.
const RATIO_TARGET: f64 = 1.5;
/// Days of history the ledger spans (and the movement series covers).
const DAYS: i64 = 30;

/// The timed reads: one variant of the tenant, then each report (name, path and query).
fn reports(from: &str, to: &str, variant: &str) -> Vec<(&'static str, String)> {
    vec![
        ("variant read", format!("/v1/variants/{variant}")),
        (
            "movements (day buckets, 30 days)",
            format!("/v1/reports/movements?from={from}&to={to}&bucket=day"),
        ),
        (
            "top-movers",
            format!("/v1/reports/top-movers?from={from}&to={to}"),
        ),
        ("valuation", "/v1/reports/valuation".to_owned()),
        ("low-stock", "/v1/reports/low-stock".to_owned()),
    ]
}

/// What each store size is timed on: one variant of the measured tenant, and the reports' window.
#[derive(Clone, Copy)]
struct Reads<'a> {
    variant: &'a str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

/// One report's latencies in one store.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub report: String,
    pub small: Percentiles,
    pub small_mean: f64,
    pub large: Percentiles,
    pub large_mean: f64,
    /// large p50 ÷ small p50.
    pub ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportResults {
    pub machine: Machine,
    pub store: String,
    pub tenants: usize,
    pub movements_per_tenant: usize,
    pub variants: usize,
    pub iterations: usize,
    pub movements_small: i64,
    pub movements_large: i64,
    pub seed_seconds: f64,
    pub timings: Vec<Timing>,
    pub checks: Vec<Check>,
}

/// Where the ledgers are written.
enum Seeder {
    Sqlite(std::path::PathBuf),
    Mongo(MongoSeeder),
}

/// Runs the reports benchmark. `Ok(false)` when a correctness check (audit drift) failed.
pub async fn run(common: &Common, args: &ReportsArgs) -> anyhow::Result<bool> {
    let p = ReportParams::new(common, args)?;
    let machine = Machine::describe();
    println!("stockroom-bench reports: {}", machine.summary());
    let dir = tempfile::Builder::new()
        .prefix("stockroom-bench-reports-")
        .tempdir()?;
    let store = StoreUrl::fresh(common.database_url.as_deref(), dir.path(), "reports.db")?;
    let bin = locate_api_bin(common.api_bin.as_deref())?;
    let secret = random_secret();
    let log = dir.path().join("api.log");
    let settings = ApiSettings {
        bin: &bin,
        store: &store,
        redis_url: common.redis_url.as_deref(),
        jwt_secret: &secret,
        log: &log,
    };
    let seeder = match &store {
        StoreUrl::Sqlite(_) => Seeder::Sqlite(store.sqlite_path().context("a SQLite file path")?),
        StoreUrl::Mongo { url, database } => {
            Seeder::Mongo(MongoSeeder::connect(url, database).await?)
        }
    };
    let http = http_client(4)?;
    let to = Utc::now();
    let from = to - chrono::Duration::days(DAYS);

    // The measured tenant, over HTTP (the api also creates the schema).
    let api = start_api(&settings)?;
    let slug = format!(
        "measured-{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    let signed_up = register(&http, &api.base_url, &slug).await?;
    let client = signed_up.client.clone();
    let measured = TenantSeed {
        tenant_id: signed_up.tenant_id.clone(),
        location_id: client.default_location().await?,
        actor: signed_up.user_id.clone(),
        variants: create_variants(&client, "RPT", p.variants, 0, 10, 8).await?,
    };
    let api = stop_for_seeding(api, &seeder)?;

    let seed_started = Instant::now();
    println!(
        "seeding {} movements of the measured tenant",
        p.movements_per_tenant
    );
    seed_tenants(&seeder, Some(&measured), 1, &p, from, to).await?;
    let mut seed_seconds = seed_started.elapsed().as_secs_f64();
    let reads = Reads {
        variant: &measured.variants[0],
        from,
        to,
    };
    let small = measure(&settings, api, &seeder, &client, &p, &reads).await?;

    let seed_started = Instant::now();
    let others = p.tenants - 1;
    println!(
        "seeding {others} more tenants × {} movements",
        p.movements_per_tenant
    );
    let api = stop_for_seeding(small.api, &seeder)?;
    seed_tenants(&seeder, None, others, &p, from, to).await?;
    seed_seconds += seed_started.elapsed().as_secs_f64();
    let large = measure(&settings, api, &seeder, &client, &p, &reads).await?;
    // Leaves out the adjustment the small store's timed orders took their stock from: it was
    // written after the small store was counted.
    let large_movements = large.movements - ORDER_STOCK_MOVEMENTS;
    large.api.stop()?;
    store.discard().await.ok();

    let timings: Vec<Timing> = small
        .timings
        .into_iter()
        .zip(large.timings)
        .map(|((name, mut s), (_, mut l))| {
            let (s_mean, l_mean) = (mean(&s), mean(&l));
            let (s, l) = (Percentiles::of(&mut s), Percentiles::of(&mut l));
            Timing {
                report: name,
                ratio: if s.p50 > 0.0 { l.p50 / s.p50 } else { 0.0 },
                small: s,
                small_mean: s_mean,
                large: l,
                large_mean: l_mean,
            }
        })
        .collect();
    let mut checks = vec![
        Check::correctness(
            "measured tenant audit drift (small / large)",
            "0 / 0",
            format!("{} / {}", small.drift, large.drift),
            small.drift == 0 && large.drift == 0,
        ),
        Check::correctness(
            "movements in the store (small / large)",
            &format!(
                "{} / {}",
                p.movements_per_tenant,
                p.movements_per_tenant * p.tenants
            ),
            format!("{} / {}", small.movements, large_movements),
            small.movements == p.movements_per_tenant as i64
                && large_movements == (p.movements_per_tenant * p.tenants) as i64,
        ),
    ];
    for t in &timings {
        checks.push(Check::new(
            &format!("{} large ÷ small", t.report),
            &format!("≤ {RATIO_TARGET}"),
            format!("{:.2}", t.ratio),
            t.ratio <= RATIO_TARGET,
        ));
    }
    let results = ReportResults {
        machine,
        store: store.kind().to_owned(),
        tenants: p.tenants,
        movements_per_tenant: p.movements_per_tenant,
        variants: p.variants,
        iterations: p.iterations,
        movements_small: small.movements,
        movements_large: large_movements,
        seed_seconds,
        timings,
        checks,
    };
    let section = render(&results, p.smoke);
    println!("\n{section}");
    record(common, &section, &results)?;
    Ok(results.checks.iter().all(|c| c.pass || !c.correctness))
}

/// SQLite is written while no api holds it; MongoDB can be seeded beside a running api.
fn stop_for_seeding(api: ChildServer, seeder: &Seeder) -> anyhow::Result<Option<ChildServer>> {
    match seeder {
        Seeder::Sqlite(_) => {
            api.stop()?;
            Ok(None)
        }
        Seeder::Mongo(_) => Ok(Some(api)),
    }
}

/// Seeds `measured` (when given) or `count` new tenants, each with its own ledger.
async fn seed_tenants(
    seeder: &Seeder,
    measured: Option<&TenantSeed>,
    count: usize,
    p: &ReportParams,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (from_ms, to_ms) = (from.timestamp_millis(), to.timestamp_millis());
    let mut sqlite = match seeder {
        Seeder::Sqlite(path) => Some(SqliteSeeder::open(path)?),
        Seeder::Mongo(_) => None,
    };
    let run = uuid::Uuid::now_v7().simple().to_string();
    for i in 0..count {
        let tenant = match (measured, &mut sqlite, seeder) {
            (Some(t), _, _) => t.clone(),
            (None, Some(s), _) => {
                s.add_tenant(&format!("seed-{}-{i}", &run[20..]), p.variants, from_ms)?
            }
            (None, None, Seeder::Mongo(m)) => {
                m.add_tenant(&format!("seed-{}-{i}", &run[20..]), p.variants, from_ms)
                    .await?
            }
            (None, None, Seeder::Sqlite(_)) => unreachable!("a SQLite seeder is open"),
        };
        let (ledger, _) = movements(
            &mut rand::thread_rng(),
            &tenant,
            p.movements_per_tenant,
            from_ms,
            to_ms,
        );
        match (&mut sqlite, seeder) {
            (Some(s), _) => s.add_ledger(&tenant, &ledger)?,
            (None, Seeder::Mongo(m)) => m.add_ledger(&tenant, &ledger).await?,
            (None, Seeder::Sqlite(_)) => unreachable!("a SQLite seeder is open"),
        }
        if count > 1 && (i + 1) % 10 == 0 {
            println!("  {} of {count} tenants seeded", i + 1);
        }
    }
    if let Some(s) = sqlite {
        s.finish()?;
    }
    Ok(())
}

/// One store size measured: per report its latencies (µs), and the state checks.
struct Measured {
    api: ChildServer,
    timings: Vec<(String, Vec<u32>)>,
    drift: usize,
    movements: i64,
}

async fn measure(
    settings: &ApiSettings<'_>,
    running: Option<ChildServer>,
    seeder: &Seeder,
    client: &ApiClient,
    p: &ReportParams,
    reads: &Reads<'_>,
) -> anyhow::Result<Measured> {
    let Reads { variant, from, to } = *reads;
    let api = match running {
        Some(api) => api,
        None => start_api(settings)?,
    };
    let client = ApiClient {
        base: api.base_url.clone(),
        ..client.clone()
    };
    let movements = match seeder {
        Seeder::Sqlite(path) => SqliteSeeder::open(path)?.movement_count()?,
        Seeder::Mongo(m) => m.movement_count().await?,
    };
    let (_, drift) = client.audit().await?;
    let (from, to) = (
        from.to_rfc3339_opts(SecondsFormat::Secs, true),
        to.to_rfc3339_opts(SecondsFormat::Secs, true),
    );
    let mut timings = Vec::new();
    for (name, path) in reports(&from, &to, variant) {
        for _ in 0..2 {
            client.get_json(&path).await?;
        }
        let mut micros = Vec::with_capacity(p.iterations);
        for _ in 0..p.iterations {
            let started = Instant::now();
            client
                .get_json(&path)
                .await
                .with_context(|| format!("timing {name}"))?;
            micros.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        }
        let p50 = Percentiles::of(&mut micros.clone()).p50;
        println!("  {name}: p50 {} ms", ms(p50));
        timings.push((name.to_owned(), micros));
    }
    let micros = time_orders(&client, variant, p.iterations).await?;
    println!(
        "  {ORDER}: p50 {} ms",
        ms(Percentiles::of(&mut micros.clone()).p50)
    );
    timings.push((ORDER.to_owned(), micros));
    Ok(Measured {
        api,
        timings,
        drift,
        movements,
    })
}

/// The write timed beside the reads: one order of one unit of the measured variant.
const ORDER: &str = "order (one unit)";
/// Movements each measurement writes (after counting the store): the stock for its orders.
const ORDER_STOCK_MOVEMENTS: i64 = 1;

/// Places `iterations` orders of one unit (after two untimed), each alone, on stock added for
/// them first so none is refused; their latencies in µs.
async fn time_orders(
    client: &ApiClient,
    variant: &str,
    iterations: usize,
) -> anyhow::Result<Vec<u32>> {
    client.add_stock(variant, iterations as i64 + 2).await?;
    let mut micros = Vec::with_capacity(iterations);
    for i in 0..iterations + 2 {
        let started = Instant::now();
        let status = client.order(variant, 1).await.context("timing an order")?;
        anyhow::ensure!(status.as_u16() == 201, "timing an order: answered {status}");
        if i >= 2 {
            micros.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        }
    }
    Ok(micros)
}

fn mean(micros: &[u32]) -> f64 {
    if micros.is_empty() {
        return 0.0;
    }
    micros.iter().map(|&m| m as f64).sum::<f64>() / micros.len() as f64 / 1000.0
}

fn render(r: &ReportResults, smoke: bool) -> String {
    let mut out = format!(
        "## {} · reports run · rev {}{}\n\n",
        r.machine.date,
        r.machine.revision,
        if smoke { " · smoke" } else { "" }
    );
    out.push_str(&format!("- Machine: {}\n", r.machine.summary()));
    out.push_str(&format!(
        "- Store: {}; measured tenant: {} variants, {} movements over {DAYS} days; large store: {} tenants × {} movements ({} in total); seeding took {:.1} s\n",
        r.store,
        r.variants,
        r.movements_per_tenant,
        r.tenants,
        r.movements_per_tenant,
        r.movements_per_tenant * r.tenants,
        r.seed_seconds
    ));
    out.push_str(&format!(
        "- Parameters: `reports --tenants {} --movements-per-tenant {} --tenant-variants {} --iterations {}`; one client, sequential requests, 2 warm-ups\n\n",
        r.tenants, r.movements_per_tenant, r.variants, r.iterations
    ));
    let mut t = Table::new(&[
        "report",
        "small p50 ms",
        "small p95 ms",
        "small mean ms",
        "large p50 ms",
        "large p95 ms",
        "large mean ms",
        "large ÷ small (p50)",
    ]);
    for x in &r.timings {
        t.row(vec![
            x.report.clone(),
            ms(x.small.p50),
            ms(x.small.p95),
            ms(x.small_mean),
            ms(x.large.p50),
            ms(x.large.p95),
            ms(x.large_mean),
            format!("{:.2}", x.ratio),
        ]);
    }
    out.push_str(&t.markdown());
    out.push('\n');
    out.push_str(&checks_table(&r.checks).markdown());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_is_timed_over_the_window() {
        let list = reports("2026-01-01T00:00:00Z", "2026-01-31T00:00:00Z", "v-1");
        assert_eq!(list.len(), 5);
        assert_eq!(list[0].1, "/v1/variants/v-1");
        assert!(
            list[1].1.contains("bucket=day") && list[1].1.contains("from=2026-01-01T00:00:00Z")
        );
        assert!(list[1..]
            .iter()
            .all(|(_, path)| path.starts_with("/v1/reports/")));
    }

    #[test]
    fn the_mean_is_in_milliseconds() {
        assert_eq!(mean(&[1000, 3000]), 2.0);
        assert_eq!(mean(&[]), 0.0);
    }
}
