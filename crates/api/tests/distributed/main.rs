//! Live events and several api instances: Socket.IO delivery per tenant, two processes sharing one
//! store and one Redis, Redis outages, and locks that expire mid-operation.
//!
//! Tests that need Redis read `STOCKROOM_TEST_REDIS_URL` (set by `scripts/test.sh`); without it
//! they skip with a loud line, except under `CI`, where they fail.

mod events;
#[path = "../common/http_client.rs"]
mod http_client;
mod instances;
mod outage;
mod support;
