//! Picks the storage adapter named by `STOCKROOM_DATABASE_URL`.

use anyhow::Context;

use domain::Repositories;

use crate::config::DatabaseUrl;

/// Every repository port, served by the adapter the URL's scheme names.
pub async fn open(url: &DatabaseUrl) -> anyhow::Result<Repositories> {
    match url {
        DatabaseUrl::Sqlite(url) => {
            let store = infra_sqlite::SqliteStore::open(url)
                .await
                .with_context(|| format!("cannot open the SQLite store {url}"))?;
            Ok(Repositories::of(store))
        }
        DatabaseUrl::Mongo(url) => {
            let store = infra_mongo::MongoStore::connect(url)
                .await
                .context("STOCKROOM_DATABASE_URL")?;
            Ok(Repositories::of(store))
        }
    }
}
