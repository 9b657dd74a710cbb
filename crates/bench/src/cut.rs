//! A TCP relay that can be cut: the api talks to Redis through it, and the outage scenario
//! takes Redis away mid-storm and brings it back without touching the Redis server itself.
//!
//! Cutting closes every relayed connection and stops listening, so the api sees what it would
//! see if Redis died: open connections drop and new ones are refused. Restoring listens again on
//! the same port. Redis keeps its keys across a cut, as it would across a network partition, so
//! a lock key held when the cut came stays until its TTL runs out.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

/// The relay; dropping it stops it and closes every connection.
pub struct CutRelay {
    port: u16,
    up: watch::Sender<bool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    task: JoinHandle<()>,
}

impl CutRelay {
    /// Relays a free local port to `target`, up from the start.
    pub async fn start(target: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the relay")?;
        let port = listener.local_addr()?.port();
        let (up, watch) = watch::channel(true);
        let connections = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(serve(listener, port, target, watch, connections.clone()));
        Ok(Self {
            port,
            up,
            connections,
            task,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drops every relayed connection and refuses new ones until [`CutRelay::restore`].
    pub fn cut(&self) {
        self.up.send_replace(false);
        for connection in self.connections.lock().expect("relay list").drain(..) {
            connection.abort();
        }
    }

    /// Listens again on the same port.
    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for CutRelay {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

async fn serve(
    first: TcpListener,
    port: u16,
    target: SocketAddr,
    mut up: watch::Receiver<bool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
) {
    let mut listener = Some(first);
    loop {
        let Some(open) = &listener else {
            // Cut: wait to be restored, then bind the same port again (the old socket may
            // take a moment to be released).
            if up.wait_for(|up| *up).await.is_err() {
                return;
            }
            for _ in 0..200 {
                if let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await {
                    listener = Some(l);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            continue;
        };
        tokio::select! {
            accepted = open.accept() => {
                let Ok((inbound, _)) = accepted else { continue };
                // Checked under the list's lock, which `cut` takes after lowering the flag: a
                // connection accepted as the cut comes is either refused here or aborted there.
                let mut list = connections.lock().expect("relay list");
                if !*up.borrow() {
                    continue;
                }
                let relay = tokio::spawn(relay(inbound, target));
                list.retain(|c| !c.is_finished());
                list.push(relay.abort_handle());
            }
            changed = up.changed() => {
                if changed.is_err() {
                    return;
                }
                if !*up.borrow() {
                    listener = None;
                }
            }
        }
    }
}

async fn relay(mut inbound: TcpStream, target: SocketAddr) {
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An echo server standing in for Redis.
    async fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn round_trip(stream: &mut TcpStream) -> bool {
        if stream.write_all(b"ping").await.is_err() {
            return false;
        }
        let mut buf = [0u8; 4];
        matches!(
            tokio::time::timeout(Duration::from_secs(1), stream.read_exact(&mut buf)).await,
            Ok(Ok(_))
        ) && &buf == b"ping"
    }

    #[tokio::test]
    async fn a_cut_drops_open_connections_refuses_new_ones_and_a_restore_relays_again() {
        let relay = CutRelay::start(echo().await).await.unwrap();
        let addr = ("127.0.0.1", relay.port());
        let mut open = TcpStream::connect(addr).await.unwrap();
        assert!(round_trip(&mut open).await);

        relay.cut();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!round_trip(&mut open).await, "the open connection is gone");
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "new connections are refused"
        );

        relay.restore();
        let mut again = None;
        for _ in 0..100 {
            if let Ok(s) = TcpStream::connect(addr).await {
                again = Some(s);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(round_trip(&mut again.expect("relaying again")).await);
    }
}
