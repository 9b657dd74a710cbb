//! Authentication at the edge: tokens, password hashing and the authenticated-actor extractor.

pub mod extractor;
pub mod jwt;
pub mod password;
