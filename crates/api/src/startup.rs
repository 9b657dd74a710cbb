//! Builds the process — store, lock, events, use cases, the HTTP server and the Socket.IO server —
//! on already-bound listeners, so tests can run the real thing on port 0.

use std::net::TcpListener;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use rand::RngCore;
use secrecy::SecretString;
use tokio::sync::{oneshot, watch};
use utoipa_actix_web::AppExt;

use domain::auth::service::AuthService;
use domain::clock::SystemClock;
use domain::events::{CompositePublisher, EventFanout, EventPublisher, LogPublisher};
use domain::lock::LockManager;
use domain::rate_limit::{AuthThrottle, RateLimiter};
use domain::reservations::service::ReservationService;
use domain::reservations::sweeper;
use domain::{Deps, DomainError, Services, Settings};
use infra_local::{InMemoryRateLimiter, InProcessLock};
use infra_redis::{RedisFanout, RedisLock, RedisLockConfig, RedisRateLimiter};
use realtime::{Admission, FanoutPublisher, Realtime, RealtimeService, ServeLimits};

use crate::auth::jwt::TokenService;
use crate::auth::password::Argon2Hasher;
use crate::config::Config;
use crate::http::body::BodyReadTimeout;
use crate::http::fallback::{self, KnownRoutes};
use crate::http::request_id;
use crate::metrics;
use crate::openapi;
use crate::routes::AppState;
use crate::stores;

/// How long the server keeps an idle HTTP connection open.
///
/// Whichever side closes an idle keep-alive connection can race a request the other side is
/// sending on it at that instant, and the client then sees the connection reset with no answer.
/// A client that closes its own idle connections never races itself, so this is kept longer than
/// the idle timeouts of the clients and proxies that usually sit in front (load balancers default
/// to 60 s): they close first. Clients written against Stockroom should idle out sooner.
pub const HTTP_KEEP_ALIVE: Duration = Duration::from_secs(75);

/// The Redis lock's tuning. A key outlives a holder that died (killed, lost) by its TTL, and
/// every writer of that variant waits for it meanwhile, so the TTL bounds how long a dead
/// instance blocks a hot variant: 3 s, beside the MongoDB side's bound on its open transactions
/// (`infra-mongo`'s `liveness`). A live holder needs milliseconds; one that outlives its key only
/// loses exclusivity, never correctness — the store's conditional write is the guard.
const REDIS_LOCK: RedisLockConfig = RedisLockConfig {
    ttl: Duration::from_secs(3),
    retry_min: Duration::from_millis(5),
    retry_max: Duration::from_millis(100),
    command_timeout: Duration::from_secs(1),
};

/// A built, not yet running, Stockroom.
pub struct Application {
    http_port: u16,
    socket_port: u16,
    server: Server,
    socket_listener: tokio::net::TcpListener,
    socket_service: RealtimeService,
    /// What the background sweep of expired reservations runs, and how often.
    reservations: ReservationService,
    sweep_every: Duration,
    /// What the Socket.IO listener serves at most.
    socket_limits: ServeLimits,
    /// The metrics listener's port and server, when `STOCKROOM_METRICS_ADDR` is set.
    metrics: Option<(u16, Server)>,
}

/// Test hooks: replace adapters the configuration would pick.
#[derive(Default, Clone)]
pub struct Overrides {
    /// Use this lock instead of the configured one (tests inject a no-op lock to prove the
    /// store alone refuses to oversell).
    pub lock: Option<Arc<dyn LockManager>>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Overrides::default()).await
    }

    pub async fn build_with(config: Config, overrides: Overrides) -> anyhow::Result<Self> {
        let secret = config.jwt_secret.clone().unwrap_or_else(|| {
            tracing::warn!(
                "STOCKROOM_JWT_SECRET is not set: using a random secret; tokens will not survive a restart or work across instances"
            );
            random_secret()
        });
        // Tokens of the previous secrets stay valid for one token lifetime unless told otherwise.
        let previous_until = config.jwt_previous_until.unwrap_or_else(|| {
            chrono::Duration::from_std(config.token_ttl)
                .ok()
                .and_then(|ttl| chrono::Utc::now().checked_add_signed(ttl))
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
        });
        let tokens = TokenService::rotating(
            &secret,
            &config.jwt_previous_secrets,
            previous_until,
            config.token_ttl,
        )?;

        // A socket is admitted like a request: a valid token whose user's session still stands
        // (active, token not revoked). The use case is built after the Socket.IO server (the
        // events need the server), so the verifier reaches it through a slot filled below,
        // before anything is served.
        let sessions: Arc<OnceLock<AuthService>> = Arc::default();
        let (verifier_tokens, verifier_sessions) = (tokens.clone(), sessions.clone());
        let (realtime, socket_service) = Realtime::new(
            Arc::new(move |token: &str| {
                let verified = verifier_tokens.verify_until(token);
                let auth = verifier_sessions.get().cloned();
                Box::pin(async move {
                    let (session, expires_at) =
                        verified.ok_or_else(|| "the token is invalid or expired".to_owned())?;
                    let auth = auth.ok_or_else(|| "the server is starting; retry".to_owned())?;
                    match auth.authenticate(&session).await {
                        Ok(_) => Ok(Admission {
                            tenant: session.tenant_id,
                            user: session.user_id,
                            expires_at,
                        }),
                        Err(DomainError::Unauthenticated) => {
                            Err("the session has ended; log in again".to_owned())
                        }
                        Err(error) => {
                            tracing::warn!(%error, "cannot check a socket's session");
                            Err("the session cannot be checked now; retry".to_owned())
                        }
                    }
                })
            }),
            config.cors_origins.clone(),
        );

        // Redis, when configured, serves two ports: the lock and the cross-instance fan-out.
        // Without it the lock is the in-process one, whatever the store, and events go straight
        // to this instance's sockets.
        let (redis_lock, fanout) = match &config.redis_url {
            Some(url) => {
                let lock: Arc<dyn LockManager> = Arc::new(
                    RedisLock::connect_with(url, REDIS_LOCK).context("STOCKROOM_REDIS_URL")?,
                );
                let fanout: Arc<dyn EventFanout> =
                    Arc::new(RedisFanout::connect(url).context("STOCKROOM_REDIS_URL")?);
                (Some(lock), Some(fanout))
            }
            None => (None, None),
        };
        let mut lock: Arc<dyn LockManager> = overrides
            .lock
            .or(redis_lock)
            .unwrap_or_else(|| Arc::new(InProcessLock::new()));
        // With metrics on, the lock and the ledger the use cases are handed record what they do.
        let metrics = match config.metrics_addr {
            Some(_) => Some(metrics::handle()?),
            None => None,
        };
        if metrics.is_some() {
            lock = Arc::new(metrics::TimedLock(lock));
        }
        let sockets: Arc<dyn EventPublisher> = match &fanout {
            Some(fanout) => Arc::new(FanoutPublisher::start_shared(&realtime, fanout.clone())),
            None => Arc::new(realtime.publisher()),
        };
        let events: Arc<dyn EventPublisher> =
            Arc::new(CompositePublisher(vec![Arc::new(LogPublisher), sockets]));

        let hasher = Argon2Hasher::new(config.hashing);
        let mut repositories = stores::open(&config.database).await?;
        if metrics.is_some() {
            repositories.ledger = Arc::new(metrics::MeasuredLedger(repositories.ledger));
        }
        let mut services = Services::new(Deps::new(
            repositories,
            lock.clone(),
            events,
            Arc::new(SystemClock),
            Arc::new(hasher.clone()),
            Settings {
                lock_wait: config.lock_wait,
                ..Settings::default()
            },
        ));
        // Changed sessions are announced over Redis when there is one; without it each instance
        // trusts the sessions it resolved for one second only (see domain::auth::cache).
        if let Some(url) = &config.redis_url {
            let channel = infra_redis::RedisSessionInvalidation::connect(url)
                .context("STOCKROOM_REDIS_URL")?;
            services.auth.invalidate_through(Arc::new(channel));
        }
        services.auth.limit_through(auth_throttle(&config)?);
        // Sockets are admitted through the same use case, and a user's sockets are checked
        // again (and closed if their session ended) whenever a change of it is announced.
        let _ = sessions.set(services.auth.clone());
        services.auth.on_session_change(realtime.session_listener());

        let listener = TcpListener::bind(config.http_addr).with_context(|| {
            format!(
                "cannot listen on {} (STOCKROOM_HTTP_ADDR)",
                config.http_addr
            )
        })?;
        let http_port = listener.local_addr()?.port();
        let socket_listener = tokio::net::TcpListener::bind(config.socket_addr)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} (STOCKROOM_SOCKET_ADDR)",
                    config.socket_addr
                )
            })?;
        let socket_port = socket_listener.local_addr()?.port();

        let reservations = services.reservations.clone();
        let state = web::Data::new(AppState {
            services,
            tokens,
            lock,
            fanout,
        });
        let trusted_proxies = web::Data::new(config.trusted_proxies.clone());
        let body_deadline = web::Data::new(BodyReadTimeout(config.body_read_timeout));
        let known = web::Data::new(
            KnownRoutes::from_openapi(&openapi::document())
                .with_get(openapi::DOCUMENT_PATH)
                .with_get_under(openapi::DOCS_FOLDER),
        );
        let with_metrics = metrics.is_some();
        let server = HttpServer::new(move || {
            let app = App::new()
                .app_data(state.clone())
                .app_data(known.clone())
                .app_data(trusted_proxies.clone())
                .app_data(body_deadline.clone())
                .into_utoipa_app();
            openapi::mount(app)
                .openapi_service(openapi::swagger_ui)
                .into_app()
                .default_service(web::to(fallback::not_matched))
                .wrap(Condition::new(with_metrics, from_fn(metrics::middleware)))
                .wrap(from_fn(request_id::middleware))
        })
        .listen(listener)?
        .shutdown_timeout(30)
        .keep_alive(HTTP_KEEP_ALIVE)
        .client_request_timeout(config.header_read_timeout)
        .run();
        let metrics_server = match (config.metrics_addr, metrics) {
            (Some(addr), Some(handle)) => {
                let listener = TcpListener::bind(addr)
                    .with_context(|| format!("cannot listen on {addr} (STOCKROOM_METRICS_ADDR)"))?;
                let port = listener.local_addr()?.port();
                let gauge = hasher.gauge();
                let sockets = realtime.clone();
                let gauges: metrics::Gauges = Arc::new(move || {
                    ::metrics::gauge!(metrics::SOCKETS_OPEN)
                        .set(sockets.connected_sockets() as f64);
                    ::metrics::gauge!(metrics::HASHES_RUNNING).set(gauge.running() as f64);
                });
                tracing::info!("metrics at http://{}:{port}/metrics", addr.ip());
                Some((port, metrics::serve(listener, handle, gauges)?))
            }
            _ => None,
        };
        tracing::info!(
            "Stockroom listening on http://{}:{http_port} (docs at /docs/, OpenAPI at /openapi.json); Socket.IO on port {socket_port}",
            config.http_addr.ip()
        );
        Ok(Self {
            http_port,
            socket_port,
            server,
            socket_listener,
            socket_service,
            reservations,
            sweep_every: config.reservation_sweep,
            socket_limits: ServeLimits {
                header_read_timeout: config.header_read_timeout,
                max_connections: config.socket_max_connections,
            },
            metrics: metrics_server,
        })
    }

    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    pub fn socket_port(&self) -> u16 {
        self.socket_port
    }

    /// The metrics listener's port, when metrics are on.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests (up to 30 s), stops the
    /// sweep of expired reservations and closes the Socket.IO server.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stop_sweeping, sweeping) = watch::channel(false);
        let sweeps = tokio::spawn(sweeper::run(self.reservations, self.sweep_every, sweeping));
        let (stop_sockets, stopped) = oneshot::channel::<()>();
        let sockets = tokio::spawn(realtime::serve_with(
            self.socket_listener,
            self.socket_service,
            self.socket_limits,
            async move {
                let _ = stopped.await;
            },
        ));
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let result = self.server.await;
        if let Some((handle, served)) = metrics {
            handle.stop(true).await;
            let _ = served.await;
        }
        let _ = stop_sweeping.send(true);
        let _ = stop_sockets.send(());
        sweeps.await?;
        sockets.await??;
        result?;
        Ok(())
    }
}

/// The log-in and sign-up budgets: counted in Redis when it is configured (shared by every
/// instance; this instance's own counters stand in while Redis does not answer), else here.
fn auth_throttle(config: &Config) -> anyhow::Result<AuthThrottle> {
    let local: Arc<dyn RateLimiter> = Arc::new(InMemoryRateLimiter::new());
    Ok(match &config.redis_url {
        Some(url) => AuthThrottle::new(
            Arc::new(
                RedisRateLimiter::connect(url, REDIS_LOCK.command_timeout)
                    .context("STOCKROOM_REDIS_URL")?,
            ),
            Some(local),
            config.auth_limits,
        ),
        None => AuthThrottle::new(local, None, config.auth_limits),
    })
}

fn random_secret() -> SecretString {
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    SecretString::from(hex::encode(bytes))
}
