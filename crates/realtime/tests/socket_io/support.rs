//! A test server, a test token scheme and a Socket.IO client that records what it hears.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use domain::events::DomainEvent;
use domain::ids::{LocationId, MovementId, TenantId, TransferId, VariantId};
use domain::stock::models::MovementKind;
use domain::stock::state::{Claims, StockState};
use domain::values::Sku;
use futures::FutureExt;
use realtime::{Admission, Realtime, TokenVerifier};
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload, TransportType};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Test tokens: `valid:<tenant id>` is accepted for an hour, `brief:<tenant id>` for
/// [`BRIEF_TOKEN`], `expired:<tenant id>` is refused as expired, anything else as malformed.
pub fn verifier() -> TokenVerifier {
    Arc::new(|token: &str| {
        let admit = |tenant: &str, lasts: Duration| {
            let tenant = tenant.parse().map_err(|_| "malformed token".to_owned())?;
            let lasts = chrono::Duration::from_std(lasts).expect("a short duration");
            Ok(Admission {
                tenant,
                user: domain::ids::UserId::new(),
                expires_at: Utc::now() + lasts,
            })
        };
        let answer = match token.split_once(':') {
            Some(("valid", tenant)) => admit(tenant, Duration::from_secs(3600)),
            Some(("brief", tenant)) => admit(tenant, BRIEF_TOKEN),
            Some(("expired", _)) => Err("token expired".to_owned()),
            _ => Err("malformed token".to_owned()),
        };
        async move { answer }.boxed()
    })
}

/// How long a `brief:` test token stays valid.
pub const BRIEF_TOKEN: Duration = Duration::from_millis(1500);

pub fn token_for(tenant: &TenantId) -> String {
    format!("valid:{tenant}")
}

/// A running server; stopped (gracefully) when [`TestServer::stop`] is called or it is dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub realtime: Realtime,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(cors_origins: Vec<String>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (realtime, service) = Realtime::new(verifier(), cors_origins);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(realtime::serve(listener, service, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            realtime,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Signals shutdown and waits for the server to finish.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("server stopped in time")
            .expect("server task")
            .expect("server result");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// What a client heard.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    Connected,
    Error(String),
    Closed,
    Event(String, Value),
}

pub struct TestClient {
    pub client: Client,
    heard: mpsc::UnboundedReceiver<Heard>,
}

impl TestClient {
    /// The next event (not connection notices) within `within`, or `None`.
    pub async fn next_event(&mut self, within: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.heard.recv()).await {
                Ok(Some(Heard::Event(name, payload))) => return Some((name, payload)),
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Waits until the connection is gone: the server said so, or sending fails.
    pub async fn closed(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            while let Ok(heard) = self.heard.try_recv() {
                if heard == Heard::Closed {
                    return true;
                }
            }
            if self.client.emit("probe", Value::Null).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

fn first_value(payload: Payload) -> Value {
    match payload {
        Payload::Text(mut values) if !values.is_empty() => values.remove(0),
        Payload::Text(_) => Value::Null,
        Payload::Binary(bytes) => Value::String(format!("<{} binary bytes>", bytes.len())),
        #[allow(deprecated)]
        Payload::String(text) => Value::String(text),
    }
}

/// Connects with `auth` as the auth payload; `Ok` once the server accepted the socket, `Err`
/// with the error the client reported when it refused.
pub async fn connect_with(
    addr: SocketAddr,
    auth: Option<Value>,
    transport: TransportType,
) -> Result<TestClient, String> {
    let (tx, mut heard) = mpsc::unbounded_channel();
    let on_any = tx.clone();
    let on_connect = tx.clone();
    let on_error = tx.clone();
    let on_close = tx;
    let mut builder = ClientBuilder::new(format!("http://{addr}/"))
        .transport_type(transport)
        .reconnect(false)
        .on_any(move |event, payload, _| {
            let tx = on_any.clone();
            async move {
                let _ = tx.send(Heard::Event(
                    event.as_str().to_owned(),
                    first_value(payload),
                ));
            }
            .boxed()
        })
        .on(Event::Connect, move |_, _| {
            let tx = on_connect.clone();
            async move {
                let _ = tx.send(Heard::Connected);
            }
            .boxed()
        })
        .on(Event::Error, move |payload, _| {
            let tx = on_error.clone();
            async move {
                let _ = tx.send(Heard::Error(first_value(payload).to_string()));
            }
            .boxed()
        })
        .on(Event::Close, move |_, _| {
            let tx = on_close.clone();
            async move {
                let _ = tx.send(Heard::Closed);
            }
            .boxed()
        });
    if let Some(auth) = auth {
        builder = builder.auth(auth);
    }
    let client = builder.connect().await.map_err(|e| e.to_string())?;
    let outcome = tokio::time::timeout(Duration::from_secs(5), heard.recv())
        .await
        .map_err(|_| "neither connected nor refused within 5 s".to_owned())?;
    match outcome {
        Some(Heard::Connected) => Ok(TestClient { client, heard }),
        Some(Heard::Error(message)) => {
            let _ = client.disconnect().await;
            Err(message)
        }
        other => Err(format!("unexpected first notice: {other:?}")),
    }
}

pub async fn connect(addr: SocketAddr, tenant: &TenantId) -> TestClient {
    connect_with(
        addr,
        Some(serde_json::json!({ "token": token_for(tenant) })),
        TransportType::Websocket,
    )
    .await
    .expect("connected")
}

pub fn stock_changed(tenant: TenantId, stock: i64) -> DomainEvent {
    DomainEvent::StockChanged {
        tenant_id: tenant,
        variant_id: VariantId::new(),
        location_id: LocationId::new(),
        sku: Sku::new("TSHIRT-RED-M").unwrap(),
        total: StockState::new(stock, Claims::default()),
        level: StockState::new(stock, Claims::default()),
        delta: -1,
        movement: Some((MovementKind::Sale, MovementId::new())),
        order_id: None,
        reservation_id: None,
        at: Utc.timestamp_millis_opt(1_717_243_200_123).unwrap(),
    }
}

pub fn stock_low(tenant: TenantId, stock: i64) -> DomainEvent {
    DomainEvent::StockLow {
        tenant_id: tenant,
        variant_id: VariantId::new(),
        location_id: LocationId::new(),
        sku: Sku::new("MUG").unwrap(),
        stock,
        reorder_level: 5,
        at: Utc.timestamp_millis_opt(1_717_243_200_123).unwrap(),
    }
}

pub fn transfer_shipped(tenant: TenantId, units: i64) -> DomainEvent {
    DomainEvent::TransferShipped {
        tenant_id: tenant,
        transfer_id: TransferId::new(),
        from_location_id: LocationId::new(),
        to_location_id: LocationId::new(),
        units,
        at: Utc.timestamp_millis_opt(1_717_243_200_123).unwrap(),
    }
}

/// The Redis URL for fan-out tests, or `None` after a loud skip (a failure under CI).
pub fn redis_url() -> Option<String> {
    match std::env::var("STOCKROOM_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "STOCKROOM_TEST_REDIS_URL is not set: CI must run the fan-out tests — source \
             scripts/lib/redis.sh and call redis_install and redis_start first"
        ),
        _ => {
            let notice = "\n********** SKIPPED fan-out test: STOCKROOM_TEST_REDIS_URL is not set **********\n";
            let _ = std::io::Write::write_all(&mut std::io::stderr(), notice.as_bytes());
            None
        }
    }
}
