//! argon2id password hashing, off the async executor and bounded in how many run at once.
//!
//! Each hash takes tens of milliseconds of one core and about 19 MiB of memory (the crate's
//! default parameters). Without a bound, a burst of log-ins would start one hash per request on
//! the blocking pool (up to 512 threads): every hash slows down, memory grows with the burst, and
//! the process can be pushed out of memory. So a semaphore admits at most `concurrency` hashes
//! (about the number of cores: more cannot finish sooner), and a call that cannot get a slot
//! within `max_wait` fails with [`HashError::Busy`] — the API answers 503 with `Retry-After` —
//! instead of queueing without bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHash as Phc, SaltString};
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use async_trait::async_trait;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use domain::auth::ports::{HashError, PasswordHasher};
use domain::values::{Password, PasswordHash};

/// How many hashes run at once and how long a call waits for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    pub concurrency: usize,
    pub max_wait: Duration,
}

impl Default for HashingLimits {
    /// One hash per core; two seconds of waiting (a log-in that waits longer is better told to
    /// retry than left hanging).
    fn default() -> Self {
        Self {
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_wait: Duration::from_secs(2),
        }
    }
}

/// How many hashes are running now, and the most that ever ran at once.
#[derive(Debug, Default)]
pub struct HashingGauge {
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl HashingGauge {
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    fn enter(&self) {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// argon2id with the crate's default (OWASP-recommended) parameters. Cheap to clone; clones
/// share one set of slots.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    slots: Arc<Semaphore>,
    max_wait: Duration,
    gauge: Arc<HashingGauge>,
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        Self::new(HashingLimits::default())
    }
}

impl Argon2Hasher {
    pub fn new(limits: HashingLimits) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            max_wait: limits.max_wait,
            gauge: Arc::new(HashingGauge::default()),
        }
    }

    /// The hashes running now (metrics and tests read it).
    pub fn gauge(&self) -> Arc<HashingGauge> {
        self.gauge.clone()
    }

    async fn slot(&self) -> Result<OwnedSemaphorePermit, HashError> {
        match tokio::time::timeout(self.max_wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(HashError::Other(anyhow::anyhow!(
                "the hashing slots are closed"
            ))),
            Err(_elapsed) => {
                tracing::warn!(wait = ?self.max_wait, "password hashing is saturated; refusing");
                Err(HashError::Busy)
            }
        }
    }

    /// Runs `work` on the blocking pool holding a slot, counted by the gauge while it runs.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = self.slot().await?;
        let gauge = self.gauge.clone();
        tokio::task::spawn_blocking(move || {
            gauge.enter();
            let out = work();
            gauge.leave();
            drop(permit);
            out
        })
        .await
        .map_err(|e| HashError::Other(anyhow::anyhow!("password hashing task failed: {e}")))
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let password = password.clone();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| PasswordHash::from_phc(h.to_string()))
                .map_err(|e| HashError::Other(anyhow::anyhow!("failed to hash a password: {e}")))
        })
        .await?
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        let password = password.clone();
        let hash = hash.clone();
        self.run(move || {
            Phc::new(hash.as_str())
                .map(|phc| {
                    Argon2::default()
                        .verify_password(password.expose().as_bytes(), &phc)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hasher = Argon2Hasher::default();
        let password = Password::new("correct horse battery").unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(hasher.verify(&password, &hash).await.unwrap());
        assert!(!hasher
            .verify(&Password::new("wrong password").unwrap(), &hash)
            .await
            .unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_checks_never_run_more_hashes_than_the_slots() {
        let hasher = Argon2Hasher::new(HashingLimits {
            concurrency: 2,
            max_wait: Duration::from_secs(60),
        });
        let password = Password::new("correct horse battery").unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        let checks: Vec<_> = (0..12)
            .map(|_| {
                let (hasher, password, hash) = (hasher.clone(), password.clone(), hash.clone());
                tokio::spawn(async move { hasher.verify(&password, &hash).await })
            })
            .collect();
        for check in checks {
            assert!(check.await.unwrap().unwrap());
        }
        let gauge = hasher.gauge();
        assert_eq!(gauge.running(), 0);
        // Twelve checks at once on a multi-threaded runtime reach the bound, and never pass it.
        assert_eq!(gauge.peak(), 2, "at most two hashes at once");
    }

    #[tokio::test]
    async fn a_check_that_cannot_get_a_slot_in_time_is_busy() {
        let hasher = Argon2Hasher::new(HashingLimits {
            concurrency: 1,
            max_wait: Duration::from_millis(20),
        });
        let held = hasher.slots.clone().acquire_owned().await.unwrap();
        let password = Password::new("correct horse battery").unwrap();
        let refused = hasher.hash(&password).await.unwrap_err();
        assert!(matches!(refused, HashError::Busy), "{refused:?}");
        drop(held);
        assert!(hasher.hash(&password).await.is_ok());
    }
}
