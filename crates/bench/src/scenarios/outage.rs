//! The outage run: a hot-SKU storm through the api on Redis, Redis taken away in the middle of
//! it, then brought back — measuring what a client sees at each moment.
//!
//! The api reaches Redis through a [`CutRelay`], so the outage is real to the api (its
//! connections drop, new ones are refused) while the Redis server and the store stay untouched.
//! The storm orders one unit of one variant whose stock outlasts the run, from `clients`
//! closed-loop clients; every answer is kept with the moment it came back, so the rate can be
//! read in 100 ms buckets around the cut and the restore.
//!
//! Correctness fails the run: every 503 must carry `Retry-After`, no answer may be anything but
//! 201 or 503, the stock must have fallen by exactly the orders acknowledged, and the audit must
//! be empty. The recovery time (from the restore to the first half second selling at 90 % of the
//! rate before the cut) and the longest a refused order waited are the figures; the issue's
//! yardsticks are 1 s and the api's lock wait.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use crate::api::{locate_api_bin, random_secret, start_api, ApiSettings, StoreUrl};
use crate::cli::{Common, OutageArgs};
use crate::client::{create_variants, http_client, register, ApiClient};
use crate::cut::CutRelay;
use crate::machine::Machine;
use crate::report::{checks_table, ms, rate, record, Check, Table};

/// The api's default lock wait: how long an order may wait for the lock before its 503.
const LOCK_WAIT_MS: f64 = 5000.0;
/// Back to full rate within this long after Redis returns.
const RECOVERY_TARGET_MS: f64 = 1000.0;
/// "Full rate": this share of the rate before the cut, over a window this long.
const FULL_RATE_SHARE: f64 = 0.9;
const WINDOW_MS: u64 = 500;
const BUCKET_MS: u64 = 100;
/// Units of the storm's variant: more than any run sells.
const STOCK: i64 = 10_000_000;

/// One answer: when it came back (ms since the storm began), its status, how long it took, and
/// whether a 503 said when to retry.
#[derive(Debug, Clone, Copy)]
struct Answer {
    at_ms: f64,
    status: Option<u16>,
    took_ms: f64,
    retry_after: bool,
}

/// The phases, in seconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Phases {
    pub before: f64,
    pub outage: f64,
    pub after: f64,
}

/// Everything an outage run found, as recorded and written to `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct OutageResults {
    pub machine: Machine,
    pub store: String,
    pub clients: usize,
    pub phases: Phases,
    pub acknowledged: u64,
    pub refused_503: u64,
    pub refused_without_retry_after: u64,
    pub other_answers: u64,
    pub rate_before: f64,
    pub rate_after_recovery: f64,
    pub sold_during_outage: u64,
    pub longest_503_ms: f64,
    pub first_sale_after_restore_ms: Option<f64>,
    pub recovery_ms: Option<f64>,
    pub stock_fell_by: i64,
    pub drift: usize,
    /// Orders acknowledged per 100 ms bucket, from the start of the storm.
    pub sold_per_bucket: Vec<u64>,
    pub checks: Vec<Check>,
}

/// Runs the outage scenario; `Ok(false)` when a correctness check failed.
pub async fn run(common: &Common, args: &OutageArgs) -> anyhow::Result<bool> {
    let redis = common
        .redis_url
        .as_deref()
        .context("the outage run needs --redis-url (it takes Redis away from the api)")?;
    let target = redis_addr(redis)?;
    let clients = common.clients.unwrap_or(if common.smoke { 8 } else { 64 });
    let mut phases = if common.smoke {
        Phases {
            before: 2.0,
            outage: 1.5,
            after: 3.0,
        }
    } else {
        Phases {
            before: 6.0,
            outage: 4.0,
            after: 6.0,
        }
    };
    if let Some(secs) = args.outage_secs {
        anyhow::ensure!(secs > 0.0, "--outage-secs must be positive");
        phases.outage = secs;
    }
    let machine = Machine::describe();
    println!("stockroom-bench outage: {}", machine.summary());
    let dir = tempfile::Builder::new()
        .prefix("stockroom-bench-")
        .tempdir()?;
    let store = StoreUrl::fresh(common.database_url.as_deref(), dir.path(), "stockroom.db")?;
    let relay = CutRelay::start(target).await?;
    let relayed = format!("redis://127.0.0.1:{}", relay.port());
    let bin = locate_api_bin(common.api_bin.as_deref())?;
    let log = dir.path().join("api.log");
    let api = start_api(&ApiSettings {
        bin: &bin,
        store: &store,
        redis_url: Some(&relayed),
        jwt_secret: &random_secret(),
        log: &log,
    })?;
    let http = http_client(clients)?;
    let slug = format!(
        "outage-{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    let client = register(&http, &api.base_url, &slug).await?.client;
    let variant = create_variants(&client, "OUTAGE", 1, STOCK, 0, 1)
        .await?
        .remove(0);
    println!(
        "outage: {clients} clients, {}s before, {}s without Redis, {}s after",
        phases.before, phases.outage, phases.after
    );
    let answers = storm(&client, &variant, clients, phases, &relay).await;
    let stock_after = client.stock_of(&variant).await?;
    let (_, drift) = client.audit().await?;
    api.stop()?;
    store.discard().await.ok();

    let mut results = analyse(machine, store.kind(), clients, phases, &answers);
    results.stock_fell_by = STOCK - stock_after;
    results.drift = drift;
    results.checks = checks(&results);
    let section = render(&results);
    println!("\n{section}");
    record(common, &section, &results)?;
    Ok(results.checks.iter().all(|c| c.pass || !c.correctness))
}

fn redis_addr(url: &str) -> anyhow::Result<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    let rest = url
        .strip_prefix("redis://")
        .context("--redis-url must start with redis://")?;
    let host_port = rest.split('/').next().unwrap_or(rest);
    let host_port = host_port.rsplit('@').next().unwrap_or(host_port);
    let with_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:6379")
    };
    with_port
        .to_socket_addrs()?
        .next()
        .with_context(|| format!("no address for {with_port}"))
}

/// Drives the storm and, beside it, the cut and the restore; every answer, in no order.
async fn storm(
    api: &ApiClient,
    variant: &str,
    clients: usize,
    phases: Phases,
    relay: &CutRelay,
) -> Vec<Answer> {
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(phases.before + phases.outage + phases.after);
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (api, variant) = (api.clone(), variant.to_owned());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                while Instant::now() < end {
                    let sent = Instant::now();
                    let (status, retry_after) = order(&api, &variant).await;
                    let done = Instant::now();
                    answers.push(Answer {
                        at_ms: ms_between(start, done),
                        status,
                        took_ms: ms_between(sent, done),
                        retry_after,
                    });
                    if status == Some(503) {
                        // A client told to retry waits a little, as a well-behaved one would,
                        // rather than spinning; well under the second Retry-After asks for, so
                        // the recovery is seen as soon as it happens.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                answers
            })
        })
        .collect();
    tokio::time::sleep_until((start + Duration::from_secs_f64(phases.before)).into()).await;
    relay.cut();
    println!(
        "outage: Redis cut at {:.0} ms",
        ms_between(start, Instant::now())
    );
    tokio::time::sleep_until(
        (start + Duration::from_secs_f64(phases.before + phases.outage)).into(),
    )
    .await;
    relay.restore();
    println!(
        "outage: Redis back at {:.0} ms",
        ms_between(start, Instant::now())
    );
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap_or_default());
    }
    all
}

fn ms_between(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1000.0
}

async fn order(api: &ApiClient, variant: &str) -> (Option<u16>, bool) {
    let body = format!(r#"{{"lines":[{{"variantId":"{variant}","quantity":1}}]}}"#);
    let sent = api
        .http
        .post(format!("{}/v1/orders", api.base))
        .header("authorization", &api.auth)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response.headers().contains_key("retry-after");
            let _ = response.bytes().await;
            (Some(status), retry_after)
        }
        Err(_) => (None, false),
    }
}

fn analyse(
    machine: Machine,
    store: &str,
    clients: usize,
    phases: Phases,
    answers: &[Answer],
) -> OutageResults {
    let cut_ms = phases.before * 1000.0;
    let restore_ms = (phases.before + phases.outage) * 1000.0;
    let end_ms = restore_ms + phases.after * 1000.0;
    let sold: Vec<&Answer> = answers.iter().filter(|a| a.status == Some(201)).collect();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == Some(503)).collect();
    let buckets = (end_ms / BUCKET_MS as f64).ceil() as usize + 1;
    let mut sold_per_bucket = vec![0u64; buckets];
    for a in &sold {
        let i = (a.at_ms / BUCKET_MS as f64) as usize;
        sold_per_bucket[i.min(buckets - 1)] += 1;
    }
    // The rate before the cut, leaving out the first second (connections and caches warming).
    let warm = 1000.0_f64.min(cut_ms / 2.0);
    let before = sold
        .iter()
        .filter(|a| a.at_ms >= warm && a.at_ms < cut_ms)
        .count();
    let rate_before = before as f64 / ((cut_ms - warm) / 1000.0);
    let first_sale_after_restore_ms = sold
        .iter()
        .map(|a| a.at_ms)
        .filter(|at| *at >= restore_ms)
        .fold(None, |m: Option<f64>, at| Some(m.map_or(at, |m| m.min(at))))
        .map(|at| at - restore_ms);
    let recovery_ms = recovery(&sold_per_bucket, restore_ms, end_ms, rate_before);
    let rate_after_recovery = recovery_ms
        .map(|r| {
            let from = restore_ms + r;
            let n = sold.iter().filter(|a| a.at_ms >= from).count();
            n as f64 / ((end_ms - from) / 1000.0).max(1e-9)
        })
        .unwrap_or(0.0);
    OutageResults {
        machine,
        store: store.to_owned(),
        clients,
        phases,
        acknowledged: sold.len() as u64,
        refused_503: refused.len() as u64,
        refused_without_retry_after: refused.iter().filter(|a| !a.retry_after).count() as u64,
        other_answers: answers
            .iter()
            .filter(|a| !matches!(a.status, Some(201) | Some(503)))
            .count() as u64,
        rate_before,
        rate_after_recovery,
        // Sales answered after the cut that began after it (those already past the lock when
        // the cut came may still finish: the store, not Redis, is what they wait on).
        sold_during_outage: sold
            .iter()
            .filter(|a| a.at_ms - a.took_ms > cut_ms + 1.0 && a.at_ms < restore_ms)
            .count() as u64,
        longest_503_ms: refused.iter().map(|a| a.took_ms).fold(0.0, f64::max),
        first_sale_after_restore_ms,
        recovery_ms,
        stock_fell_by: 0,
        drift: 0,
        sold_per_bucket,
        checks: Vec::new(),
    }
}

/// From the restore, the start of the first window of `WINDOW_MS` selling at least
/// `FULL_RATE_SHARE` of the rate before the cut, in ms after the restore.
fn recovery(buckets: &[u64], restore_ms: f64, end_ms: f64, rate_before: f64) -> Option<f64> {
    let per_window = (WINDOW_MS / BUCKET_MS) as usize;
    let want = rate_before * FULL_RATE_SHARE * WINDOW_MS as f64 / 1000.0;
    let first = (restore_ms / BUCKET_MS as f64).floor() as usize;
    let last = ((end_ms - WINDOW_MS as f64) / BUCKET_MS as f64).floor() as usize;
    (first..=last.min(buckets.len().saturating_sub(per_window)))
        .find(|&i| buckets[i..i + per_window].iter().sum::<u64>() as f64 >= want)
        .map(|i| ((i as f64 * BUCKET_MS as f64) - restore_ms).max(0.0))
}

fn checks(r: &OutageResults) -> Vec<Check> {
    vec![
        Check::correctness(
            "every 503 says when to retry",
            "Retry-After on all",
            format!(
                "{} of {} without",
                r.refused_without_retry_after, r.refused_503
            ),
            r.refused_without_retry_after == 0,
        ),
        Check::correctness(
            "only 201 or 503",
            "0 others",
            r.other_answers.to_string(),
            r.other_answers == 0,
        ),
        Check::correctness(
            "stock fell by the acknowledged orders",
            "equal",
            format!("{} fell, {} acknowledged", r.stock_fell_by, r.acknowledged),
            r.stock_fell_by == r.acknowledged as i64,
        ),
        Check::correctness("audit drift", "0", r.drift.to_string(), r.drift == 0),
        Check::correctness(
            "Redis was missed",
            "503s during the outage",
            r.refused_503.to_string(),
            r.refused_503 > 0,
        ),
        Check::correctness(
            "sales resumed",
            "some after the restore",
            r.first_sale_after_restore_ms
                .map_or("none".into(), |t| format!("first after {}", ms(t))),
            r.first_sale_after_restore_ms.is_some(),
        ),
        Check::new(
            "longest wait for a 503",
            &format!("≤ lock wait {}", ms(LOCK_WAIT_MS)),
            ms(r.longest_503_ms),
            r.longest_503_ms <= LOCK_WAIT_MS + 250.0,
        ),
        Check::new(
            "back to full rate after Redis returns",
            &format!("≤ {}", ms(RECOVERY_TARGET_MS)),
            r.recovery_ms.map_or("never".into(), ms),
            r.recovery_ms.is_some_and(|t| t <= RECOVERY_TARGET_MS),
        ),
    ]
}

fn render(r: &OutageResults) -> String {
    let mut table = Table::new(&["", "value"]);
    table.row(vec!["orders/s before the cut".into(), rate(r.rate_before)]);
    table.row(vec![
        "orders/s from full rate to the end".into(),
        rate(r.rate_after_recovery),
    ]);
    table.row(vec![
        "acknowledged orders".into(),
        r.acknowledged.to_string(),
    ]);
    table.row(vec!["503 answers".into(), r.refused_503.to_string()]);
    table.row(vec![
        "orders begun and sold during the outage".into(),
        r.sold_during_outage.to_string(),
    ]);
    table.row(vec!["longest wait for a 503".into(), ms(r.longest_503_ms)]);
    table.row(vec![
        "first sale after Redis returned".into(),
        r.first_sale_after_restore_ms.map_or("none".into(), ms),
    ]);
    table.row(vec![
        format!(
            "back to {:.0} % of the rate before (per {WINDOW_MS} ms)",
            FULL_RATE_SHARE * 100.0
        ),
        r.recovery_ms.map_or("never".into(), ms),
    ]);
    let cut = (r.phases.before * 1000.0 / BUCKET_MS as f64) as usize;
    let restore = ((r.phases.before + r.phases.outage) * 1000.0 / BUCKET_MS as f64) as usize;
    let around = |from: usize, to: usize| {
        r.sold_per_bucket[from.min(r.sold_per_bucket.len())..to.min(r.sold_per_bucket.len())]
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "## {} · outage run · rev {}\n\n\
         - Machine: {}\n\
         - Store: {}, lock and events on Redis through a relay that is cut for {} s and restored; \
         {} clients ordering one unit of one variant, {} s before the cut and {} s after the \
         restore\n\n{}\n\
         Orders sold per 100 ms, the second before the cut | the cut and 1 s after | the 2 s \
         after the restore:\n\n`{}` | `{}` | `{}`\n\n{}",
        r.machine.date,
        r.machine.revision,
        r.machine.summary(),
        r.store,
        r.phases.outage,
        r.clients,
        r.phases.before,
        r.phases.after,
        table.markdown(),
        around(cut.saturating_sub(10), cut),
        around(cut, cut + 10),
        around(restore, restore + 20),
        checks_table(&r.checks).markdown(),
    )
}
