//! Where and when a run happened: date, cores, memory, load and the git revision.
//!
//! Figures only mean something next to the machine that produced them, and on a shared machine
//! the load average at the start says whether others were competing for the cores.

use std::process::Command;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub date: String,
    pub cores: usize,
    pub cpu: String,
    pub memory_gib: f64,
    /// The 1-minute load average when the run started.
    pub load_average: f64,
    /// `git rev-parse --short HEAD`, with "+uncommitted" when the tree has changes.
    pub revision: String,
}

impl Machine {
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        Machine {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown CPU".into()),
            memory_gib: mem_total_kib(&meminfo).map_or(0.0, |kib| kib as f64 / 1024.0 / 1024.0),
            load_average: loadavg
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0.0),
            revision: revision(),
        }
    }

    /// One line for reports.
    pub fn summary(&self) -> String {
        format!(
            "{} cores ({}), {:.1} GiB memory, load average {:.2} at start",
            self.cores, self.cpu, self.memory_gib, self.load_average
        )
    }
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

fn mem_total_kib(meminfo: &str) -> Option<u64> {
    meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn revision() -> String {
    let root = crate::api::workspace_root();
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(rev) => match git(&["status", "--porcelain", "--untracked-files=no"]) {
            Some(changes) if !changes.is_empty() => format!("{rev}+uncommitted"),
            _ => rev,
        },
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read() {
        assert_eq!(
            cpu_model("processor\t: 0\nmodel name\t: Example CPU @ 3.00GHz\n").as_deref(),
            Some("Example CPU @ 3.00GHz")
        );
        assert_eq!(
            mem_total_kib("MemTotal:       24684000 kB\nMemFree: 1 kB\n"),
            Some(24_684_000)
        );
        assert_eq!(mem_total_kib(""), None);
    }
}
