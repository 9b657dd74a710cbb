//! Who gets in: token checks at connect, and origin checks on every request.

use std::net::SocketAddr;
use std::time::Duration;

use domain::events::EventPublisher;
use domain::ids::TenantId;
use rust_socketio::TransportType;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{connect, connect_with, stock_low, token_for, TestServer, BRIEF_TOKEN};

async fn refusal(server: &TestServer, auth: Option<serde_json::Value>) -> String {
    match connect_with(server.addr, auth, TransportType::Websocket).await {
        Ok(_) => panic!("the connection was accepted"),
        Err(message) => message,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_token_is_refused_with_connect_error() {
    let server = TestServer::start(vec![]).await;
    let message = refusal(&server, Some(json!({ "token": "forged" }))).await;
    assert!(message.contains("ConnectError"), "{message}");
    assert!(
        message.contains("invalid token: malformed token"),
        "{message}"
    );
    assert_eq!(server.realtime.connected_sockets(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_with_connect_error() {
    let server = TestServer::start(vec![]).await;
    let token = format!("expired:{}", TenantId::new());
    let message = refusal(&server, Some(json!({ "token": token }))).await;
    assert!(
        message.contains("invalid token: token expired"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_without_a_token_is_refused_with_connect_error() {
    let server = TestServer::start(vec![]).await;
    let message = refusal(&server, None).await;
    assert!(message.contains("authentication required"), "{message}");
    let message = refusal(&server, Some(json!({ "jwt": "x" }))).await;
    assert!(message.contains("authentication required"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_long_polling_transport_works_too() {
    let server = TestServer::start(vec![]).await;
    let tenant = TenantId::new();
    let mut client = connect_with(
        server.addr,
        Some(json!({ "token": token_for(&tenant) })),
        TransportType::Polling,
    )
    .await
    .expect("connected over polling");
    server
        .realtime
        .publisher()
        .publish(vec![stock_low(tenant, 1)])
        .await;
    let (name, _) = client
        .next_event(Duration::from_secs(5))
        .await
        .expect("event");
    assert_eq!(name, "stock.low");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_is_told_and_closed_when_its_token_expires() {
    let server = TestServer::start(vec![]).await;
    let tenant = TenantId::new();
    let mut lasting = connect(server.addr, &tenant).await;
    let mut brief = connect_with(
        server.addr,
        Some(json!({ "token": format!("brief:{tenant}") })),
        TransportType::Websocket,
    )
    .await
    .expect("connected with a brief token");
    assert_eq!(server.realtime.connected_sockets(), 2);

    let (name, notice) = brief
        .next_event(BRIEF_TOKEN + Duration::from_secs(5))
        .await
        .expect("the expiry notice");
    assert_eq!(name, realtime::SESSION_EXPIRED);
    assert!(notice["expiredAt"].is_string(), "{notice}");
    assert!(brief.closed(Duration::from_secs(5)).await, "still open");

    // The socket whose token is still valid stays in and keeps hearing its tenant's events.
    server
        .realtime
        .publisher()
        .publish(vec![stock_low(tenant, 1)])
        .await;
    let (name, _) = lasting
        .next_event(Duration::from_secs(5))
        .await
        .expect("the lasting socket still hears events");
    assert_eq!(name, "stock.low");
    // The client can read the disconnect packet before the server has finished removing the
    // socket, so the count is awaited rather than read once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while server.realtime.connected_sockets() != 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.realtime.connected_sockets(), 1);
}

/// Sends one HTTP/1.1 GET and returns the status and the lowercased response head. A
/// `Connection` header is added (`close`) unless `headers` has one.
async fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("connection"))
    {
        request.push_str("Connection: close\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();

    let mut response = Vec::new();
    let read_head = async {
        let mut buf = [0u8; 1024];
        while !response.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed before the response head");
            response.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read_head)
        .await
        .expect("response in time");
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    (status, head)
}

const HANDSHAKE: &str = "/socket.io/?EIO=4&transport=polling";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_from_origins_not_allowed_are_refused_even_for_websockets() {
    let server = TestServer::start(vec!["https://app.example".into()]).await;
    let evil = [("Origin", "https://evil.example")];
    assert_eq!(http_get(server.addr, HANDSHAKE, &evil).await.0, 403);

    let path = "/socket.io/?EIO=4&transport=websocket";
    let upgrade_from = |origin| {
        [
            ("Origin", origin),
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]
    };
    let (status, _) = http_get(server.addr, path, &upgrade_from("https://evil.example")).await;
    assert_eq!(status, 403);
    let (status, head) = http_get(server.addr, path, &upgrade_from("https://app.example")).await;
    assert_eq!(status, 101, "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_origins_get_cors_headers() {
    let server = TestServer::start(vec!["https://app.example".into()]).await;
    let (status, head) =
        http_get(server.addr, HANDSHAKE, &[("Origin", "https://app.example")]).await;
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("access-control-allow-origin: https://app.example"),
        "{head}"
    );

    let any = TestServer::start(vec!["*".into()]).await;
    let (status, head) = http_get(any.addr, HANDSHAKE, &[("Origin", "https://x.example")]).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_origins_configured_only_the_same_origin_and_non_browsers_pass() {
    let server = TestServer::start(vec![]).await;
    let own = format!("http://{}", server.addr);
    assert_eq!(
        http_get(server.addr, HANDSHAKE, &[("Origin", &own)])
            .await
            .0,
        200
    );
    assert_eq!(http_get(server.addr, HANDSHAKE, &[]).await.0, 200);
    let (status, head) =
        http_get(server.addr, HANDSHAKE, &[("Origin", "https://app.example")]).await;
    assert_eq!(status, 403);
    assert!(!head.contains("access-control-allow-origin"), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_paths_are_not_found() {
    let server = TestServer::start(vec![]).await;
    assert_eq!(http_get(server.addr, "/", &[]).await.0, 404);
    assert_eq!(http_get(server.addr, "/api/v1/products", &[]).await.0, 404);
}
