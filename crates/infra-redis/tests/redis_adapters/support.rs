//! Shared helpers: the Redis gate, a private redis-server, raw commands.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The URL of the test Redis, or `None` (after a loud notice) when the tests must be skipped.
pub fn redis_url() -> Option<String> {
    match std::env::var("STOCKROOM_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            skip_or_fail("STOCKROOM_TEST_REDIS_URL is not set");
            None
        }
    }
}

/// Panics under CI (which must run every test), else prints a notice that cannot be missed.
pub fn skip_or_fail(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!(
            "{why}: CI must run the Redis tests — source scripts/lib/redis.sh and call \
             redis_install and redis_start first"
        );
    }
    // Written past the test harness's output capture, so the skip shows in a normal run.
    let notice = format!("\n********** SKIPPED Redis test: {why} **********\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), notice.as_bytes());
}

/// Evaluates to the test Redis URL, or returns from the test when it must be skipped.
macro_rules! require_redis {
    () => {
        match crate::support::redis_url() {
            Some(url) => url,
            None => return,
        }
    };
}
pub(crate) use require_redis;

/// A raw connection for checking what the adapters left in Redis.
pub async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("valid URL")
        .get_multiplexed_async_connection()
        .await
        .expect("test Redis reachable")
}

pub async fn get(conn: &mut redis::aio::MultiplexedConnection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query_async(conn).await.unwrap()
}

/// Polls `condition` until it holds or `within` passes; returns whether it held.
pub async fn eventually<F, Fut>(within: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A redis-server of the test's own, on a port it can restart it on. Killed on drop.
pub struct OwnRedis {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl OwnRedis {
    /// Starts one on a free port; `None` (skip, or panic under CI) when redis-server is missing.
    pub fn start() -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self {
            port,
            child: None,
            dir: tempfile::tempdir().expect("temp dir"),
        };
        match redis.spawn() {
            Ok(()) => Some(redis),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                skip_or_fail("redis-server is not installed");
                None
            }
            Err(error) => panic!("cannot start redis-server: {error}"),
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server abruptly, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill redis-server");
            child.wait().expect("reap redis-server");
        }
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn().expect("restart redis-server");
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        self.wait_ready();
        Ok(())
    }

    fn wait_ready(&self) {
        use std::io::{Read, Write};
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let mut reply = [0u8; 7];
                if stream.write_all(b"PING\r\n").is_ok()
                    && stream.read_exact(&mut reply).is_ok()
                    && &reply == b"+PONG\r\n"
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} did not become ready", self.port);
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
