//! Builds the process: store, lock, use cases, HTTP server — on already-bound listeners, so
//! tests can run the real thing on port 0.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use rand::RngCore;
use secrecy::SecretString;
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use domain::clock::SystemClock;
use domain::events::{EventPublisher, LogPublisher};
use domain::lock::LockManager;
use domain::{Deps, Services, Settings};

use crate::auth::jwt::TokenService;
use crate::auth::password::Argon2Hasher;
use crate::config::{Config, DatabaseUrl};
use crate::http::fallback::{self, KnownRoutes};
use crate::http::request_id;
use crate::openapi::ApiDoc;
use crate::routes::{self, AppState};

/// A built, not yet running, Stockroom.
pub struct Application {
    http_port: u16,
    server: Server,
    services: Services,
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
        let tokens = TokenService::new(&secret, config.token_ttl)?;
        let services = wire(&config, overrides).await?;

        let listener = TcpListener::bind(config.http_addr)
            .with_context(|| format!("cannot listen on {} (STOCKROOM_HTTP_ADDR)", config.http_addr))?;
        let http_port = listener.local_addr()?.port();
        let state = web::Data::new(AppState {
            services: services.clone(),
            tokens,
        });
        let known = web::Data::new(KnownRoutes::from_openapi(&crate::openapi::document()));
        let server = HttpServer::new(move || {
            App::new()
                .into_utoipa_app()
                .openapi(<ApiDoc as utoipa::OpenApi>::openapi())
                .app_data(state.clone())
                .app_data(known.clone())
                .service(scope("/v1").configure(routes::v1))
                .configure(routes::probes)
                .openapi_service(|doc| SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc))
                .into_app()
                .default_service(web::to(fallback::not_matched))
                .wrap(from_fn(request_id::middleware))
        })
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        tracing::info!(
            "Stockroom listening on http://127.0.0.1:{http_port} (docs at /docs/, OpenAPI at /openapi.json)"
        );
        Ok(Self {
            http_port,
            server,
            services,
        })
    }

    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests (up to 30 s).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await?;
        Ok(())
    }
}

fn random_secret() -> SecretString {
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    SecretString::from(hex::encode(bytes))
}

/// Picks the adapters the configuration names and builds the use cases over them.
async fn wire(config: &Config, overrides: Overrides) -> anyhow::Result<Services> {
    let events: Arc<dyn EventPublisher> = Arc::new(LogPublisher);
    let lock: Arc<dyn LockManager> = match overrides.lock {
        Some(lock) => lock,
        None => Arc::new(infra_sqlite::InProcessLock::new()),
    };
    let settings = Settings {
        lock_wait: config.lock_wait,
        ..Settings::default()
    };
    match &config.database {
        DatabaseUrl::Sqlite(url) => {
            let store = infra_sqlite::SqliteStore::open(url)
                .await
                .with_context(|| format!("cannot open the SQLite store {url}"))?;
            let s = Arc::new(store);
            Ok(Services::new(Deps {
                tenants: s.clone(),
                users: s.clone(),
                products: s.clone(),
                variants: s.clone(),
                ledger: s.clone(),
                orders: s.clone(),
                suppliers: s.clone(),
                purchase_orders: s.clone(),
                idempotency: s,
                lock,
                events,
                clock: Arc::new(SystemClock),
                hasher: Arc::new(Argon2Hasher),
                settings,
            }))
        }
        DatabaseUrl::Mongo(_) => anyhow::bail!(
            "STOCKROOM_DATABASE_URL: MongoDB support is not built into this binary"
        ),
    }
}
