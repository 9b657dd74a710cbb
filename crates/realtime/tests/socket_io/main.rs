//! End-to-end tests of the Socket.IO server with a real Socket.IO v5 client.
//!
//! Each test starts its own server on a free port. The fan-out tests also need Redis: they read
//! `STOCKROOM_TEST_REDIS_URL` (set by `scripts/lib/redis.sh`), are skipped loudly without it on a
//! developer machine and fail under CI.

mod access;
mod delivery;
mod fanout;
mod support;
