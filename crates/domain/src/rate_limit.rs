//! Rate limits on log-in and sign-up: what is counted, and when a request is refused.
//!
//! Two budgets guard the unauthenticated endpoints, each a fixed window opened by its first hit:
//!
//! - **per account** (tenant slug + email, as typed, trimmed and lower-cased): every log-in
//!   attempt is counted *before* its password is checked, and a successful log-in clears the
//!   count — so what the window holds is the failures since the last success. Counting before
//!   checking makes the bound exact under concurrency: fifty guesses sent at once get the numbers
//!   1 to 50 and only the first `limit` are checked. Beyond the limit even the right password is
//!   refused until the window closes (the price of stopping a guesser; the owner waits at most
//!   one window). Sign-ups count on the (slug, email) they name, every attempt.
//! - **per client address**: every log-in and sign-up from one address counts, success or not,
//!   with a budget large enough for an office of people behind one NAT. An IPv6 client is
//!   counted by its /64, the block one subscriber is usually given (otherwise a guesser would
//!   simply walk the 2^64 addresses of its own block).
//!
//! The counters live behind the [`RateLimiter`] port, so instances sharing Redis share them. If
//! that shared counter does not answer, this instance counts on its own `fallback` (a bound per
//! instance instead of none) and says so in the log; without a fallback, it lets the request
//! through: an outage of the limiter must not lock every user out.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::DomainError;

/// A budget: at most `limit` hits per window of `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: u64,
    pub period: Duration,
}

/// The budgets of log-in and sign-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLimits {
    /// Log-in attempts (failures since the last success) per tenant and email.
    pub per_account: Window,
    /// Log-ins and sign-ups per client address.
    pub per_address: Window,
}

/// Fifteen-minute windows.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(15 * 60);

impl Default for AuthLimits {
    /// 10 failed log-ins per account per 15 minutes stops a guesser at under 1,000 guesses a
    /// day; 300 attempts per address per 15 minutes lets an office of a few hundred log in at
    /// nine o'clock, mistakes included, and still stops a script at 20 a minute.
    fn default() -> Self {
        Self {
            per_account: Window {
                limit: 10,
                period: DEFAULT_PERIOD,
            },
            per_address: Window {
                limit: 300,
                period: DEFAULT_PERIOD,
            },
        }
    }
}

/// A key's count after a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Hits in the current window, this one included.
    pub hits: u64,
    /// Time until the current window closes.
    pub resets_in: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    /// The server holding the counters cannot be reached or did not answer in time.
    #[error("rate limiter unavailable: {0}")]
    Unavailable(String),
}

/// Counters of hits per key in fixed windows.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one hit on `key` and returns the count of its current window, this hit included.
    ///
    /// The first hit on a key (or the first after its window closed) opens a window of `period`;
    /// later hits never lengthen it. MUST be atomic: `n` concurrent hits on a fresh key return
    /// the counts `1..=n`, each once. MUST return `Unavailable` when the counters' server cannot
    /// be reached, and never block longer than the adapter's own command timeout.
    async fn hit(&self, key: &str, period: Duration) -> Result<Count, RateLimitError>;

    /// Forgets `key`'s window: its next hit opens a new one at 1. MUST return `Unavailable`
    /// when the server cannot be reached.
    async fn clear(&self, key: &str) -> Result<(), RateLimitError>;
}

/// What was refused, for the log and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    Account,
    Address,
}

/// The account whose failures a log-in counts; handed back on success to clear them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountKey(String);

/// Applies [`AuthLimits`] through a [`RateLimiter`].
#[derive(Clone)]
pub struct AuthThrottle {
    limiter: Arc<dyn RateLimiter>,
    fallback: Option<Arc<dyn RateLimiter>>,
    limits: AuthLimits,
}

/// Longest single input kept in a key: more tells no two real accounts apart, and a key's size
/// stays bounded whatever a client sends.
const KEY_PART_CHARS: usize = 256;

impl AuthThrottle {
    /// Counts on `limiter`; when it is unavailable, on `fallback` if given.
    pub fn new(
        limiter: Arc<dyn RateLimiter>,
        fallback: Option<Arc<dyn RateLimiter>>,
        limits: AuthLimits,
    ) -> Self {
        Self {
            limiter,
            fallback,
            limits,
        }
    }

    pub fn limits(&self) -> AuthLimits {
        self.limits
    }

    /// Counts a log-in attempt from `client` for `tenant` and `email`; `RateLimited` when
    /// either budget is spent.
    pub async fn admit_login(
        &self,
        client: IpAddr,
        tenant: &str,
        email: &str,
    ) -> Result<AccountKey, DomainError> {
        self.spend(
            &address_key(client),
            self.limits.per_address,
            Budget::Address,
        )
        .await?;
        let account = AccountKey(account_key("login", tenant, email));
        self.spend(&account.0, self.limits.per_account, Budget::Account)
            .await?;
        Ok(account)
    }

    /// A log-in for `account` succeeded: its failures are forgotten.
    pub async fn login_succeeded(&self, account: &AccountKey) {
        if let Err(error) = self.limiter.clear(&account.0).await {
            tracing::warn!(%error, "cannot clear the failed log-ins of an account");
        }
        if let Some(fallback) = &self.fallback {
            let _ = fallback.clear(&account.0).await;
        }
    }

    /// Counts a sign-up from `client` naming `slug` and `email`; `RateLimited` when either
    /// budget is spent.
    pub async fn admit_registration(
        &self,
        client: IpAddr,
        slug: &str,
        email: &str,
    ) -> Result<(), DomainError> {
        self.spend(
            &address_key(client),
            self.limits.per_address,
            Budget::Address,
        )
        .await?;
        self.spend(
            &account_key("register", slug, email),
            self.limits.per_account,
            Budget::Account,
        )
        .await
    }

    async fn spend(&self, key: &str, window: Window, budget: Budget) -> Result<(), DomainError> {
        let count = match self.limiter.hit(key, window.period).await {
            Ok(count) => count,
            Err(error) => match &self.fallback {
                Some(fallback) => {
                    tracing::warn!(%error, "rate limiter unavailable; counting on this instance");
                    match fallback.hit(key, window.period).await {
                        Ok(count) => count,
                        Err(error) => return admit_unlimited(error),
                    }
                }
                None => return admit_unlimited(error),
            },
        };
        judge(count, window, budget)
    }
}

fn admit_unlimited(error: RateLimitError) -> Result<(), DomainError> {
    tracing::warn!(%error, "rate limiter unavailable; admitting without a limit");
    Ok(())
}

/// The rule: the `limit`th hit of a window is the last admitted; later ones wait for the window
/// to close (at least one second, as `Retry-After` counts whole seconds).
pub fn judge(count: Count, window: Window, budget: Budget) -> Result<(), DomainError> {
    if count.hits <= window.limit {
        return Ok(());
    }
    let retry_after = Duration::from_secs(count.resets_in.as_secs_f64().ceil().max(1.0) as u64);
    tracing::info!(?budget, hits = count.hits, ?retry_after, "rate limited");
    Err(DomainError::RateLimited {
        budget,
        retry_after,
    })
}

/// The counter of one client address: IPv4 as is, IPv6 by its /64 (an IPv4-mapped IPv6 address
/// as the IPv4 address it is).
pub fn address_key(client: IpAddr) -> String {
    match client {
        IpAddr::V4(v4) => format!("auth:addr:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("auth:addr:{v4}"),
            None => {
                let s = v6.segments();
                format!("auth:addr:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The counter of one account as typed: trimmed, lower-cased, each part bounded and
/// length-prefixed so that no two (tenant, email) pairs share a key.
pub fn account_key(action: &str, tenant: &str, email: &str) -> String {
    let norm = |s: &str| {
        s.trim()
            .chars()
            .take(KEY_PART_CHARS)
            .collect::<String>()
            .to_lowercase()
    };
    let (tenant, email) = (norm(tenant), norm(email));
    format!(
        "auth:{action}:{}:{tenant}:{}:{email}",
        tenant.len(),
        email.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(hits: u64, resets_in_ms: u64) -> Count {
        Count {
            hits,
            resets_in: Duration::from_millis(resets_in_ms),
        }
    }

    const TEN: Window = Window {
        limit: 10,
        period: DEFAULT_PERIOD,
    };

    #[test]
    fn the_limit_is_the_last_hit_admitted_and_the_wait_is_whole_seconds() {
        assert!(judge(count(10, 5_000), TEN, Budget::Account).is_ok());
        match judge(count(11, 4_200), TEN, Budget::Account) {
            Err(DomainError::RateLimited {
                budget,
                retry_after,
            }) => {
                assert_eq!(budget, Budget::Account);
                assert_eq!(retry_after, Duration::from_secs(5));
            }
            other => panic!("{other:?}"),
        }
        match judge(count(11, 0), TEN, Budget::Address) {
            Err(DomainError::RateLimited { retry_after, .. }) => {
                assert_eq!(retry_after, Duration::from_secs(1))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_and_a_mapped_ipv4_as_itself() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(
            address_key(mapped),
            address_key("192.0.2.7".parse().unwrap())
        );
    }

    #[test]
    fn an_account_is_the_same_however_it_is_typed_and_distinct_from_every_other() {
        assert_eq!(
            account_key("login", " Acme ", "Ada@Acme.example"),
            account_key("login", "acme", "ada@acme.example")
        );
        assert_ne!(
            account_key("login", "a:b", "c"),
            account_key("login", "a", "b:c")
        );
        assert_ne!(
            account_key("login", "acme", "ada@acme.example"),
            account_key("register", "acme", "ada@acme.example")
        );
        assert!(account_key("login", &"x".repeat(10_000), "e").len() < 300);
    }

    /// A limiter over a map, for the throttle's own tests.
    #[derive(Default)]
    struct Counter(std::sync::Mutex<std::collections::HashMap<String, u64>>);

    #[async_trait]
    impl RateLimiter for Counter {
        async fn hit(&self, key: &str, period: Duration) -> Result<Count, RateLimitError> {
            let mut map = self.0.lock().unwrap();
            let n = map.entry(key.to_owned()).or_default();
            *n += 1;
            Ok(Count {
                hits: *n,
                resets_in: period,
            })
        }

        async fn clear(&self, key: &str) -> Result<(), RateLimitError> {
            self.0.lock().unwrap().remove(key);
            Ok(())
        }
    }

    fn limits(account: u64, address: u64) -> AuthLimits {
        AuthLimits {
            per_account: Window {
                limit: account,
                period: Duration::from_secs(60),
            },
            per_address: Window {
                limit: address,
                period: Duration::from_secs(60),
            },
        }
    }

    fn refused(result: Result<impl std::fmt::Debug, DomainError>) -> Budget {
        match result {
            Err(DomainError::RateLimited { budget, .. }) => budget,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn failures_count_per_account_and_a_success_forgets_them() {
        let throttle = AuthThrottle::new(Arc::new(Counter::default()), None, limits(3, 100));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..2 {
            throttle
                .admit_login(ip, "acme", "ada@x.example")
                .await
                .unwrap();
        }
        let third = throttle
            .admit_login(ip, "acme", "ada@x.example")
            .await
            .unwrap();
        throttle.login_succeeded(&third).await;
        for _ in 0..3 {
            throttle
                .admit_login(ip, "acme", "ada@x.example")
                .await
                .unwrap();
        }
        let budget = refused(throttle.admit_login(ip, "ACME", "ada@x.example").await);
        assert_eq!(budget, Budget::Account);
        // Another account from the same address is still admitted.
        throttle
            .admit_login(ip, "acme", "bob@x.example")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn every_attempt_from_an_address_counts_whatever_the_account() {
        let throttle = AuthThrottle::new(Arc::new(Counter::default()), None, limits(100, 4));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..3 {
            throttle
                .admit_login(ip, "acme", &format!("u{i}@x.example"))
                .await
                .unwrap();
        }
        throttle
            .admit_registration(ip, "new", "o@new.example")
            .await
            .unwrap();
        let budget = refused(throttle.admit_login(ip, "acme", "z@x.example").await);
        assert_eq!(budget, Budget::Address);
        let elsewhere: IpAddr = "192.0.2.2".parse().unwrap();
        throttle
            .admit_login(elsewhere, "acme", "z@x.example")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_unavailable_limiter_counts_on_the_fallback_or_admits() {
        let mut down = MockRateLimiter::new();
        down.expect_hit()
            .returning(|_, _| Err(RateLimitError::Unavailable("down".into())));
        let down = Arc::new(down);
        let throttle = AuthThrottle::new(
            down.clone(),
            Some(Arc::new(Counter::default())),
            limits(1, 100),
        );
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        throttle
            .admit_login(ip, "acme", "a@x.example")
            .await
            .unwrap();
        refused(throttle.admit_login(ip, "acme", "a@x.example").await);

        let open = AuthThrottle::new(down, None, limits(1, 1));
        for _ in 0..3 {
            open.admit_login(ip, "acme", "a@x.example").await.unwrap();
        }
    }
}
