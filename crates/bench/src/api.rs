//! Starting the `stockroom` binary for a run: which binary, which store, which settings.
//!
//! The api is always the real release binary in its own process, configured only through its
//! documented environment variables, so a run measures exactly what a deployment serves. Each
//! run gets a fresh store — a new SQLite file in a temporary folder, or a new MongoDB database
//! name — so figures never depend on what an earlier run left behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use rand::RngCore;

use crate::child::ChildServer;

/// The workspace root, for building the api and finding docs/.
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The `stockroom` binary to run: `explicit`, else `target/release/stockroom` next to this
/// binary's target folder, built with `cargo build --release -p api` when missing.
pub fn locate_api_bin(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        if !path.is_file() {
            bail!("--api-bin {} does not exist", path.display());
        }
        return Ok(path.to_owned());
    }
    let exe = std::env::current_exe().context("locating this binary")?;
    let target = exe
        .parent()
        .and_then(Path::parent)
        .context("this binary is not inside a cargo target folder; pass --api-bin")?;
    let release = target.join("release").join("stockroom");
    if !release.is_file() {
        eprintln!(
            "{} is missing: running `cargo build --release -p api`",
            release.display()
        );
        let status = Command::new(option_env!("CARGO").unwrap_or("cargo"))
            .args(["build", "--release", "-p", "api"])
            .current_dir(workspace_root())
            .status()
            .context("running cargo")?;
        if !status.success() || !release.is_file() {
            bail!(
                "could not build {}; build it with `cargo build --release -p api`",
                release.display()
            );
        }
    }
    Ok(release)
}

/// The store a run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(String),
    /// The URL names a database created for this run.
    Mongo {
        url: String,
        database: String,
    },
}

impl StoreUrl {
    /// `given` as is for SQLite, with a fresh database name for MongoDB; without `given`, a new
    /// SQLite file `name` inside `dir`.
    pub fn fresh(given: Option<&str>, dir: &Path, name: &str) -> anyhow::Result<Self> {
        match given {
            None => Ok(StoreUrl::Sqlite(format!(
                "sqlite://{}",
                dir.join(name).display()
            ))),
            Some(url) if url.starts_with("sqlite:") => Ok(StoreUrl::Sqlite(url.to_owned())),
            Some(url) if url.starts_with("mongodb://") || url.starts_with("mongodb+srv://") => {
                let database = format!(
                    "bench_{}_{:08x}",
                    chrono::Utc::now().format("%Y%m%d%H%M%S"),
                    rand::thread_rng().next_u32()
                );
                Ok(StoreUrl::Mongo {
                    url: with_database(url, &database)?,
                    database,
                })
            }
            Some(url) => bail!("--database-url `{url}` is neither sqlite:… nor mongodb://…"),
        }
    }

    pub fn url(&self) -> &str {
        match self {
            StoreUrl::Sqlite(url) => url,
            StoreUrl::Mongo { url, .. } => url,
        }
    }

    /// "sqlite" or "mongodb", for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreUrl::Sqlite(_) => "sqlite",
            StoreUrl::Mongo { .. } => "mongodb",
        }
    }

    /// The SQLite file, when the store is one.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self {
            StoreUrl::Sqlite(url) => url.strip_prefix("sqlite://").map(PathBuf::from),
            StoreUrl::Mongo { .. } => None,
        }
    }

    /// Drops a MongoDB database created for the run (SQLite files go with their folder).
    pub async fn discard(&self) -> anyhow::Result<()> {
        if let StoreUrl::Mongo { url, database } = self {
            let client = mongodb::Client::with_uri_str(url).await?;
            client.database(database).drop().await?;
        }
        Ok(())
    }
}

/// `url` with its database path replaced by `database` (options kept).
pub fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .context("a MongoDB URL needs a scheme")?;
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (hosts, tail) = rest.split_at(host_end);
    let query = tail.find('?').map(|i| &tail[i..]).unwrap_or("");
    if hosts.is_empty() {
        bail!("the MongoDB URL `{url}` names no host");
    }
    Ok(format!("{scheme}://{hosts}/{database}{query}"))
}

/// What the api child is started with.
pub struct ApiSettings<'a> {
    pub bin: &'a Path,
    pub store: &'a StoreUrl,
    pub redis_url: Option<&'a str>,
    /// Fixed per run, so tokens survive a restart of the api.
    pub jwt_secret: &'a str,
    pub log: &'a Path,
}

/// Starts the api on free ports; its log (JSON lines) goes to `settings.log`.
pub fn start_api(settings: &ApiSettings<'_>) -> anyhow::Result<ChildServer> {
    let mut command = Command::new(settings.bin);
    command
        .env("STOCKROOM_HTTP_ADDR", "127.0.0.1:0")
        .env("STOCKROOM_SOCKET_ADDR", "127.0.0.1:0")
        .env("STOCKROOM_DATABASE_URL", settings.store.url())
        .env("STOCKROOM_JWT_SECRET", settings.jwt_secret)
        .env("STOCKROOM_LOG_FORMAT", "json")
        .env("STOCKROOM_LOG", "info");
    match settings.redis_url {
        Some(url) => command.env("STOCKROOM_REDIS_URL", url),
        None => command.env_remove("STOCKROOM_REDIS_URL"),
    };
    ChildServer::start("stockroom", command, settings.log)
}

/// A random secret long enough for the api's HS256 check.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The test server's URL (`source scripts/lib/secantus.sh; secantus_start` exports it). Without
/// one, `test` is skipped loudly — except in CI, where the test script always provides it.
#[cfg(test)]
pub(crate) fn test_mongo_url(test: &str) -> Option<String> {
    let url = std::env::var("STOCKROOM_TEST_MONGO_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "STOCKROOM_TEST_MONGO_URL must be set in CI"
        );
        // Straight to stderr, past the test harness's capture, so the skip is always seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "!!!!! SKIPPED: STOCKROOM_TEST_MONGO_URL is not set; {test} did not run !!!!!"
        );
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mongo_urls_get_the_run_database_and_keep_options() {
        assert_eq!(
            with_database("mongodb://127.0.0.1:27017/?replicaSet=rs0", "b1").unwrap(),
            "mongodb://127.0.0.1:27017/b1?replicaSet=rs0"
        );
        assert_eq!(
            with_database("mongodb://a:1,b:2/stockroom", "b1").unwrap(),
            "mongodb://a:1,b:2/b1"
        );
        assert_eq!(
            with_database("mongodb://h:1", "b1").unwrap(),
            "mongodb://h:1/b1"
        );
        assert!(with_database("mongodb:///db", "b1").is_err());
    }

    #[test]
    fn the_default_store_is_a_file_in_the_run_folder() {
        let store = StoreUrl::fresh(None, Path::new("/tmp/run"), "s.db").unwrap();
        assert_eq!(store, StoreUrl::Sqlite("sqlite:///tmp/run/s.db".into()));
        assert_eq!(store.sqlite_path(), Some(PathBuf::from("/tmp/run/s.db")));
        let mongo = StoreUrl::fresh(Some("mongodb://h:1/x"), Path::new("/tmp"), "s.db").unwrap();
        assert!(
            matches!(&mongo, StoreUrl::Mongo { url, database } if url.ends_with(database.as_str()))
        );
        assert!(StoreUrl::fresh(Some("postgres://x"), Path::new("/tmp"), "s.db").is_err());
    }

    #[test]
    fn secrets_are_long_enough_for_the_api() {
        assert!(random_secret().len() >= 32);
        assert_ne!(random_secret(), random_secret());
    }
}
