//! The Socket.IO server: building it, emitting to rooms, and serving it on a listener.
//!
//! The server runs on its own hyper listener rather than inside the HTTP API's framework, so the
//! long-lived WebSocket connections never compete with request handling, and so the API keeps no
//! dependency on a Socket.IO implementation. Shutdown is graceful: the listener stops accepting,
//! every socket is told the server is closing (clients reconnect elsewhere), and in-flight HTTP
//! exchanges (long-polling) are given a few seconds to finish.
//!
//! The listener is public, so it bounds what a stranger can hold: a request head must arrive
//! within [`ServeLimits::header_read_timeout`] (hyper enforces it with a Tokio timer; without a
//! timer it would wait forever for a client that sends one byte a minute), and at most
//! [`ServeLimits::max_connections`] connections are served at once — one more is answered
//! `503` with `Retry-After` and closed, before any of its bytes are read.

use std::future::Future;
use std::time::Duration;

use std::sync::Arc;

use domain::auth::ports::SessionSink;
use domain::ids::TenantId;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use socketioxide::handler::ConnectHandler;
use socketioxide::service::SocketIoService;
use socketioxide::SocketIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::Layer;
use tower_http::cors::Cors;

use crate::auth::{authenticate, on_connect, OpenSessions, Recheck, TokenVerifier, Verifier};
use crate::origin::{AllowedOrigins, OriginGuard, OriginGuardLayer};
use crate::publisher::SocketPublisher;
use crate::wire::WireEvent;

/// How long in-flight HTTP exchanges may take to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// What one listener serves at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Longest a client may take to send a request head (start line and headers).
    pub header_read_timeout: Duration,
    /// Connections served at once; one more is refused with 503.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    /// 10 s for a head (a browser sends one in one packet), 10,000 connections (one WebSocket
    /// each; far below the file descriptors of a default 65,536 limit).
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 10_000,
        }
    }
}

/// What a connection beyond the cap is told before it is closed.
const AT_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// The room every socket of `tenant` is in.
pub fn tenant_room(tenant: &TenantId) -> String {
    format!("tenant:{tenant}")
}

/// A handle on the Socket.IO server for emitting to the sockets connected to this instance.
/// Cheap to clone.
#[derive(Clone)]
pub struct Realtime {
    io: SocketIo,
    recheck: Recheck,
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realtime")
            .field("io", &self.io)
            .finish_non_exhaustive()
    }
}

/// The HTTP service to hand to [`serve`]: origin checks, CORS and Socket.IO.
#[derive(Clone)]
pub struct RealtimeService {
    http: Cors<OriginGuard<SocketIoService<NotFound>>>,
    io: SocketIo,
}

impl std::fmt::Debug for RealtimeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealtimeService").finish_non_exhaustive()
    }
}

impl Realtime {
    /// Builds the server: sockets are admitted by `verify` and put in their tenant's room; browser
    /// pages are admitted from `cors_origins` (empty: same origin only; `*`: any).
    pub fn new(verify: TokenVerifier, cors_origins: Vec<String>) -> (Realtime, RealtimeService) {
        let open = OpenSessions::default();
        let (socket_io, io) = SocketIo::builder()
            .with_state(Verifier(verify.clone()))
            .with_state(open.clone())
            .build_with_inner_svc(NotFound);
        io.ns("/", on_connect.with(authenticate));

        let origins = AllowedOrigins::from_config(cors_origins);
        let guarded = OriginGuardLayer(origins.clone()).layer(socket_io);
        let http = origins.cors_layer().layer(guarded);
        let service = RealtimeService {
            http,
            io: io.clone(),
        };
        let recheck = Recheck {
            io: io.clone(),
            verify,
            open,
        };
        (Realtime { io, recheck }, service)
    }

    /// What to hand the domain's `AuthService::on_session_change`: each announced user's
    /// sockets on this instance are checked again, and those whose session ended are closed.
    pub fn session_listener(&self) -> Arc<dyn SessionSink> {
        Arc::new(self.recheck.clone())
    }

    /// Emits `event` to its tenant's sockets on this instance. Failures are logged, not returned:
    /// events are notifications and never fail the write that caused them.
    pub async fn emit(&self, event: &WireEvent) {
        let room = tenant_room(&event.tenant_id);
        if let Err(error) = self.io.to(room).emit(&event.name, &event.payload).await {
            tracing::warn!(%error, event = %event.name, tenant = %event.tenant_id, "cannot emit event");
        }
    }

    /// A publisher that emits to this instance's sockets only (a single-instance deployment).
    pub fn publisher(&self) -> SocketPublisher {
        SocketPublisher::new(self.clone())
    }

    /// How many sockets are connected to this instance.
    pub fn connected_sockets(&self) -> usize {
        self.io.sockets().len()
    }
}

/// Answers every request that is not for Socket.IO: this port serves nothing else.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NotFound;

impl<B> tower::Service<http::Request<B>> for NotFound {
    type Response = http::Response<String>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<B>) -> Self::Future {
        let mut response = http::Response::new("not found".to_owned());
        *response.status_mut() = http::StatusCode::NOT_FOUND;
        std::future::ready(Ok(response))
    }
}

/// Serves `service` on `listener` with the default [`ServeLimits`] until `shutdown` completes,
/// then shuts down gracefully.
pub async fn serve<F>(
    listener: TcpListener,
    service: RealtimeService,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    serve_with(listener, service, ServeLimits::default(), shutdown).await
}

/// [`serve`] within `limits`.
pub async fn serve_with<F>(
    listener: TcpListener,
    service: RealtimeService,
    limits: ServeLimits,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stopping, stop) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match slots.clone().try_acquire_owned() {
                    Ok(slot) => {
                        let http = TowerToHyperService::new(service.http.clone());
                        let timeout = limits.header_read_timeout;
                        connections
                            .spawn(serve_connection(stream, http, stop.clone(), peer, timeout, slot));
                    }
                    Err(_) => {
                        tracing::warn!(%peer, cap = limits.max_connections, "realtime connections at their cap; refusing one");
                        connections.spawn(refuse(stream));
                    }
                },
                Err(error) => {
                    // Usually out of file descriptors: pause instead of spinning.
                    tracing::warn!(%error, "cannot accept a realtime connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("realtime server shutting down");
    stopping.send_replace(true);
    service.io.close().await;
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            "closing realtime connections that did not finish"
        );
        connections.abort_all();
    }
    Ok(())
}

/// Completes once shutdown has begun (or the server is gone).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// Tells a connection beyond the cap to come back later, and closes it.
async fn refuse(mut stream: tokio::net::TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(AT_CAPACITY).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Serves one connection while holding its `_slot` of the cap.
async fn serve_connection<S>(
    stream: tokio::net::TcpStream,
    http: S,
    mut stop: watch::Receiver<bool>,
    peer: std::net::SocketAddr,
    header_read_timeout: Duration,
    _slot: OwnedSemaphorePermit,
) where
    S: hyper::service::HttpService<hyper::body::Incoming> + Send + 'static,
    S::Future: Send + 'static,
    S::ResBody: Send + 'static,
    <S::ResBody as hyper::body::Body>::Data: Send,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(stream), http)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stopping(&mut stop) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, %peer, "realtime connection ended with an error");
    }
}
