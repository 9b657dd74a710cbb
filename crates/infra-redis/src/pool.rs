//! The connection pool both adapters share the construction of, and the readiness probe both
//! answer through it.
//!
//! deadpool checks a pooled connection with a PING before lending it and throws it away when the
//! check fails, so connections broken while Redis was away are replaced on first use after it
//! returns. Every pool wait is bounded, so a dead Redis answers with an error instead of a hang.

use std::time::Duration;

use anyhow::Context;
use deadpool_redis::{Manager, Pool, Runtime};
use domain::lock::Unreachable;

/// How readiness probes name Redis.
const SERVICE: &str = "redis";

/// Connections per instance: commands are short, so a few multiplexed connections serve many tasks.
const MAX_CONNECTIONS: usize = 16;

pub(crate) fn build_pool(url: &str, timeout: Duration) -> anyhow::Result<Pool> {
    let manager = Manager::new(url).context("invalid Redis URL")?;
    Pool::builder(manager)
        .max_size(MAX_CONNECTIONS)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .build()
        .context("failed to build the Redis connection pool")
}

/// Succeeds when Redis answers a PING through `pool` within `timeout`; the error names Redis and
/// carries the whole cause chain.
pub(crate) async fn ping(pool: &Pool, timeout: Duration) -> Result<(), Unreachable> {
    let work = async {
        let mut conn = pool.get().await.context("no Redis connection")?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .context("Redis did not answer PING")
    };
    let answered = async {
        let reply = tokio::time::timeout(timeout, work)
            .await
            .context("Redis did not answer PING in time")??;
        anyhow::ensure!(reply == "PONG", "unexpected PING reply {reply:?}");
        Ok(())
    };
    answered
        .await
        .map_err(|error: anyhow::Error| Unreachable::new(SERVICE, format!("{error:#}")))
}
