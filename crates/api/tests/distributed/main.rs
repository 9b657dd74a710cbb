//! Live events and several api instances: Socket.IO delivery per tenant, two processes sharing one
//! store and one Redis, Redis outages, and locks that expire mid-operation — in one process and
//! across two.
//!
//! Tests that need Redis read `STOCKROOM_TEST_REDIS_URL`, and those on MongoDB
//! `STOCKROOM_TEST_MONGO_URL` (both set by `scripts/test.sh`); without them they skip with a loud
//! line, except under `CI`, where they fail.
//!
//! Every instance, a real process or one in this one, is reached through a recording proxy that
//! checks its answers against the OpenAPI document.

#[path = "../common/conformance.rs"]
mod conformance;
mod crash;
mod events;
mod holds;
#[path = "../common/http_client.rs"]
mod http_client;
mod instances;
mod outage;
mod races;
#[path = "../common/recording_proxy.rs"]
mod recording_proxy;
mod revocation;
mod sessions;
mod support;
