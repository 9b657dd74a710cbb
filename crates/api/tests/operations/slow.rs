//! A client that sends its request slowly, or holds too many connections, is cut off within the
//! configured bounds on both listeners.
//!
//! These tests talk raw TCP to the app's own ports (`http_port`, `socket_port`), not through the
//! recording proxy: the deadlines under test are the server's, which a proxy in between would
//! hide.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::spawn;

/// Sends `head` at once, then one byte of `trickle` every 200 ms (as a slow client does), while
/// reading what the server answers. Returns the answer and how long until the server closed, or
/// `None` if it was still open after `give_up`.
async fn trickle(
    port: u16,
    head: &str,
    trickle: &str,
    give_up: Duration,
) -> Option<(String, Duration)> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let started = Instant::now();
    write.write_all(head.as_bytes()).await.unwrap();
    let bytes = trickle.as_bytes().to_vec();
    let writer = tokio::spawn(async move {
        for b in bytes {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write.write_all(&[b]).await.is_err() {
                return;
            }
        }
        // Keep the connection open without sending more.
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(write);
    });
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(give_up, async {
        let mut buf = [0u8; 1024];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    writer.abort();
    closed.ok().map(|()| {
        (
            String::from_utf8_lossy(&answer).into_owned(),
            started.elapsed(),
        )
    })
}

const SLOW: &str =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

#[tokio::test]
async fn a_body_sent_slowly_is_cut_with_408_within_the_deadline() {
    let app = spawn(|c| c.body_read_timeout = Duration::from_secs(1)).await;
    let head = "POST /v1/auth/login HTTP/1.1\r\nHost: stockroom\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"tenant\":\"";
    let (answer, took) = trickle(app.http_port, head, SLOW, Duration::from_secs(6))
        .await
        .expect("the server closes the connection");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request-timeout"), "{answer}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[tokio::test]
async fn a_request_head_sent_slowly_is_cut_within_the_deadline() {
    let app = spawn(|c| c.header_read_timeout = Duration::from_secs(1)).await;
    let (answer, took) = trickle(
        app.http_port,
        "GET /health HTTP/1.1\r\nX-Slow: ",
        SLOW,
        Duration::from_secs(8),
    )
    .await
    .expect("the server closes the connection");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[tokio::test]
async fn a_socket_request_head_sent_slowly_is_cut_within_the_deadline() {
    let app = spawn(|c| c.header_read_timeout = Duration::from_secs(1)).await;
    let head = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nX-Slow: ";
    let (answer, took) = trickle(app.socket_port, head, SLOW, Duration::from_secs(8))
        .await
        .expect("the server closes the connection");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

/// Reads what the server sends on `stream` until it closes or `within` passes.
async fn answer(stream: &mut TcpStream, within: Duration) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(within, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn the_socket_listener_refuses_the_connection_beyond_its_cap() {
    let app = spawn(|c| {
        c.socket_max_connections = 2;
        c.header_read_timeout = Duration::from_secs(30);
    })
    .await;
    let port = app.socket_port;
    let held_one = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let _held_two = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // Give the listener the moment it needs to accept both.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut third = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let refused = answer(&mut third, Duration::from_secs(3)).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused:?}");
    assert!(
        refused.to_lowercase().contains("retry-after: 1"),
        "{refused}"
    );

    // A slot freed is a slot served again.
    drop(held_one);
    let mut served = String::new();
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut next = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        next.write_all(b"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        served = answer(&mut next, Duration::from_secs(3)).await;
        if served.starts_with("HTTP/1.1 404") {
            break;
        }
    }
    assert!(served.starts_with("HTTP/1.1 404"), "{served:?}");
}
