//! The load run: starts the api, runs hot-sku, checkout, spread, read and read-one against it,
//! raw-store against the store through its adapter, raw-op and raw-find against MongoDB itself
//! (when that is the store), and hello against the bare actix server, then prints and records
//! the figures.
//!
//! Scenarios run one after another, never together, so each one has the machine to itself. The
//! api's peak memory is read right after hot-sku (the scenario the target is about) and again at
//! the end. Correctness checks (exact sell-out, no oversell, no drift) fail the run; missed
//! performance targets are reported as such but do not.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::api::{locate_api_bin, random_secret, start_api, workspace_root, ApiSettings, StoreUrl};
use crate::cli::{Common, LoadParams};
use crate::client::{http_client, register};
use crate::hello;
use crate::load::{Driven, Percentiles};
use crate::machine::Machine;
use crate::report::{checks_table, mib, ms, rate, record, Check, Table};
use crate::scenarios::http::{self as scenario, SellOut};
use crate::scenarios::raw_mongo;
use crate::scenarios::raw_store::{self, RawStoreRun};

/// Targets the run is measured against.
const HOT_OVER_RAW_TARGET: f64 = 0.5;
const P99_TARGET_MS: f64 = 50.0;
const READ_OVER_HELLO_TARGET: f64 = 0.4;
/// MongoDB: hot-sku at least the store's own conditional update (only batching goes past it),
/// spread half of it, a read by id 0.6 of the store's own find.
const HOT_OVER_RAW_OP_TARGET: f64 = 1.0;
const SPREAD_OVER_RAW_OP_TARGET: f64 = 0.5;
const READ_ONE_OVER_RAW_FIND_TARGET: f64 = 0.6;
/// SQLite: a read by id 0.4 of the bare server, an order 0.2 of it.
const READ_ONE_OVER_HELLO_TARGET: f64 = 0.4;
const HOT_OVER_HELLO_TARGET: f64 = 0.2;
const RSS_TARGET_BYTES: u64 = 100 * 1024 * 1024;

/// One scenario's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: String,
    pub clients: usize,
    pub successes: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub latency_ms: Percentiles,
    pub by_status: BTreeMap<u16, u64>,
    pub failed: u64,
}

impl Row {
    fn of(scenario: &str, clients: usize, success: u16, driven: &Driven) -> Self {
        let mut micros = driven.tally.ok_micros.clone();
        let seconds = driven.elapsed.as_secs_f64();
        let successes = driven.tally.count(success);
        Row {
            scenario: scenario.to_owned(),
            clients,
            successes,
            seconds,
            per_second: successes as f64 / seconds.max(1e-9),
            latency_ms: Percentiles::of(&mut micros),
            by_status: driven.tally.by_status.clone(),
            failed: driven.tally.failed,
        }
    }

    fn count(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    fn other(&self) -> u64 {
        self.by_status
            .iter()
            .filter(|(s, _)| !matches!(s, 200 | 201 | 409 | 503))
            .map(|(_, n)| n)
            .sum::<u64>()
            + self.failed
    }
}

/// A checkout sell-out's end state: the sell-out, and what is left committed and reserved.
#[derive(Debug, Clone, Serialize)]
pub struct CheckoutState {
    pub sold: SellOutState,
    pub committed: i64,
    pub reserved: i64,
}

/// A sell-out's end state (hot-sku through the api, raw-store on the store).
#[derive(Debug, Clone, Serialize)]
pub struct SellOutState {
    pub stock: i64,
    pub successes: u64,
    pub oversell: i64,
    pub final_stock: i64,
    pub drift: usize,
}

/// Everything a load run found, as printed, recorded and written to `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct LoadResults {
    pub machine: Machine,
    pub store: String,
    pub lock: String,
    pub api_bin: Option<String>,
    pub clients: usize,
    pub stock: i64,
    pub duration_secs: f64,
    pub variants: usize,
    pub rows: Vec<Row>,
    pub hot_sku: Option<SellOutState>,
    pub checkout: Option<CheckoutState>,
    pub raw_store: Option<SellOutState>,
    pub spread_drift: Option<usize>,
    pub peak_rss_after_hot_sku: Option<u64>,
    pub peak_rss_at_end: Option<u64>,
    pub hot_over_raw: Option<f64>,
    pub read_over_hello: Option<f64>,
    pub raw_op: Option<SellOutState>,
    pub hot_over_raw_op: Option<f64>,
    pub spread_over_raw_op: Option<f64>,
    pub read_one_over_raw_find: Option<f64>,
    pub read_one_over_hello: Option<f64>,
    pub hot_over_hello: Option<f64>,
    pub checks: Vec<Check>,
}

impl LoadResults {
    fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.scenario == name)
    }
}

fn sell_out_state(stock: i64, successes: u64, final_stock: i64, drift: usize) -> SellOutState {
    SellOutState {
        stock,
        successes,
        oversell: (successes as i64 - stock).max(0),
        final_stock,
        drift,
    }
}

impl From<&SellOut> for SellOutState {
    fn from(s: &SellOut) -> Self {
        sell_out_state(s.stock, s.successes(), s.final_stock, s.drift)
    }
}

fn raw_state(stock: i64, run: &RawStoreRun) -> SellOutState {
    sell_out_state(
        stock,
        run.driven.tally.count(raw_store::COMMITTED),
        run.final_stock,
        run.drift,
    )
}

/// Runs the load scenarios `common` selects. `Ok(false)` when a correctness check failed.
pub async fn run(common: &Common) -> anyhow::Result<bool> {
    let params = LoadParams::from_common(common)?;
    let machine = Machine::describe();
    let dir = tempfile::Builder::new()
        .prefix("stockroom-bench-")
        .tempdir()?;
    let store = StoreUrl::fresh(common.database_url.as_deref(), dir.path(), "stockroom.db")?;
    let raw_store_url =
        StoreUrl::fresh(common.database_url.as_deref(), dir.path(), "raw-store.db")?;
    let duration = Duration::from_secs_f64(params.duration);
    let http = http_client(params.clients)?;

    let mut results = LoadResults {
        machine,
        store: store.kind().to_owned(),
        lock: if common.redis_url.is_some() {
            "redis"
        } else {
            "in-process"
        }
        .to_owned(),
        api_bin: None,
        clients: params.clients,
        stock: params.stock,
        duration_secs: params.duration,
        variants: params.variants,
        rows: Vec::new(),
        hot_sku: None,
        checkout: None,
        raw_store: None,
        spread_drift: None,
        peak_rss_after_hot_sku: None,
        peak_rss_at_end: None,
        hot_over_raw: None,
        read_over_hello: None,
        raw_op: None,
        hot_over_raw_op: None,
        spread_over_raw_op: None,
        read_one_over_raw_find: None,
        read_one_over_hello: None,
        hot_over_hello: None,
        checks: Vec::new(),
    };
    println!("stockroom-bench: {}", results.machine.summary());

    if ["hot-sku", "checkout", "spread", "read", "read-one"]
        .iter()
        .any(|s| params.runs(s))
    {
        let bin = locate_api_bin(common.api_bin.as_deref())?;
        results.api_bin = Some(bin.display().to_string());
        let log = dir.path().join("api.log");
        let secret = random_secret();
        let api = start_api(&ApiSettings {
            bin: &bin,
            store: &store,
            redis_url: common.redis_url.as_deref(),
            jwt_secret: &secret,
            log: &log,
        })?;
        println!(
            "api {} at {} (store {}, log {})",
            bin.display(),
            api.base_url,
            store.kind(),
            log.display()
        );
        let outcome = http_scenarios(&params, &http, &api, duration, &mut results).await;
        results.peak_rss_at_end = api.peak_rss_bytes().ok();
        api.stop()?;
        if let Err(e) = outcome {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            eprintln!(
                "api log tail:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
            return Err(e);
        }
    }

    if params.runs("raw-store") {
        println!(
            "raw-store: {} tasks, stock {}",
            params.clients, params.stock
        );
        let raw = raw_store::run(&raw_store_url, params.clients, params.stock).await?;
        results.rows.push(Row::of(
            "raw-store",
            params.clients,
            raw_store::COMMITTED,
            &raw.driven,
        ));
        results.raw_store = Some(raw_state(params.stock, &raw));
    }

    for scenario in ["raw-op", "raw-find"] {
        if !params.runs(scenario) {
            continue;
        }
        let StoreUrl::Mongo { .. } = &store else {
            println!(
                "{scenario}: MongoDB's own ceiling, not measured on {}",
                store.kind()
            );
            continue;
        };
        let raw = StoreUrl::fresh(common.database_url.as_deref(), dir.path(), "raw.db")?;
        if scenario == "raw-op" {
            println!("raw-op: {} tasks, stock {}", params.clients, params.stock);
            let run = raw_mongo::raw_op(raw.url(), params.clients, params.stock).await?;
            results.rows.push(Row::of(
                "raw-op",
                params.clients,
                raw_store::COMMITTED,
                &run.driven,
            ));
            results.raw_op = Some(sell_out_state(
                params.stock,
                run.driven.tally.count(raw_store::COMMITTED),
                run.final_stock,
                0,
            ));
        } else {
            println!("raw-find: {} tasks for {:?}", params.clients, duration);
            let driven = raw_mongo::raw_find(raw.url(), params.clients, duration).await?;
            results
                .rows
                .push(Row::of("raw-find", params.clients, 200, &driven));
        }
        raw.discard().await.ok();
    }

    if params.runs("hello") {
        let server = hello::start(&dir.path().join("hello.log"))?;
        println!(
            "hello: {} clients for {:?} at {}",
            params.clients, duration, server.base_url
        );
        let driven = scenario::hello(&http, &server.base_url, params.clients, duration).await;
        server.stop()?;
        results
            .rows
            .push(Row::of("hello", params.clients, 200, &driven));
    }

    store.discard().await.ok();
    raw_store_url.discard().await.ok();
    results.hot_over_raw = ratio(&results, "hot-sku", "raw-store");
    results.read_over_hello = ratio(&results, "read", "hello");
    results.hot_over_raw_op = ratio(&results, "hot-sku", "raw-op");
    results.spread_over_raw_op = ratio(&results, "spread", "raw-op");
    results.read_one_over_raw_find = ratio(&results, "read-one", "raw-find");
    if matches!(store, StoreUrl::Sqlite(_)) {
        results.read_one_over_hello = ratio(&results, "read-one", "hello");
        results.hot_over_hello = ratio(&results, "hot-sku", "hello");
    }
    results.checks = checks(&results);

    let section = render(&results, &params);
    println!("\n{section}");
    record(common, &section, &results)?;
    Ok(results.checks.iter().all(|c| c.pass || !c.correctness))
}

async fn http_scenarios(
    params: &LoadParams,
    http: &reqwest::Client,
    api: &crate::child::ChildServer,
    duration: Duration,
    results: &mut LoadResults,
) -> anyhow::Result<()> {
    let slug = format!("bench-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let client = register(http, &api.base_url, &slug).await?.client;
    if params.runs("hot-sku") {
        println!(
            "hot-sku: {} clients, stock {}",
            params.clients, params.stock
        );
        let sold = scenario::hot_sku(&client, params.clients, params.stock).await?;
        results.peak_rss_after_hot_sku = api.peak_rss_bytes().ok();
        results
            .rows
            .push(Row::of("hot-sku", params.clients, 201, &sold.driven));
        results.hot_sku = Some((&sold).into());
    }
    if params.runs("checkout") {
        println!(
            "checkout: {} clients, stock {}",
            params.clients, params.stock
        );
        let run = scenario::checkout(&client, params.clients, params.stock).await?;
        results
            .rows
            .push(Row::of("checkout", params.clients, 201, &run.sold.driven));
        results.checkout = Some(CheckoutState {
            sold: (&run.sold).into(),
            committed: run.committed,
            reserved: run.reserved,
        });
    }
    let mut variants = Vec::new();
    if params.runs("spread") {
        println!("spread: creating {} variants", params.variants);
        variants = scenario::stocked_variants(&client, "SPREAD", params.variants, 16).await?;
        println!("spread: {} clients for {:?}", params.clients, duration);
        let (driven, drift) =
            scenario::spread(&client, variants.clone(), params.clients, duration).await?;
        results
            .rows
            .push(Row::of("spread", params.clients, 201, &driven));
        results.spread_drift = Some(drift);
    }
    if params.runs("read") {
        if variants.len() < 50 {
            scenario::stocked_variants(&client, "READ", 50 - variants.len(), 16).await?;
        }
        println!("read: {} clients for {:?}", params.clients, duration);
        let driven = scenario::read(&client, params.clients, duration).await;
        results
            .rows
            .push(Row::of("read", params.clients, 200, &driven));
    }
    if params.runs("read-one") {
        if variants.is_empty() {
            variants = scenario::stocked_variants(&client, "ONE", 50, 16).await?;
        }
        println!("read-one: {} clients for {:?}", params.clients, duration);
        let driven = scenario::read_one(&client, variants, params.clients, duration).await;
        results
            .rows
            .push(Row::of("read-one", params.clients, 200, &driven));
    }
    Ok(())
}

fn ratio(results: &LoadResults, top: &str, bottom: &str) -> Option<f64> {
    let (t, b) = (results.row(top)?, results.row(bottom)?);
    (b.per_second > 0.0).then(|| t.per_second / b.per_second)
}

fn checks(r: &LoadResults) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Some(hot) = &r.hot_sku {
        checks.push(Check::correctness(
            "hot-sku successes",
            "= stock",
            format!("{} of {}", hot.successes, hot.stock),
            hot.successes as i64 == hot.stock,
        ));
        checks.push(Check::correctness(
            "hot-sku oversell",
            "0",
            hot.oversell.to_string(),
            hot.oversell == 0,
        ));
        checks.push(Check::correctness(
            "hot-sku final stock",
            "0",
            hot.final_stock.to_string(),
            hot.final_stock == 0,
        ));
        checks.push(Check::correctness(
            "hot-sku audit drift",
            "0 variants",
            hot.drift.to_string(),
            hot.drift == 0,
        ));
        if let Some(row) = r.row("hot-sku") {
            checks.push(Check::new(
                &format!("hot-sku p99 ({} clients)", row.clients),
                &format!("≤ {P99_TARGET_MS} ms"),
                format!("{} ms", ms(row.latency_ms.p99)),
                row.latency_ms.p99 <= P99_TARGET_MS,
            ));
            let busy = row.count(503);
            checks.push(Check::new(
                "hot-sku 503 replies",
                "0",
                busy.to_string(),
                busy == 0,
            ));
        }
    }
    if let Some(c) = &r.checkout {
        checks.push(Check::correctness(
            "checkout confirmed orders",
            "= stock",
            format!("{} of {}", c.sold.successes, c.sold.stock),
            c.sold.successes as i64 == c.sold.stock,
        ));
        checks.push(Check::correctness(
            "checkout stock / committed / reserved / drift",
            "0 / = stock / 0 / 0",
            format!(
                "{} / {} / {} / {}",
                c.sold.final_stock, c.committed, c.reserved, c.sold.drift
            ),
            c.sold.final_stock == 0
                && c.committed == c.sold.stock
                && c.reserved == 0
                && c.sold.drift == 0,
        ));
    }
    if let Some(drift) = r.spread_drift {
        checks.push(Check::correctness(
            "spread audit drift",
            "0 variants",
            drift.to_string(),
            drift == 0,
        ));
    }
    if let Some(raw) = &r.raw_store {
        checks.push(Check::correctness(
            "raw-store commits",
            "= stock",
            format!("{} of {}", raw.successes, raw.stock),
            raw.successes as i64 == raw.stock,
        ));
        checks.push(Check::correctness(
            "raw-store final stock / drift",
            "0 / 0",
            format!("{} / {}", raw.final_stock, raw.drift),
            raw.final_stock == 0 && raw.drift == 0,
        ));
    }
    if let Some(x) = r.hot_over_raw {
        checks.push(Check::new(
            "hot-sku ÷ raw-store",
            &format!("≥ {HOT_OVER_RAW_TARGET}"),
            format!("{x:.2}"),
            x >= HOT_OVER_RAW_TARGET,
        ));
    }
    if let Some(x) = r.read_over_hello {
        checks.push(Check::new(
            "read ÷ hello",
            &format!("≥ {READ_OVER_HELLO_TARGET}"),
            format!("{x:.2}"),
            x >= READ_OVER_HELLO_TARGET,
        ));
    }
    if let Some(raw) = &r.raw_op {
        checks.push(Check::correctness(
            "raw-op decrements / final stock",
            "= stock / 0",
            format!("{} of {} / {}", raw.successes, raw.stock, raw.final_stock),
            raw.successes as i64 == raw.stock && raw.final_stock == 0,
        ));
    }
    for (name, value, target) in [
        (
            "hot-sku ÷ raw-op",
            r.hot_over_raw_op,
            HOT_OVER_RAW_OP_TARGET,
        ),
        (
            "spread ÷ raw-op",
            r.spread_over_raw_op,
            SPREAD_OVER_RAW_OP_TARGET,
        ),
        (
            "read-one ÷ raw-find",
            r.read_one_over_raw_find,
            READ_ONE_OVER_RAW_FIND_TARGET,
        ),
        (
            "read-one ÷ hello",
            r.read_one_over_hello,
            READ_ONE_OVER_HELLO_TARGET,
        ),
        ("hot-sku ÷ hello", r.hot_over_hello, HOT_OVER_HELLO_TARGET),
    ] {
        if let Some(x) = value {
            checks.push(Check::new(
                name,
                &format!("≥ {target}"),
                format!("{x:.2}"),
                x >= target,
            ));
        }
    }
    if let Some(rss) = r.peak_rss_after_hot_sku {
        checks.push(Check::new(
            "api peak RSS after hot-sku",
            "≤ 100 MiB",
            mib(rss),
            rss <= RSS_TARGET_BYTES,
        ));
    }
    checks
}

fn table(r: &LoadResults) -> Table {
    let mut t = Table::new(&[
        "scenario", "clients", "ok", "seconds", "ok/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
        "409", "503", "other",
    ]);
    for row in &r.rows {
        t.row(vec![
            row.scenario.clone(),
            row.clients.to_string(),
            row.successes.to_string(),
            format!("{:.2}", row.seconds),
            rate(row.per_second),
            ms(row.latency_ms.p50),
            ms(row.latency_ms.p95),
            ms(row.latency_ms.p99),
            ms(row.latency_ms.max),
            row.count(409).to_string(),
            row.count(503).to_string(),
            row.other().to_string(),
        ]);
    }
    t
}

/// The Markdown section of a run (also what is printed).
fn render(r: &LoadResults, p: &LoadParams) -> String {
    let mut out = format!(
        "## {} · load run · rev {}{}\n\n",
        r.machine.date,
        r.machine.revision,
        if p.smoke { " · smoke" } else { "" }
    );
    out.push_str(&format!("- Machine: {}\n", r.machine.summary()));
    out.push_str(&format!(
        "- Store: {} (fresh), lock: {}, api: `{}`\n",
        r.store,
        r.lock,
        r.api_bin
            .as_deref()
            .map(short_path)
            .unwrap_or_else(|| "not started".into())
    ));
    out.push_str(&format!(
        "- Parameters: `--clients {} --stock {} --duration {} --variants {}`{}\n\n",
        p.clients,
        p.stock,
        p.duration,
        p.variants,
        if p.only.is_empty() {
            String::new()
        } else {
            format!(" `--only {}`", p.only.join(","))
        }
    ));
    out.push_str(&table(r).markdown());
    out.push('\n');
    let mut facts = Vec::new();
    if let Some(x) = r.hot_over_raw {
        facts.push(format!("hot-sku ÷ raw-store = **{x:.2}**"));
    }
    if let Some(x) = ratio(r, "checkout", "hot-sku") {
        facts.push(format!("checkout ÷ hot-sku = **{x:.2}**"));
    }
    if let Some(x) = r.read_over_hello {
        facts.push(format!("read ÷ hello = **{x:.2}**"));
    }
    for (name, value) in [
        ("hot-sku ÷ raw-op", r.hot_over_raw_op),
        ("spread ÷ raw-op", r.spread_over_raw_op),
        ("read-one ÷ raw-find", r.read_one_over_raw_find),
        ("read-one ÷ hello", r.read_one_over_hello),
        ("hot-sku ÷ hello", r.hot_over_hello),
    ] {
        if let Some(x) = value {
            facts.push(format!("{name} = **{x:.2}**"));
        }
    }
    if let Some(rss) = r.peak_rss_after_hot_sku {
        facts.push(format!("api peak RSS {} after hot-sku", mib(rss)));
    }
    if let Some(rss) = r.peak_rss_at_end {
        facts.push(format!("{} at the end", mib(rss)));
    }
    if !facts.is_empty() {
        out.push_str(&format!("{}.\n\n", facts.join("; ")));
    }
    out.push_str(&checks_table(&r.checks).markdown());
    out
}

fn short_path(path: &str) -> String {
    let p = PathBuf::from(path);
    p.strip_prefix(workspace_root())
        .map(|s| s.display().to_string())
        .unwrap_or_else(|_| path.to_owned())
}
