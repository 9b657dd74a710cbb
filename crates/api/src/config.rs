//! Typed configuration from the environment (or the equivalent flags).
//!
//! Every value is checked once at start-up; a bad one stops the process with one line naming the
//! variable. The JWT secrets live in `SecretString`s and every URL that may carry a password
//! prints with it replaced by `***`, so neither reaches a log through `Debug` (of the flags or of
//! the configuration).

use std::fmt;
use std::net::SocketAddr;
use std::ops::Deref;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use secrecy::SecretString;

use domain::rate_limit::{AuthLimits, Window};

use crate::auth::password::HashingLimits;
use crate::http::client_addr::{ProxyRangeError, TrustedProxies};

#[derive(Debug, Parser)]
#[command(
    name = "stockroom",
    version,
    about = "Stockroom: multi-tenant inventory with a stock ledger, over REST and Socket.IO.",
    long_about = None
)]
pub struct Cli {
    /// Address the HTTP API listens on.
    #[arg(long, env = "STOCKROOM_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: String,
    /// Address the Socket.IO server listens on.
    #[arg(long, env = "STOCKROOM_SOCKET_ADDR", default_value = "127.0.0.1:8081")]
    pub socket_addr: String,
    /// Store: sqlite://path/to/file.db, sqlite::memory: or mongodb://host/db.
    #[arg(
        long,
        env = "STOCKROOM_DATABASE_URL",
        default_value = "sqlite://data/stockroom.db"
    )]
    pub database_url: SafeUrl,
    /// Redis for the distributed lock and event fan-out; unset = in-process lock.
    #[arg(long, env = "STOCKROOM_REDIS_URL")]
    pub redis_url: Option<SafeUrl>,
    /// HS256 signing secret, at least 32 bytes; unset = a random per-process secret (SQLite
    /// without Redis only: several instances must share one secret).
    #[arg(long, env = "STOCKROOM_JWT_SECRET", hide_env_values = true, value_parser = secret)]
    pub jwt_secret: Option<SecretString>,
    /// Secrets tokens were signed with before the current one, comma-separated: tokens they
    /// signed are still accepted until `STOCKROOM_JWT_PREVIOUS_SECRETS_UNTIL`.
    #[arg(long, env = "STOCKROOM_JWT_PREVIOUS_SECRETS", hide_env_values = true, value_parser = secret)]
    pub jwt_previous_secrets: Option<SecretString>,
    /// When the previous secrets stop being accepted (RFC 3339); unset = one token lifetime
    /// after this process started.
    #[arg(long, env = "STOCKROOM_JWT_PREVIOUS_SECRETS_UNTIL")]
    pub jwt_previous_secrets_until: Option<String>,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long, env = "STOCKROOM_TOKEN_TTL_SECS", default_value = "43200")]
    pub token_ttl_secs: String,
    /// Browser origins allowed to open Socket.IO connections, comma-separated ("*" = any).
    #[arg(long, env = "STOCKROOM_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
    /// Longest wait, in milliseconds, for the stock locks of one write.
    #[arg(long, env = "STOCKROOM_LOCK_WAIT_MS", default_value = "5000")]
    pub lock_wait_ms: String,
    /// Seconds between sweeps that store expired checkout holds as EXPIRED (expiry itself never
    /// waits for a sweep).
    #[arg(long, env = "STOCKROOM_RESERVATION_SWEEP_SECS", default_value = "5")]
    pub reservation_sweep_secs: String,
    /// Password hashes (argon2id) run at once; unset = one per core.
    #[arg(long, env = "STOCKROOM_PASSWORD_HASHES")]
    pub password_hashes: Option<String>,
    /// Longest wait, in milliseconds, for a hashing slot before a log-in or sign-up is refused
    /// with a retryable 503.
    #[arg(long, env = "STOCKROOM_PASSWORD_HASH_WAIT_MS", default_value = "2000")]
    pub password_hash_wait_ms: String,
    /// Log-in attempts per tenant and email in one window; a success resets the count.
    #[arg(long, env = "STOCKROOM_AUTH_ACCOUNT_LIMIT", default_value = "10")]
    pub auth_account_limit: String,
    /// Log-ins and sign-ups per client address in one window.
    #[arg(long, env = "STOCKROOM_AUTH_ADDRESS_LIMIT", default_value = "300")]
    pub auth_address_limit: String,
    /// Length of the log-in and sign-up rate-limit windows, in seconds.
    #[arg(long, env = "STOCKROOM_AUTH_WINDOW_SECS", default_value = "900")]
    pub auth_window_secs: String,
    /// Proxy addresses or networks (`10.0.0.0/8`) whose X-Forwarded-For is believed,
    /// comma-separated; empty = none.
    #[arg(long, env = "STOCKROOM_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Seconds a client may take to send a request head, on the HTTP and Socket.IO listeners.
    #[arg(long, env = "STOCKROOM_HEADER_READ_TIMEOUT_SECS", default_value = "10")]
    pub header_read_timeout_secs: String,
    /// Seconds a client may take to send a request body; a slower one is cut with 408.
    #[arg(long, env = "STOCKROOM_BODY_READ_TIMEOUT_SECS", default_value = "30")]
    pub body_read_timeout_secs: String,
    /// Connections the Socket.IO listener serves at once; one more is refused with 503.
    #[arg(
        long,
        env = "STOCKROOM_SOCKET_MAX_CONNECTIONS",
        default_value = "10000"
    )]
    pub socket_max_connections: String,
    /// Address of the Prometheus metrics listener (`GET /metrics`); unset = no metrics.
    #[arg(long, env = "STOCKROOM_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Tracing filter, e.g. `info` or `api=debug,info`.
    #[arg(long, env = "STOCKROOM_LOG", default_value = "info")]
    pub log: String,
    /// Log format: `pretty` or `json`.
    #[arg(long, env = "STOCKROOM_LOG_FORMAT", default_value = "pretty")]
    pub log_format: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the OpenAPI document and exit.
    Openapi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The flag parser of a secret: it goes straight into a `SecretString`.
fn secret(raw: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(raw.to_owned()))
}

/// `raw` with the password of its userinfo (`scheme://user:password@host`) replaced by `***`.
pub fn redact_url(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some(at) = authority.rfind('@') else {
        return raw.to_owned();
    };
    let (userinfo, hosts) = authority.split_at(at);
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        // A lone userinfo part may be a token (`redis://secret@host`): hide it too.
        None if !userinfo.is_empty() => "***".to_owned(),
        None => String::new(),
    };
    format!("{scheme}://{user}{hosts}{tail}")
}

/// A URL that may carry a password; `Debug` and `Display` print it redacted ([`redact_url`]).
#[derive(Clone, PartialEq, Eq)]
pub struct SafeUrl(String);

impl SafeUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for SafeUrl {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for SafeUrl {
    fn from(raw: String) -> Self {
        Self(raw)
    }
}

impl From<&str> for SafeUrl {
    fn from(raw: &str) -> Self {
        Self(raw.to_owned())
    }
}

impl std::str::FromStr for SafeUrl {
    type Err = std::convert::Infallible;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Ok(Self(raw.to_owned()))
    }
}

impl fmt::Debug for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&redact_url(&self.0), f)
    }
}

impl fmt::Display for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// Which store backs the repositories, chosen by the URL scheme.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Mongo(String),
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(url) => f.debug_tuple("Sqlite").field(&redact_url(url)).finish(),
            DatabaseUrl::Mongo(url) => f.debug_tuple("Mongo").field(&redact_url(url)).finish(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub http_addr: SocketAddr,
    pub socket_addr: SocketAddr,
    pub database: DatabaseUrl,
    pub redis_url: Option<SafeUrl>,
    /// `None` = generate a random secret for this process (refused with MongoDB or Redis).
    pub jwt_secret: Option<SecretString>,
    /// Secrets that signed tokens before the current one; their tokens are still accepted
    /// until `jwt_previous_until`.
    pub jwt_previous_secrets: Vec<SecretString>,
    /// `None` = one token lifetime after start-up.
    pub jwt_previous_until: Option<DateTime<Utc>>,
    pub token_ttl: Duration,
    pub cors_origins: Vec<String>,
    pub lock_wait: Duration,
    /// How often this instance sweeps expired reservations.
    pub reservation_sweep: Duration,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// How many password hashes run at once, and how long a call waits for a slot.
    pub hashing: HashingLimits,
    /// The log-in and sign-up budgets.
    pub auth_limits: AuthLimits,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Longest a request head may take to arrive (both listeners).
    pub header_read_timeout: Duration,
    /// Longest a request body may take to arrive.
    pub body_read_timeout: Duration,
    /// Connections served at once by the Socket.IO listener.
    pub socket_max_connections: usize,
    /// Where Prometheus scrapes `/metrics`; `None` = metrics off.
    pub metrics_addr: Option<SocketAddr>,
}

/// A configuration value that cannot be used, naming its variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn bad(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

fn socket_addr(variable: &'static str, raw: &str) -> Result<SocketAddr, ConfigError> {
    raw.parse().map_err(|_| {
        bad(
            variable,
            format!("'{raw}' is not a socket address like 127.0.0.1:8080"),
        )
    })
}

fn positive(variable: &'static str, raw: &str) -> Result<u64, ConfigError> {
    match raw.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(bad(
            variable,
            format!("'{raw}' is not a positive whole number"),
        )),
    }
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        const VAR: &str = "STOCKROOM_DATABASE_URL";
        if raw.starts_with("sqlite:") {
            let rest = raw.trim_start_matches("sqlite:").trim_start_matches("//");
            if rest.is_empty() {
                return Err(bad(
                    VAR,
                    "the sqlite URL has no path (e.g. sqlite://data/stockroom.db)",
                ));
            }
            Ok(DatabaseUrl::Sqlite(raw.to_owned()))
        } else if raw.starts_with("mongodb://") || raw.starts_with("mongodb+srv://") {
            Ok(DatabaseUrl::Mongo(raw.to_owned()))
        } else {
            Err(bad(
                VAR,
                format!("'{raw}' has an unknown scheme; use sqlite://… or mongodb://…"),
            ))
        }
    }
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Self, ConfigError> {
        use secrecy::ExposeSecret;
        let jwt_secret = match cli.jwt_secret.filter(|s| !s.expose_secret().is_empty()) {
            Some(s) if s.expose_secret().len() < 32 => {
                return Err(bad(
                    "STOCKROOM_JWT_SECRET",
                    "must be at least 32 bytes long",
                ))
            }
            other => other,
        };
        let mut jwt_previous_secrets = Vec::new();
        if let Some(all) = &cli.jwt_previous_secrets {
            for one in all.expose_secret().split(',').map(str::trim) {
                if one.is_empty() {
                    continue;
                }
                if one.len() < 32 {
                    return Err(bad(
                        "STOCKROOM_JWT_PREVIOUS_SECRETS",
                        "each secret must be at least 32 bytes long",
                    ));
                }
                jwt_previous_secrets.push(SecretString::from(one.to_owned()));
            }
        }
        let jwt_previous_until = match cli.jwt_previous_secrets_until.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(
                DateTime::parse_from_rfc3339(raw)
                    .map_err(|_| {
                        bad(
                            "STOCKROOM_JWT_PREVIOUS_SECRETS_UNTIL",
                            format!("'{raw}' is not an RFC 3339 instant like 2026-01-31T12:00:00Z"),
                        )
                    })?
                    .with_timezone(&Utc),
            ),
        };
        let redis_url = match cli.redis_url.filter(|s| !s.is_empty()) {
            Some(url) if !(url.starts_with("redis://") || url.starts_with("rediss://")) => {
                return Err(bad(
                    "STOCKROOM_REDIS_URL",
                    format!("'{url}' is not a redis:// URL"),
                ))
            }
            other => other,
        };
        let log_format = match cli.log_format.as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                return Err(bad(
                    "STOCKROOM_LOG_FORMAT",
                    format!("'{other}' is not one of: pretty, json"),
                ))
            }
        };
        if tracing_subscriber::EnvFilter::try_new(&cli.log).is_err() {
            return Err(bad(
                "STOCKROOM_LOG",
                format!("'{}' is not a valid tracing filter", cli.log),
            ));
        }
        let auth_window = Duration::from_secs(positive(
            "STOCKROOM_AUTH_WINDOW_SECS",
            &cli.auth_window_secs,
        )?);
        let auth_limits = AuthLimits {
            per_account: Window {
                limit: positive("STOCKROOM_AUTH_ACCOUNT_LIMIT", &cli.auth_account_limit)?,
                period: auth_window,
            },
            per_address: Window {
                limit: positive("STOCKROOM_AUTH_ADDRESS_LIMIT", &cli.auth_address_limit)?,
                period: auth_window,
            },
        };
        let trusted_proxies = cli
            .trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|raw| {
                raw.parse()
                    .map_err(|e: ProxyRangeError| bad("STOCKROOM_TRUSTED_PROXIES", e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)?;
        let cors_origins = cli
            .cors_origins
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let database = DatabaseUrl::parse(&cli.database_url)?;
        // A random secret is this process's alone: a token issued here would be refused by
        // every other instance sharing the store or the fan-out.
        if jwt_secret.is_none()
            && (matches!(database, DatabaseUrl::Mongo(_)) || redis_url.is_some())
        {
            return Err(bad(
                "STOCKROOM_JWT_SECRET",
                "must be set when STOCKROOM_DATABASE_URL is MongoDB or STOCKROOM_REDIS_URL is set: instances sharing them must share the signing secret",
            ));
        }
        Ok(Config {
            http_addr: socket_addr("STOCKROOM_HTTP_ADDR", &cli.http_addr)?,
            socket_addr: socket_addr("STOCKROOM_SOCKET_ADDR", &cli.socket_addr)?,
            database,
            redis_url,
            jwt_secret,
            jwt_previous_secrets,
            jwt_previous_until,
            token_ttl: Duration::from_secs(positive(
                "STOCKROOM_TOKEN_TTL_SECS",
                &cli.token_ttl_secs,
            )?),
            cors_origins,
            lock_wait: Duration::from_millis(positive(
                "STOCKROOM_LOCK_WAIT_MS",
                &cli.lock_wait_ms,
            )?),
            reservation_sweep: Duration::from_secs(positive(
                "STOCKROOM_RESERVATION_SWEEP_SECS",
                &cli.reservation_sweep_secs,
            )?),
            log_filter: cli.log,
            log_format,
            hashing: HashingLimits {
                concurrency: match cli.password_hashes.filter(|s| !s.is_empty()) {
                    Some(raw) => positive("STOCKROOM_PASSWORD_HASHES", &raw)? as usize,
                    None => HashingLimits::default().concurrency,
                },
                max_wait: Duration::from_millis(positive(
                    "STOCKROOM_PASSWORD_HASH_WAIT_MS",
                    &cli.password_hash_wait_ms,
                )?),
            },
            auth_limits,
            trusted_proxies,
            header_read_timeout: Duration::from_secs(positive(
                "STOCKROOM_HEADER_READ_TIMEOUT_SECS",
                &cli.header_read_timeout_secs,
            )?),
            body_read_timeout: Duration::from_secs(positive(
                "STOCKROOM_BODY_READ_TIMEOUT_SECS",
                &cli.body_read_timeout_secs,
            )?),
            socket_max_connections: positive(
                "STOCKROOM_SOCKET_MAX_CONNECTIONS",
                &cli.socket_max_connections,
            )? as usize,
            metrics_addr: match cli.metrics_addr.filter(|s| !s.is_empty()) {
                Some(raw) => Some(socket_addr("STOCKROOM_METRICS_ADDR", &raw)?),
                None => None,
            },
        })
    }

    /// A configuration for tests: port 0 everywhere, the given store, a fixed secret.
    pub fn for_tests(database: DatabaseUrl) -> Self {
        Config {
            http_addr: "127.0.0.1:0".parse().expect("valid address"),
            socket_addr: "127.0.0.1:0".parse().expect("valid address"),
            database,
            redis_url: None,
            jwt_secret: Some(SecretString::from("test-secret-test-secret-test-secret!!")),
            jwt_previous_secrets: Vec::new(),
            jwt_previous_until: None,
            token_ttl: Duration::from_secs(3600),
            cors_origins: Vec::new(),
            lock_wait: Duration::from_secs(5),
            reservation_sweep: Duration::from_secs(5),
            log_filter: "warn".into(),
            log_format: LogFormat::Pretty,
            hashing: HashingLimits::default(),
            // Every test client is 127.0.0.1, and tests on one Redis share its counters.
            auth_limits: AuthLimits {
                per_address: Window {
                    limit: 1_000_000,
                    ..AuthLimits::default().per_address
                },
                ..AuthLimits::default()
            },
            trusted_proxies: TrustedProxies::default(),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            socket_max_connections: 10_000,
            metrics_addr: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        let mut all = vec!["stockroom"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    }

    #[test]
    fn bad_values_name_their_variable() {
        let e = Config::from_cli(cli(&["--http-addr", "nope"])).unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_HTTP_ADDR");
        let e = Config::from_cli(cli(&["--database-url", "postgres://x"])).unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_DATABASE_URL");
        let e = Config::from_cli(cli(&["--jwt-secret", "short"])).unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_JWT_SECRET");
        let e = Config::from_cli(cli(&["--reservation-sweep-secs", "0"])).unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_RESERVATION_SWEEP_SECS");
        let e = Config::from_cli(cli(&["--log-format", "xml"])).unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_LOG_FORMAT");
        assert!(e.to_string().starts_with("STOCKROOM_LOG_FORMAT: "));
    }

    #[test]
    fn the_scheme_picks_the_store() {
        assert!(matches!(
            DatabaseUrl::parse("sqlite::memory:"),
            Ok(DatabaseUrl::Sqlite(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("mongodb://localhost/stockroom"),
            Ok(DatabaseUrl::Mongo(_))
        ));
    }

    #[test]
    fn expired_holds_are_swept_every_five_seconds_unless_told_otherwise() {
        let config = Config::from_cli(cli(&[])).unwrap();
        assert_eq!(config.reservation_sweep, Duration::from_secs(5));
        let config = Config::from_cli(cli(&["--reservation-sweep-secs", "60"])).unwrap();
        assert_eq!(config.reservation_sweep, Duration::from_secs(60));
    }

    #[test]
    fn the_auth_budgets_default_to_ten_per_account_and_300_per_address_in_15_minutes() {
        let config = Config::from_cli(cli(&[])).unwrap();
        assert_eq!(config.auth_limits, AuthLimits::default());
        assert_eq!(config.auth_limits.per_account.limit, 10);
        assert_eq!(config.auth_limits.per_address.limit, 300);
        assert_eq!(
            config.auth_limits.per_account.period,
            Duration::from_secs(900)
        );
        assert!(config.trusted_proxies.0.is_empty());
        let e = Config::from_cli(cli(&["--trusted-proxies", "10.0.0.1,nope"])).unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_TRUSTED_PROXIES");
        let e = Config::from_cli(cli(&["--trusted-proxies", "10.1.2.3/8"])).unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_TRUSTED_PROXIES");
        let config = Config::from_cli(cli(&["--trusted-proxies", "10.0.0.1, 172.28.0.0/16"]))
            .expect("an address and a network");
        assert_eq!(config.trusted_proxies.0.len(), 2);
        let e = Config::from_cli(cli(&["--auth-account-limit", "0"])).unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_AUTH_ACCOUNT_LIMIT");
    }

    #[test]
    fn the_secret_never_prints() {
        let config = Config::from_cli(cli(&["--jwt-secret", &"s".repeat(40)])).unwrap();
        assert!(!format!("{config:?}").contains(&"s".repeat(40)));
    }

    #[test]
    fn neither_the_flags_nor_the_config_print_a_secret_or_a_url_password() {
        let args = [
            "--jwt-secret",
            "current-secret-current-secret-current!!",
            "--jwt-previous-secrets",
            "previous-secret-previous-secret-previous",
            "--database-url",
            "mongodb://stock:db-pass-1234@mongo1,mongo2/stockroom?replicaSet=rs0",
            "--redis-url",
            "redis://:redis-pass-5678@cache:6379/0",
        ];
        let parsed = cli(&args);
        let flags = format!("{parsed:?}");
        let config = format!("{:?}", Config::from_cli(parsed).unwrap());
        for printed in [&flags, &config] {
            for secret in [
                "current-secret",
                "previous-secret",
                "db-pass-1234",
                "redis-pass-5678",
            ] {
                assert!(!printed.contains(secret), "{secret} in {printed}");
            }
            assert!(printed.contains("mongodb://stock:***@mongo1,mongo2/stockroom"));
            assert!(printed.contains("redis://:***@cache:6379/0"));
        }
    }

    #[test]
    fn a_url_keeps_everything_but_its_password() {
        assert_eq!(redact_url("redis://cache:6379"), "redis://cache:6379");
        assert_eq!(
            redact_url("mongodb://u:p@h/db?authSource=a@b"),
            "mongodb://u:***@h/db?authSource=a@b"
        );
        assert_eq!(redact_url("redis://token@cache"), "redis://***@cache");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
    }

    #[test]
    fn a_shared_store_or_fan_out_needs_a_shared_secret() {
        let e = Config::from_cli(cli(&["--database-url", "mongodb://localhost/stockroom"]))
            .unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_JWT_SECRET");
        let e = Config::from_cli(cli(&["--redis-url", "redis://localhost"])).unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_JWT_SECRET");
        assert!(Config::from_cli(cli(&[])).unwrap().jwt_secret.is_none());
    }

    #[test]
    fn previous_secrets_are_checked_one_by_one() {
        let e = Config::from_cli(cli(&[
            "--jwt-previous-secrets",
            &format!("{},short", "p".repeat(32)),
        ]))
        .unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_JWT_PREVIOUS_SECRETS");
        let e = Config::from_cli(cli(&["--jwt-previous-secrets-until", "tomorrow"])).unwrap_err();
        assert_eq!(e.variable, "STOCKROOM_JWT_PREVIOUS_SECRETS_UNTIL");
        let config = Config::from_cli(cli(&[
            "--jwt-previous-secrets",
            &format!("{}, {}", "p".repeat(32), "q".repeat(40)),
            "--jwt-previous-secrets-until",
            "2030-01-01T00:00:00Z",
        ]))
        .unwrap();
        assert_eq!(config.jwt_previous_secrets.len(), 2);
        assert_eq!(
            config.jwt_previous_until.unwrap().to_rfc3339(),
            "2030-01-01T00:00:00+00:00"
        );
    }
}
