//! The set of repository ports a contract case runs against.

use std::ops::Deref;
use std::sync::Arc;

use domain::{AllRepositories, Repositories};

/// Every repository port of one adapter, over one fresh, empty store, plus what must stay alive
/// with it. Reads like `domain::Repositories` (`stores.ledger`, `stores.reports`, …).
#[derive(Clone)]
pub struct Stores {
    repositories: Repositories,
    /// Resources that must live as long as the store (a temporary folder, a test database);
    /// dropped when the case ends. Usually filled through [`Stores::holding`].
    pub keep_alive: Vec<Arc<dyn Send + Sync>>,
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
        }
    }

    /// Keeps `resource` alive until the case that received these stores ends.
    pub fn holding(mut self, resource: impl Send + Sync + 'static) -> Self {
        self.keep_alive.push(Arc::new(resource));
        self
    }
}

impl Deref for Stores {
    type Target = Repositories;

    fn deref(&self) -> &Repositories {
        &self.repositories
    }
}
