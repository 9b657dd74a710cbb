//! Command-line flags of `stockroom-bench`.
//!
//! One flag set serves every scenario so a recorded run can be repeated from its printed
//! parameters alone. `--smoke` shrinks everything to a few seconds and keeps `docs/` untouched,
//! which is what the test suite runs to keep the harness itself working.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "stockroom-bench",
    about = "Load harness for Stockroom: orders, reads and reports against the real binary.",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report latency for one tenant with a small and with a large store (default: the load
    /// scenarios hot-sku, spread, raw-store, read and hello).
    Reports(ReportsArgs),
    /// A hot-SKU storm on Redis with Redis cut away and restored in the middle: 503s, their
    /// Retry-After, no oversell, and how soon orders sell at full rate again (needs
    /// `--redis-url`).
    Outage(OutageArgs),
    /// Serve an empty route with actix-web (the HTTP ceiling the `hello` scenario measures).
    #[command(hide = true)]
    HelloServer {
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

/// Flags shared by every scenario.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Concurrent HTTP clients (or store tasks for raw-store).
    #[arg(long, global = true)]
    pub clients: Option<usize>,
    /// Units of the one variant hot-sku and raw-store sell out.
    #[arg(long, global = true)]
    pub stock: Option<i64>,
    /// Seconds each of spread, read and hello runs.
    #[arg(long, global = true)]
    pub duration: Option<f64>,
    /// Variants the spread scenario orders from.
    #[arg(long, global = true)]
    pub variants: Option<usize>,
    /// Store for the api and raw-store: sqlite://… or mongodb://… (a fresh database name is
    /// used per run). Default: a fresh SQLite file in a temporary folder.
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// Redis for the api's lock and event fan-out (default: in-process lock).
    #[arg(long, global = true)]
    pub redis_url: Option<String>,
    /// The `stockroom` binary to start (default: `stockroom` beside this binary, built with
    /// `cargo build --release -p api` when missing).
    #[arg(long, global = true)]
    pub api_bin: Option<PathBuf>,
    /// Tiny sizes, a few seconds in total; appends to `--out` only, never to docs/.
    #[arg(long, global = true)]
    pub smoke: bool,
    /// Markdown file to append the run's section to (default: docs/benchmarks.md; with
    /// `--smoke`, nothing unless given).
    #[arg(long, global = true)]
    pub out: Option<PathBuf>,
    /// Also write the results as JSON here (for tests and scripts).
    #[arg(long, global = true)]
    pub json: Option<PathBuf>,
    /// Run only these scenarios (comma-separated: hot-sku, checkout, spread, read, read-one,
    /// raw-store, raw-op, raw-find, hello; raw-op and raw-find run on MongoDB only).
    #[arg(long, global = true, value_delimiter = ',')]
    pub only: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct OutageArgs {
    /// Seconds Redis stays away (default 4, longer than the api's 3 s lock TTL; shorter shows
    /// what happens to a key whose holder could not release it).
    #[arg(long)]
    pub outage_secs: Option<f64>,
}

#[derive(Debug, Clone, Args)]
pub struct ReportsArgs {
    /// Tenants in the large store (the measured one included).
    #[arg(long)]
    pub tenants: Option<usize>,
    /// Movements of the measured tenant (and of every other tenant).
    #[arg(long)]
    pub movements_per_tenant: Option<usize>,
    /// Variants per tenant.
    #[arg(long)]
    pub tenant_variants: Option<usize>,
    /// Timed requests per report and store size.
    #[arg(long)]
    pub iterations: Option<usize>,
}

/// The load scenarios, in the order they run.
pub const SCENARIOS: [&str; 9] = [
    "hot-sku",
    "checkout",
    "spread",
    "read",
    "read-one",
    "raw-store",
    "raw-op",
    "raw-find",
    "hello",
];

/// Every size of a load run, with defaults (full or smoke) applied.
#[derive(Debug, Clone)]
pub struct LoadParams {
    pub clients: usize,
    pub stock: i64,
    pub duration: f64,
    pub variants: usize,
    pub smoke: bool,
    pub only: Vec<String>,
}

impl LoadParams {
    pub fn from_common(c: &Common) -> anyhow::Result<Self> {
        for name in &c.only {
            if !SCENARIOS.contains(&name.as_str()) {
                anyhow::bail!(
                    "--only: unknown scenario `{name}` (one of {})",
                    SCENARIOS.join(", ")
                );
            }
        }
        let (clients, stock, duration, variants) = if c.smoke {
            (4, 40, 1.0, 20)
        } else {
            (64, 5000, 10.0, 1000)
        };
        let params = LoadParams {
            clients: c.clients.unwrap_or(clients),
            stock: c.stock.unwrap_or(stock),
            duration: c.duration.unwrap_or(duration),
            variants: c.variants.unwrap_or(variants),
            smoke: c.smoke,
            only: c.only.clone(),
        };
        anyhow::ensure!(params.clients > 0, "--clients must be at least 1");
        anyhow::ensure!(params.stock > 0, "--stock must be at least 1");
        anyhow::ensure!(params.duration > 0.0, "--duration must be positive");
        anyhow::ensure!(params.variants >= 1, "--variants must be at least 1");
        Ok(params)
    }

    pub fn runs(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == scenario)
    }
}

/// Sizes of the reports benchmark, with defaults (full or smoke) applied.
#[derive(Debug, Clone)]
pub struct ReportParams {
    pub tenants: usize,
    pub movements_per_tenant: usize,
    pub variants: usize,
    pub iterations: usize,
    pub smoke: bool,
}

impl ReportParams {
    pub fn new(c: &Common, r: &ReportsArgs) -> anyhow::Result<Self> {
        let (tenants, movements, variants, iterations) = if c.smoke {
            (3, 500, 10, 3)
        } else {
            (100, 10_000, 100, 30)
        };
        let params = ReportParams {
            tenants: r.tenants.unwrap_or(tenants),
            movements_per_tenant: r.movements_per_tenant.unwrap_or(movements),
            variants: r.tenant_variants.unwrap_or(variants),
            iterations: r.iterations.unwrap_or(iterations),
            smoke: c.smoke,
        };
        anyhow::ensure!(params.tenants >= 2, "--tenants must be at least 2");
        anyhow::ensure!(
            params.movements_per_tenant >= 1,
            "--movements-per-tenant must be at least 1"
        );
        anyhow::ensure!(params.variants >= 1, "--tenant-variants must be at least 1");
        anyhow::ensure!(params.iterations >= 1, "--iterations must be at least 1");
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        let mut all = vec!["stockroom-bench"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    }

    #[test]
    fn smoke_shrinks_the_defaults_and_flags_override_them() {
        let smoke = LoadParams::from_common(&parse(&["--smoke"]).common).unwrap();
        assert_eq!((smoke.clients, smoke.stock), (4, 40));
        let full = LoadParams::from_common(&parse(&["--clients", "8"]).common).unwrap();
        assert_eq!((full.clients, full.stock, full.variants), (8, 5000, 1000));
    }

    #[test]
    fn only_names_known_scenarios() {
        let p = LoadParams::from_common(&parse(&["--only", "hot-sku,read"]).common).unwrap();
        assert!(p.runs("read") && !p.runs("spread"));
        assert!(LoadParams::from_common(&parse(&["--only", "nope"]).common).is_err());
    }

    #[test]
    fn flags_after_the_subcommand_are_shared() {
        let cli = parse(&["reports", "--smoke", "--tenants", "5"]);
        let Some(Command::Reports(args)) = &cli.command else {
            panic!("reports expected")
        };
        let p = ReportParams::new(&cli.common, args).unwrap();
        assert_eq!((p.tenants, p.movements_per_tenant, p.smoke), (5, 500, true));
    }
}
