//! Connecting the tests to a server: a fresh database per test, named by a UUID.
//!
//! The server comes from `STOCKROOM_TEST_MONGO_URL` (see `scripts/lib/secantus.sh`). Without it a
//! test is skipped loudly on a developer machine and fails in CI, where a skipped storage suite
//! would hide a broken adapter.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use infra_mongo::MongoStore;

pub const URL_VAR: &str = "STOCKROOM_TEST_MONGO_URL";
pub const STANDALONE_URL_VAR: &str = "STOCKROOM_TEST_MONGO_STANDALONE_URL";

/// The URL in `var`, or `None` after announcing the skip (a panic in CI).
pub fn server_url(var: &str) -> Option<String> {
    match configured_url(var) {
        Ok(url) => Some(url),
        Err(why) => {
            loud(&format!(
                "!!!!! SKIPPED: {why}, so this MongoDB adapter test did not run. !!!!!"
            ));
            None
        }
    }
}

/// The URL in `var`, or why the test must be skipped — for the caller to announce. Panics in CI,
/// where a skipped storage suite would hide a broken adapter.
pub fn configured_url(var: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Ok(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "{var} is not set: CI must run the MongoDB adapter tests against a server \
             (source scripts/lib/secantus.sh and run secantus_start)"
        ),
        _ => Err(format!(
            "{var} is not set (source scripts/lib/secantus.sh and run secantus_start to run it)"
        )),
    }
}

/// Writes `line` to stderr past the test harness's output capture, so a skip is always seen.
pub fn loud(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `url` with its database path replaced by `database`, keeping the host list and options.
pub fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a mongodb:// URL");
    let (hosts, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let query = tail.find('?').map(|i| &tail[i..]).unwrap_or("");
    format!("{scheme}://{hosts}/{database}{query}")
}

/// A store on a database of its own, dropped by [`TestDb::drop`].
pub struct TestDb {
    pub store: MongoStore,
    url: String,
    name: String,
}

impl TestDb {
    /// Connects to a fresh database, or `None` when no server is configured (outside CI).
    pub async fn new() -> Option<TestDb> {
        let url = server_url(URL_VAR)?;
        let name = format!("stockroom_test_{}", uuid::Uuid::new_v4().simple());
        let url = with_database(&url, &name);
        let store = MongoStore::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test server: {e:#}"));
        Some(TestDb { store, url, name })
    }

    /// The URL of the test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the test's database.
    pub async fn drop(self) {
        let client = mongodb::Client::with_uri_str(&self.url)
            .await
            .expect("test client");
        client
            .database(&self.name)
            .drop()
            .await
            .expect("drop the test database");
    }
}
