//! The connection pool both adapters share the construction of.
//!
//! deadpool checks a pooled connection with a PING before lending it and throws it away when the
//! check fails, so connections broken while Redis was away are replaced on first use after it
//! returns. Every pool wait is bounded, so a dead Redis answers with an error instead of a hang.

use std::time::Duration;

use anyhow::Context;
use deadpool_redis::{Manager, Pool, Runtime};

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
