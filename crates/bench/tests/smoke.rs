//! Keeps the harness working: runs `stockroom-bench --smoke` (load scenarios, then reports)
//! against the debug `stockroom` binary and checks what it found — every unit sold exactly once,
//! no drift between stock and ledger — and that it recorded its section where it was told to.
//!
//! `cargo test --workspace` builds the api binary beside this package's; when the package is
//! tested alone and the binary is missing, it is built first.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `stockroom` next to `stockroom-bench` in the same target folder (same profile).
fn api_binary() -> PathBuf {
    let bench = Path::new(env!("CARGO_BIN_EXE_stockroom-bench"));
    let api = bench.with_file_name("stockroom");
    if !api.is_file() {
        let status = Command::new(option_env!("CARGO").unwrap_or("cargo"))
            .args(["build", "-p", "api", "--bin", "stockroom"])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
            .status()
            .expect("running cargo build -p api");
        assert!(status.success(), "cargo build -p api failed");
    }
    assert!(api.is_file(), "{} is missing", api.display());
    api
}

/// Runs the bench with `args` plus `--smoke`, `--api-bin`, `--out` and `--json` in a fresh
/// folder; returns the JSON results and the Markdown it appended.
fn smoke(args: &[&str]) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let (out, json) = (dir.path().join("bench.md"), dir.path().join("results.json"));
    let output = Command::new(env!("CARGO_BIN_EXE_stockroom-bench"))
        .args(args)
        .arg("--smoke")
        .arg("--api-bin")
        .arg(api_binary())
        .arg("--out")
        .arg(&out)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("running stockroom-bench");
    assert!(
        output.status.success(),
        "stockroom-bench {args:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (results, std::fs::read_to_string(&out).unwrap())
}

fn check_passed(results: &Value, name: &str) -> bool {
    results["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with(name))
        .unwrap_or_else(|| panic!("no check named {name}"))["pass"]
        .as_bool()
        .unwrap()
}

#[test]
fn the_smoke_load_run_sells_exactly_the_stock_without_drift() {
    let (results, markdown) = smoke(&[]);

    let hot = &results["hot_sku"];
    assert_eq!(hot["stock"], 40);
    assert_eq!(
        hot["successes"], hot["stock"],
        "hot-sku must sell exactly the stock"
    );
    assert_eq!(hot["oversell"], 0);
    assert_eq!(hot["final_stock"], 0);
    assert_eq!(hot["drift"], 0);
    assert_eq!(results["spread_drift"], 0);

    let checkout = &results["checkout"];
    assert_eq!(
        checkout["sold"]["successes"], checkout["sold"]["stock"],
        "checkout must confirm exactly the stock"
    );
    assert_eq!(
        (
            checkout["sold"]["final_stock"].as_i64(),
            checkout["committed"].as_i64(),
            checkout["reserved"].as_i64(),
            checkout["sold"]["drift"].as_i64()
        ),
        (
            Some(0),
            checkout["sold"]["stock"].as_i64(),
            Some(0),
            Some(0)
        )
    );

    let raw = &results["raw_store"];
    assert_eq!(raw["successes"], raw["stock"]);
    assert_eq!(
        (
            raw["oversell"].as_i64(),
            raw["final_stock"].as_i64(),
            raw["drift"].as_i64()
        ),
        (Some(0), Some(0), Some(0))
    );

    let scenarios: Vec<&str> = results["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(
        scenarios,
        [
            "hot-sku",
            "checkout",
            "spread",
            "read",
            "read-one",
            "raw-store",
            "hello"
        ]
    );
    for row in results["rows"].as_array().unwrap() {
        assert!(row["successes"].as_u64().unwrap() > 0, "{row}");
    }
    assert!(results["hot_over_raw"].as_f64().unwrap() > 0.0);
    assert!(results["read_over_hello"].as_f64().unwrap() > 0.0);
    assert!(results["read_one_over_hello"].as_f64().unwrap() > 0.0);
    assert!(results["hot_over_hello"].as_f64().unwrap() > 0.0);
    // MongoDB's own ceilings are not measured on SQLite.
    assert!(results["raw_op"].is_null() && results["hot_over_raw_op"].is_null());
    assert!(results["peak_rss_after_hot_sku"].as_u64().unwrap() > 1024 * 1024);
    assert!(check_passed(&results, "hot-sku oversell"));
    assert!(check_passed(&results, "checkout confirmed orders"));

    assert!(
        markdown.contains("· load run ·") && markdown.contains("| hot-sku | 4 | 40 |"),
        "{markdown}"
    );
}

#[test]
fn the_smoke_reports_run_seeds_a_clean_ledger_and_times_every_report() {
    let (results, markdown) = smoke(&["reports"]);

    assert_eq!(results["movements_small"], 500);
    assert_eq!(results["movements_large"], 1500);
    assert!(check_passed(&results, "measured tenant audit drift"));
    let timings = results["timings"].as_array().unwrap();
    assert_eq!(
        timings.len(),
        6,
        "a variant read, four reports and an order"
    );
    for t in timings {
        assert!(
            t["small"]["p50"].as_f64().unwrap() > 0.0 && t["large"]["p50"].as_f64().unwrap() > 0.0,
            "{t}"
        );
    }
    assert!(
        markdown.contains("· reports run ·")
            && markdown.contains("| valuation |")
            && markdown.contains("| variant read |")
            && markdown.contains("| order (one unit) |"),
        "{markdown}"
    );
}

/// The outage run needs a real Redis (the test script starts one; CI must have it).
fn test_redis_url() -> Option<String> {
    match std::env::var("STOCKROOM_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("STOCKROOM_TEST_REDIS_URL is not set: CI must run the outage smoke run")
        }
        _ => {
            eprintln!("\n********** SKIPPED outage smoke run: STOCKROOM_TEST_REDIS_URL is not set **********\n");
            None
        }
    }
}

#[test]
fn the_smoke_outage_run_refuses_with_retry_after_never_oversells_and_sells_again() {
    let Some(redis) = test_redis_url() else {
        return;
    };
    let (results, markdown) = smoke(&["outage", "--redis-url", &redis]);

    assert!(results["refused_503"].as_u64().unwrap() > 0, "{results}");
    assert_eq!(results["refused_without_retry_after"], 0);
    assert_eq!(results["other_answers"], 0);
    assert_eq!(results["stock_fell_by"], results["acknowledged"]);
    assert_eq!(results["drift"], 0);
    assert!(
        results["first_sale_after_restore_ms"].as_f64().is_some(),
        "{results}"
    );
    assert!(markdown.contains("· outage run ·"), "{markdown}");
}
