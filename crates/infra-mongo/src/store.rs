//! Connecting to MongoDB and the handle every repository shares.
//!
//! Start-up checks that the server is a replica-set member before anything else: transactions are
//! what make a ledger write all-or-nothing, and a standalone `mongod` cannot run them. Failing
//! loudly at start-up is better than discovering it on the first order. It then creates the
//! indexes and brings data written before locations existed up to date (`migrate`).

use std::time::Duration;

use anyhow::{bail, Context};
use mongodb::bson::{doc, Document};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};

use crate::documents::{
    IdempotencyDoc, LocationDoc, MovementDoc, OrderDoc, ProductDoc, PurchaseOrderDoc,
    ReservationDoc, SupplierDoc, TenantDoc, TransferDoc, UserDoc, VariantDoc,
};
use crate::liveness::{Sessions, Watch};

/// The database used when the URL names none.
pub const DEFAULT_DATABASE: &str = "stockroom";

/// How long an operation waits for a reachable server when the URL does not say; short enough
/// for a readiness probe to answer "unavailable" promptly.
const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Collection names, in one place so indexes and repositories agree.
pub(crate) mod collections {
    pub const TENANTS: &str = "tenants";
    pub const USERS: &str = "users";
    pub const PRODUCTS: &str = "products";
    pub const VARIANTS: &str = "variants";
    pub const MOVEMENTS: &str = "movements";
    pub const ORDERS: &str = "orders";
    pub const SUPPLIERS: &str = "suppliers";
    pub const PURCHASE_ORDERS: &str = "purchaseOrders";
    pub const IDEMPOTENCY: &str = "idempotencyRecords";
    pub const LOCATIONS: &str = "locations";
    pub const TRANSFERS: &str = "transfers";
    pub const RESERVATIONS: &str = "reservations";
    /// One document per completed data migration (see `migrate`).
    pub const MIGRATIONS: &str = "migrations";
    /// One document per running instance: its beat and its session ids (see `liveness`).
    pub const INSTANCES: &str = "instances";
}

/// A connection to Stockroom's MongoDB database. Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct MongoStore {
    /// The driver's client; transactions take their sessions from `sessions`, never from here.
    #[allow(dead_code)]
    pub(crate) client: Client,
    pub(crate) db: Database,
    /// The sessions every transaction runs on, known to the other instances.
    pub(crate) sessions: Sessions,
    /// Keeps this store's beat and its watch for stopped instances running.
    _watch: Watch,
}

impl MongoStore {
    /// Connects to `url` (`mongodb://host:port/<database>?options`; the database defaults to
    /// [`DEFAULT_DATABASE`]), checks that the server is a replica-set member and creates the
    /// indexes, then migrates data written before locations existed (once per database: see
    /// [`MongoStore::migrate_locations`]). Fails with a one-line explanation on a standalone
    /// server.
    pub async fn connect(url: &str) -> anyhow::Result<MongoStore> {
        let mut options = ClientOptions::parse(url)
            .await
            .context("the MongoDB URL is not valid")?;
        let database = options
            .default_database
            .clone()
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        options
            .app_name
            .get_or_insert_with(|| "stockroom".to_owned());
        options
            .server_selection_timeout
            .get_or_insert(DEFAULT_SERVER_SELECTION_TIMEOUT);
        let hosts = options
            .hosts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let client =
            Client::with_options(options).context("cannot configure the MongoDB client")?;
        let db = client.database(&database);

        let hello = db
            .run_command(doc! { "hello": 1 })
            .await
            .with_context(|| format!("cannot reach MongoDB at {hosts}"))?;
        if !is_replica_set_member(&hello) {
            bail!(
                "MongoDB at {hosts} is a standalone server: Stockroom needs a replica set (even of \
                 one node) for transactions — start mongod with --replSet and run rs.initiate()"
            );
        }

        let sessions = Sessions::new(client.clone(), db.collection(collections::INSTANCES));
        let watch = sessions.watch();
        let store = MongoStore {
            client,
            db,
            sessions,
            _watch: watch,
        };
        store
            .create_indexes()
            .await
            .with_context(|| format!("cannot create the indexes of database {database}"))?;
        store
            .migrate_locations_once()
            .await
            .with_context(|| format!("cannot migrate database {database} to locations"))?;
        tracing::info!(%hosts, %database, "connected to MongoDB");
        Ok(store)
    }

    pub(crate) fn tenants(&self) -> Collection<TenantDoc> {
        self.db.collection(collections::TENANTS)
    }

    pub(crate) fn users(&self) -> Collection<UserDoc> {
        self.db.collection(collections::USERS)
    }

    pub(crate) fn products(&self) -> Collection<ProductDoc> {
        self.db.collection(collections::PRODUCTS)
    }

    pub(crate) fn variants(&self) -> Collection<VariantDoc> {
        self.db.collection(collections::VARIANTS)
    }

    pub(crate) fn movements(&self) -> Collection<MovementDoc> {
        self.db.collection(collections::MOVEMENTS)
    }

    pub(crate) fn orders(&self) -> Collection<OrderDoc> {
        self.db.collection(collections::ORDERS)
    }

    pub(crate) fn suppliers(&self) -> Collection<SupplierDoc> {
        self.db.collection(collections::SUPPLIERS)
    }

    pub(crate) fn purchase_orders(&self) -> Collection<PurchaseOrderDoc> {
        self.db.collection(collections::PURCHASE_ORDERS)
    }

    pub(crate) fn idempotency_records(&self) -> Collection<IdempotencyDoc> {
        self.db.collection(collections::IDEMPOTENCY)
    }

    pub(crate) fn locations(&self) -> Collection<LocationDoc> {
        self.db.collection(collections::LOCATIONS)
    }

    pub(crate) fn transfers(&self) -> Collection<TransferDoc> {
        self.db.collection(collections::TRANSFERS)
    }

    pub(crate) fn reservations(&self) -> Collection<ReservationDoc> {
        self.db.collection(collections::RESERVATIONS)
    }

    /// A collection read or written as plain documents (migrations, raw test data).
    pub(crate) fn raw(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }
}

/// A replica-set member names its set in `hello`; a standalone server does not.
fn is_replica_set_member(hello: &Document) -> bool {
    hello.get_str("setName").is_ok_and(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_hello_naming_a_set_is_a_replica_set_member() {
        assert!(is_replica_set_member(
            &doc! { "isWritablePrimary": true, "setName": "rs0" }
        ));
        assert!(!is_replica_set_member(&doc! { "isWritablePrimary": true }));
        assert!(!is_replica_set_member(&doc! { "setName": "" }));
    }
}
