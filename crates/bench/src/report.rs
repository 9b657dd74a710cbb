//! Presenting a run: the printed table, the checks against the targets, and the Markdown
//! section appended to docs/benchmarks.md.
//!
//! The record file is append-only: a run adds a dated section at the end and never rewrites
//! what is there, so the history of figures (and of the machines behind them) stays intact.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

/// A simple table: headers and rows of cells, rendered aligned or as Markdown.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(cell.chars().count());
                }
            }
        }
        widths
    }

    /// Columns padded to line up in a terminal; the first column left-aligned, the rest right.
    pub fn plain(&self) -> String {
        let widths = self.widths();
        let line = |cells: &[String]| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let w = widths.get(i).copied().unwrap_or(0);
                    if i == 0 {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        let mut out = line(&self.headers);
        out.push('\n');
        out.push_str(
            &"-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)),
        );
        for row in &self.rows {
            out.push('\n');
            out.push_str(&line(row));
        }
        out.push('\n');
        out
    }

    /// Markdown; a column whose cells are all numbers is right-aligned.
    pub fn markdown(&self) -> String {
        let mut out = format!("| {} |\n", self.headers.join(" | "));
        let numeric = |i: usize| {
            !self.rows.is_empty()
                && self
                    .rows
                    .iter()
                    .all(|r| r.get(i).is_some_and(|c| c.parse::<f64>().is_ok()))
        };
        let align: Vec<&str> = (0..self.headers.len())
            .map(|i| if numeric(i) { "---:" } else { "---" })
            .collect();
        out.push_str(&format!("| {} |\n", align.join(" | ")));
        for row in &self.rows {
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        out
    }
}

/// One target and how the run did against it.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub target: String,
    pub measured: String,
    pub pass: bool,
    /// A correctness check (oversell, drift, exact sell-out): failing it fails the run.
    pub correctness: bool,
}

impl Check {
    pub fn new(name: &str, target: &str, measured: String, pass: bool) -> Self {
        Check {
            name: name.to_owned(),
            target: target.to_owned(),
            measured,
            pass,
            correctness: false,
        }
    }

    pub fn correctness(name: &str, target: &str, measured: String, pass: bool) -> Self {
        Check {
            correctness: true,
            ..Check::new(name, target, measured, pass)
        }
    }

    fn verdict(&self) -> &'static str {
        if self.pass {
            "met"
        } else {
            "MISSED"
        }
    }
}

pub fn checks_table(checks: &[Check]) -> Table {
    let mut table = Table::new(&["check", "target", "measured", "result"]);
    for c in checks {
        table.row(vec![
            c.name.clone(),
            c.target.clone(),
            c.measured.clone(),
            c.verdict().to_owned(),
        ]);
    }
    table
}

/// Appends `section` to `path` (created with a title if missing), after a blank line.
pub fn append_section(path: &Path, section: &str) -> anyhow::Result<()> {
    let exists = path.exists();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    if !exists {
        writeln!(file, "# Benchmark runs")?;
    }
    write!(file, "\n{}", section.trim_end())?;
    writeln!(file)?;
    Ok(())
}

pub fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

pub fn rate(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
}

/// Records a run: appends `section` where runs are recorded (`--out`, else
/// docs/benchmarks.md, nothing for a smoke run without `--out`) and writes `results` to
/// `--json` when given.
pub fn record(
    common: &crate::cli::Common,
    section: &str,
    results: &impl Serialize,
) -> anyhow::Result<()> {
    let out = match (&common.out, common.smoke) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(crate::api::workspace_root().join("docs/benchmarks.md")),
        (None, true) => None,
    };
    if let Some(path) = out {
        append_section(&path, section)?;
        println!("appended to {}", path.display());
    }
    if let Some(path) = &common.json {
        std::fs::write(path, serde_json::to_string_pretty(results)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&["scenario", "rate/s"]);
        t.row(vec!["hot-sku".into(), "1234".into()]);
        t.row(vec!["read".into(), "9".into()]);
        t
    }

    #[test]
    fn tables_render_aligned_and_as_markdown() {
        let plain = sample().plain();
        assert!(plain.contains("hot-sku     1234\n"), "{plain}");
        assert!(plain.contains("read           9\n"), "{plain}");
        let md = sample().markdown();
        assert!(
            md.starts_with("| scenario | rate/s |\n| --- | ---: |\n"),
            "{md}"
        );
        let mut words = Table::new(&["check", "measured"]);
        words.row(vec!["oversell".into(), "5000 of 5000".into()]);
        assert!(words.markdown().contains("| --- | --- |"));
        assert!(md.contains("| hot-sku | 1234 |\n"));
    }

    #[test]
    fn sections_are_appended_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docs/bench.md");
        append_section(&path, "## Run 1\nfirst\n").unwrap();
        append_section(&path, "## Run 2\nsecond").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "# Benchmark runs\n\n## Run 1\nfirst\n\n## Run 2\nsecond\n"
        );
    }

    #[test]
    fn numbers_are_rounded_for_reading() {
        assert_eq!(
            (ms(1.234), ms(12.34), ms(123.4)),
            ("1.23".into(), "12.3".into(), "123".into())
        );
        assert_eq!((rate(5.56), rate(1234.4)), ("5.6".into(), "1234".into()));
        assert_eq!(mib(3 * 1024 * 1024), "3.0 MiB");
    }
}
