//! The in-process lock: the [`LockManager`] for a single server process.
//!
//! Each key maps to a tokio mutex, taken with an owned guard so the held lock can live inside a
//! `LockGuard` of any lifetime. The table entry also counts the callers that hold or wait for the
//! key; the last one to leave removes the entry, so the table holds only keys in use and its size
//! does not grow with the number of keys ever locked. Keys are taken one by one in the order
//! given (callers sort them, which rules out deadlock), and the whole acquisition is bounded by
//! one timeout: when it fires, the pending wait and every key already taken are dropped, which
//! releases them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use domain::lock::{LockError, LockGuard, LockKey, LockManager};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A key's mutex and how many callers hold or wait for it.
struct Entry {
    mutex: Arc<Mutex<()>>,
    users: usize,
}

type Table = StdMutex<HashMap<String, Entry>>;

/// Serialises writers of the same keys inside this process. Cheap to clone; clones share locks.
#[derive(Clone, Default)]
pub struct InProcessLock {
    table: Arc<Table>,
}

impl std::fmt::Debug for InProcessLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessLock")
            .field("keys_in_use", &self.keys_in_use())
            .finish()
    }
}

/// A caller's registration on a key; leaving decrements the count and removes an unused entry.
struct Registration {
    table: Arc<Table>,
    key: String,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = table.get_mut(&self.key) {
            entry.users -= 1;
            if entry.users == 0 {
                table.remove(&self.key);
            }
        }
    }
}

/// One held key. Field order matters: the mutex is released before the registration leaves, so
/// an entry is never removed while its mutex is still held.
struct HeldKey {
    _guard: OwnedMutexGuard<()>,
    _registration: Registration,
}

impl InProcessLock {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys are held or waited for right now.
    pub fn keys_in_use(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Registers on `key` and returns its mutex; the registration must outlive any use of it.
    fn register(&self, key: &str) -> (Registration, Arc<Mutex<()>>) {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = table.entry(key.to_owned()).or_insert_with(|| Entry {
            mutex: Arc::new(Mutex::new(())),
            users: 0,
        });
        entry.users += 1;
        let mutex = entry.mutex.clone();
        drop(table);
        (
            Registration {
                table: self.table.clone(),
                key: key.to_owned(),
            },
            mutex,
        )
    }

    async fn lock_one(&self, key: &LockKey) -> HeldKey {
        let (registration, mutex) = self.register(key.as_str());
        let guard = mutex.lock_owned().await;
        HeldKey {
            _guard: guard,
            _registration: registration,
        }
    }

    async fn lock_all(&self, keys: &[LockKey]) -> Vec<HeldKey> {
        let mut held = Vec::with_capacity(keys.len());
        for key in keys {
            held.push(self.lock_one(key).await);
        }
        held
    }
}

#[async_trait]
impl LockManager for InProcessLock {
    async fn acquire(&self, keys: &[LockKey], wait: Duration) -> Result<LockGuard, LockError> {
        match tokio::time::timeout(wait, self.lock_all(keys)).await {
            Ok(held) => Ok(LockGuard::new(held)),
            Err(_) => Err(LockError::Timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::{LocationId, TenantId, VariantId};
    use domain::stock::models::Level;

    fn key() -> LockKey {
        LockKey::level(
            &TenantId::new(),
            &Level::new(VariantId::new(), LocationId::new()),
        )
    }

    #[tokio::test]
    async fn the_table_empties_when_no_key_is_in_use() {
        let lock = InProcessLock::new();
        let (a, b) = (key(), key());
        let guard = lock
            .acquire(&[a.clone(), b.clone()], Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(lock.keys_in_use(), 2);
        // A waiter that times out must not leave its key behind either.
        let refused = lock
            .acquire(std::slice::from_ref(&b), Duration::from_millis(20))
            .await;
        assert!(matches!(refused, Err(LockError::Timeout)));
        assert_eq!(lock.keys_in_use(), 2);
        drop(guard);
        assert_eq!(lock.keys_in_use(), 0);
        for _ in 0..100 {
            drop(
                lock.acquire(&[key()], Duration::from_secs(1))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(lock.keys_in_use(), 0);
    }

    #[tokio::test]
    async fn a_waiter_gets_the_key_when_the_holder_releases_it() {
        let lock = InProcessLock::new();
        let k = key();
        let guard = lock
            .acquire(std::slice::from_ref(&k), Duration::from_secs(1))
            .await
            .unwrap();
        let waiter = {
            let (lock, k) = (lock.clone(), k.clone());
            tokio::spawn(async move { lock.acquire(&[k], Duration::from_secs(5)).await.is_ok() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(lock.keys_in_use(), 1, "holder and waiter share one entry");
        drop(guard);
        assert!(waiter.await.unwrap());
        assert_eq!(lock.keys_in_use(), 0);
    }
}
