//! The set of repository ports a contract case runs against, and the two things a case may do
//! behind their back: change a level's stock, and build a store the way an older version of
//! Stockroom left it, then migrate it.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use domain::ids::{LocationId, TenantId, VariantId};
use domain::{AllRepositories, Repositories};
use futures::future::BoxFuture;

use crate::legacy::LegacyData;

/// Sets one level's stock (one variant at one location) directly in the store, bypassing the
/// ledger and leaving the variant's total as it is — what a bug, a manual fix in the database or
/// a foreign writer would do. Only a store's test harness can provide it: it writes with the
/// store's own raw access (SQL on the same file, a driver update on the same database), never
/// through a port. The level MUST exist; the hook MUST change exactly that one level or panic.
pub type StockTamper =
    Arc<dyn Fn(TenantId, VariantId, LocationId, i64) -> BoxFuture<'static, ()> + Send + Sync>;

/// Writes [`LegacyData`] into a new, empty store in the shape a store had before stock was kept
/// per location (SQLite: a database file at schema version 1; MongoDB: the documents as that
/// version wrote them), runs the store's migration the way a deployment would (opening the
/// file; the start-up step), and returns repositories over the migrated store. Called at most
/// once per case; what it builds must stay alive as long as the [`Stores`] that gave it.
pub type Migration = Arc<dyn Fn(LegacyData) -> BoxFuture<'static, Repositories> + Send + Sync>;

/// A test-only capability a harness gives its stores, or declares it cannot give.
#[derive(Clone)]
enum Hook<T> {
    /// The harness said nothing: a case that needs the hook fails, so none is forgotten.
    NotGiven,
    Given(T),
    /// The harness cannot provide it, and says why.
    Impossible(&'static str),
}

impl<T: Clone> Hook<T> {
    /// The hook, or `None` after announcing that `case` does not run here. Panics when the
    /// harness said nothing either way, naming what the case needed and how to give it.
    fn get(&self, case: &'static str, needs: &str, give: &str, refuse: &str) -> Option<T> {
        match self {
            Hook::Given(hook) => Some(hook.clone()),
            Hook::Impossible(why) => {
                crate::harness::announce_skip(case, &crate::harness::Skip::new(*why));
                None
            }
            Hook::NotGiven => panic!(
                "{case} needs {needs}: the store's harness must give its Stores a hook \
                 (`Stores::{give}`) or say why it cannot (`Stores::{refuse}`)"
            ),
        }
    }
}

/// How a store keeps a variant's total stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Totals {
    /// A stored number the ledger changes with each level, which the audit compares with Σ levels.
    Stored,
    /// Σ levels, computed on every read.
    Derived,
}

/// Every repository port of one adapter, over one fresh, empty store, plus what must stay alive
/// with it. Reads like `domain::Repositories` (`stores.ledger`, `stores.reports`, …).
#[derive(Clone)]
pub struct Stores {
    repositories: Repositories,
    /// Resources that must live as long as the store (a temporary folder, a test database);
    /// dropped when the case ends. Usually filled through [`Stores::holding`].
    pub keep_alive: Vec<Arc<dyn Send + Sync>>,
    tamper: Hook<StockTamper>,
    migration: Hook<Migration>,
    /// How the store keeps a variant's total: stored beside its levels (and so able to drift
    /// from them), or derived from them on every read.
    totals: Totals,
    /// The test these stores were made for, named in what a case announces.
    case: &'static str,
}

impl Stores {
    /// Every port served by one adapter value.
    pub fn of<S: AllRepositories>(store: S) -> Self {
        Self::from_repositories(Repositories::of(store))
    }

    /// Ports served by different values.
    pub fn from_repositories(repositories: Repositories) -> Self {
        Self {
            repositories,
            keep_alive: Vec::new(),
            tamper: Hook::NotGiven,
            migration: Hook::NotGiven,
            totals: Totals::Stored,
            case: "a contract case",
        }
    }

    /// Keeps `resource` alive until the case that received these stores ends.
    pub fn holding(mut self, resource: impl Send + Sync + 'static) -> Self {
        self.keep_alive.push(Arc::new(resource));
        self
    }

    /// Gives the cases a way to change a level's stock behind the ledger's back (see
    /// [`StockTamper`]): `tamper(tenant, variant, location, new_level_stock)`.
    pub fn tampering_with<F, Fut>(mut self, tamper: F) -> Self
    where
        F: Fn(TenantId, VariantId, LocationId, i64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tamper = Hook::Given(Arc::new(move |t, v, l, stock| {
            Box::pin(tamper(t, v, l, stock))
        }));
        self
    }

    /// Declares that this harness cannot change stock behind the store's back, and why. The
    /// cases that need it then do not run on this store, each saying so loudly.
    pub fn without_tampering(mut self, why: &'static str) -> Self {
        self.tamper = Hook::Impossible(why);
        self
    }

    /// Gives the cases a way to build a pre-location store and migrate it (see [`Migration`]):
    /// `migrate(legacy).await` returns the repositories over the migrated store.
    pub fn migrating_with<F, Fut>(mut self, migrate: F) -> Self
    where
        F: Fn(LegacyData) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Repositories> + Send + 'static,
    {
        self.migration = Hook::Given(Arc::new(move |legacy| Box::pin(migrate(legacy))));
        self
    }

    /// Declares that this harness cannot build a store in an older shape (a memory database
    /// that exists only inside the store it opens), and why. The migration cases then do not
    /// run on this store, each saying so loudly.
    pub fn without_migration(mut self, why: &'static str) -> Self {
        self.migration = Hook::Impossible(why);
        self
    }

    /// Declares that the store derives a variant's total from its levels on every read instead of
    /// storing it: the total then cannot drift from the levels, and the cases expect no total
    /// drift where a stored total would show one.
    pub fn deriving_totals(mut self) -> Self {
        self.totals = Totals::Derived;
        self
    }

    /// Whether a variant's total is derived from its levels (see [`Stores::deriving_totals`]).
    pub fn totals_derived(&self) -> bool {
        self.totals == Totals::Derived
    }

    /// Names the test these stores are for (the suite macros do this).
    pub fn for_case(mut self, case: &'static str) -> Self {
        self.case = case;
        self
    }

    /// The tamper hook, or `None` after announcing that the case does not run on this store.
    /// Panics when the harness said nothing either way.
    pub fn stock_tamper(&self) -> Option<StockTamper> {
        self.tamper.get(
            self.case,
            "to change stock behind the ledger's back",
            "tampering_with",
            "without_tampering",
        )
    }

    /// The migration hook, or `None` after announcing that the case does not run on this
    /// store. Panics when the harness said nothing either way.
    pub fn migration(&self) -> Option<Migration> {
        self.migration.get(
            self.case,
            "to build a store as an older version left it and migrate it",
            "migrating_with",
            "without_migration",
        )
    }
}

impl Deref for Stores {
    type Target = Repositories;

    fn deref(&self) -> &Repositories {
        &self.repositories
    }
}
