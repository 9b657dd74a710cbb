//! Integration tests of the Redis adapters against a real redis-server.
//!
//! They read `STOCKROOM_TEST_REDIS_URL` (set by `scripts/lib/redis.sh`'s `redis_start`). Without
//! it they are skipped loudly on a developer machine and fail under CI, so CI can never pass
//! without having run them. The restart tests start their own redis-server, which they kill.

mod fanout;
mod lock;
mod restart;
mod support;
