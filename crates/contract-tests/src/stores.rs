//! The set of repository ports a contract case runs against, and the one thing a case may do
//! behind their back.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use domain::ids::{TenantId, VariantId};
use domain::{AllRepositories, Repositories};
use futures::future::BoxFuture;

/// Sets a variant's stock directly in the store, bypassing the ledger — what a bug, a manual fix
/// in the database or a foreign writer would do. Only a store's test harness can provide it: it
/// writes with the store's own raw access (SQL on the same file, a driver update on the same
/// database), never through a port. It MUST change exactly one variant or panic.
pub type StockTamper =
    Arc<dyn Fn(TenantId, VariantId, i64) -> BoxFuture<'static, ()> + Send + Sync>;

#[derive(Clone)]
enum Tamper {
    /// The harness said nothing: a case that needs the hook fails, so none is forgotten.
    NotGiven,
    Hook(StockTamper),
    /// The harness cannot write behind the store's back, and says why.
    Impossible(&'static str),
}

/// Every repository port of one adapter, over one fresh, empty store, plus what must stay alive
/// with it. Reads like `domain::Repositories` (`stores.ledger`, `stores.reports`, …).
#[derive(Clone)]
pub struct Stores {
    repositories: Repositories,
    /// Resources that must live as long as the store (a temporary folder, a test database);
    /// dropped when the case ends. Usually filled through [`Stores::holding`].
    pub keep_alive: Vec<Arc<dyn Send + Sync>>,
    tamper: Tamper,
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
            tamper: Tamper::NotGiven,
            case: "a contract case",
        }
    }

    /// Keeps `resource` alive until the case that received these stores ends.
    pub fn holding(mut self, resource: impl Send + Sync + 'static) -> Self {
        self.keep_alive.push(Arc::new(resource));
        self
    }

    /// Gives the cases a way to change stock behind the ledger's back (see [`StockTamper`]):
    /// `tamper(tenant, variant, new_stock)`.
    pub fn tampering_with<F, Fut>(mut self, tamper: F) -> Self
    where
        F: Fn(TenantId, VariantId, i64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tamper = Tamper::Hook(Arc::new(move |t, v, stock| Box::pin(tamper(t, v, stock))));
        self
    }

    /// Declares that this harness cannot change stock behind the store's back, and why. The
    /// cases that need it then do not run on this store, each saying so loudly.
    pub fn without_tampering(mut self, why: &'static str) -> Self {
        self.tamper = Tamper::Impossible(why);
        self
    }

    /// Names the test these stores are for (the suite macros do this).
    pub fn for_case(mut self, case: &'static str) -> Self {
        self.case = case;
        self
    }

    /// The tamper hook, or `None` after announcing that the case does not run on this store.
    /// Panics when the harness said nothing either way.
    pub fn stock_tamper(&self) -> Option<StockTamper> {
        let case = self.case;
        match &self.tamper {
            Tamper::Hook(hook) => Some(hook.clone()),
            Tamper::Impossible(why) => {
                crate::harness::announce_skip(case, &crate::harness::Skip::new(*why));
                None
            }
            Tamper::NotGiven => panic!(
                "{case} needs to change stock behind the ledger's back: the store's harness \
                 must give its Stores a hook (`Stores::tampering_with`) or say why it cannot \
                 (`Stores::without_tampering`)"
            ),
        }
    }
}

impl Deref for Stores {
    type Target = Repositories;

    fn deref(&self) -> &Repositories {
        &self.repositories
    }
}
