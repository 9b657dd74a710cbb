//! HTTP plumbing shared by all routes: problem+json errors, the JSON body extractor, request
//! ids, idempotency keys, pagination and the 404/405 fallback.

pub mod body;
pub mod client_addr;
pub mod error;
pub mod etag;
pub mod fallback;
pub mod idempotency;
pub mod problem;
pub mod query;
pub mod request_id;
