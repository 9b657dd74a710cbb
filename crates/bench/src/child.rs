//! Servers the harness runs as child processes: the `stockroom` api and the hello server.
//!
//! Each child listens on port 0 and announces its address on stdout ("listening on
//! http://127.0.0.1:<port>"). Its stdout goes straight to a log file rather than a pipe — a pipe
//! the harness forgot to drain would stall the server mid-benchmark — and the harness polls that
//! file for the line. Measuring in separate processes keeps the client's own CPU use out of the
//! server's memory figures, and the peak RSS (`VmHWM`) is read from `/proc/<pid>/status`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// How long a child may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a child may take to drain and exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A running server child. Dropping it kills the process.
pub struct ChildServer {
    name: &'static str,
    child: Child,
    log: PathBuf,
    pub base_url: String,
}

impl ChildServer {
    /// Starts `command` with stdout and stderr appended to `log`, and waits for its address.
    pub fn start(name: &'static str, mut command: Command, log: &Path) -> anyhow::Result<Self> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("creating {}", log.display()))?;
        let start_offset = out.metadata()?.len();
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .with_context(|| format!("starting the {name} server"))?;
        let mut server = ChildServer {
            name,
            child,
            log: log.to_owned(),
            base_url: String::new(),
        };
        server.base_url = server.wait_for_address(start_offset)?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_for_address(&mut self, from: u64) -> anyhow::Result<String> {
        let started = Instant::now();
        loop {
            let text = std::fs::read(&self.log).unwrap_or_default();
            let fresh =
                String::from_utf8_lossy(&text[(from as usize).min(text.len())..]).into_owned();
            if let Some(url) = fresh.lines().find_map(listening_url) {
                return Ok(url);
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the {} server exited ({status}) before listening:\n{}",
                    self.name,
                    tail(&fresh, 20)
                );
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "the {} server printed no address within {START_TIMEOUT:?}:\n{}",
                    self.name,
                    tail(&fresh, 20)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Peak resident memory of the child so far, in bytes (`VmHWM`).
    pub fn peak_rss_bytes(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .context("reading the child's /proc status")?;
        vm_hwm_bytes(&status).context("no VmHWM line in /proc/<pid>/status")
    }

    /// SIGTERM, then waits for the child to drain and exit (killing it after a timeout).
    pub fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.pid() as libc::pid_t;
        // SAFETY: `kill` only sends a signal to our own child, whose pid we still hold (it has
        // not been reaped, so the pid cannot have been reused).
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let started = Instant::now();
        while started.elapsed() < STOP_TIMEOUT {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill()?;
        self.child.wait()?;
        bail!(
            "the {} server did not stop within {STOP_TIMEOUT:?}; killed",
            self.name
        )
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The base URL in a start-up line ("… listening on http://127.0.0.1:8080 (docs …)"), with or
/// without JSON around it.
pub fn listening_url(line: &str) -> Option<String> {
    const MARK: &str = "listening on http://";
    let start = line.find(MARK)? + MARK.len();
    let rest = &line[start..];
    let end = rest
        .find(|c: char| {
            !(c.is_ascii_alphanumeric() || c == '.' || c == ':' || c == '[' || c == ']')
        })
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    let (_, port) = authority.rsplit_once(':')?;
    port.parse::<u16>().ok().filter(|p| *p != 0)?;
    Some(format!("http://{authority}"))
}

/// `VmHWM:    12345 kB` → bytes.
pub fn vm_hwm_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_found_in_json_and_pretty_lines() {
        let json = r#"{"timestamp":"…","level":"INFO","fields":{"message":"Stockroom listening on http://127.0.0.1:41234 (docs at /docs/, OpenAPI at /openapi.json); Socket.IO on port 40000"}}"#;
        assert_eq!(
            listening_url(json).as_deref(),
            Some("http://127.0.0.1:41234")
        );
        assert_eq!(
            listening_url("hello listening on http://127.0.0.1:9").as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(listening_url("listening on http://127.0.0.1:0"), None);
        assert_eq!(listening_url("applied database migration"), None);
    }

    #[test]
    fn peak_rss_is_read_in_bytes() {
        let status = "Name:\tstockroom\nVmPeak:\t  900 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1024 kB\n";
        assert_eq!(vm_hwm_bytes(status), Some(2048 * 1024));
        assert_eq!(vm_hwm_bytes("Name:\tx\n"), None);
    }
}
