//! A small HTTP/1.1 proxy in front of an api under test that checks every answer it forwards
//! against the OpenAPI document ([`crate::conformance`]).
//!
//! Tests talk to the proxy's address as if it were the app: the helpers and the tests that build
//! their own `reqwest` calls alike, so no answer a test receives escapes the check. Each client
//! connection gets one upstream connection of its own, so keep-alive, `Connection: close` and a
//! server closing an idle connection look to the client as they would without the proxy; the
//! request body is streamed through untouched, the answer is read whole, checked, and sent on
//! with the same status and headers.
//!
//! Tests that need the raw listener — a client trickling bytes to hit the server's read
//! deadlines, or counting the server's own connections — use the app's direct address instead,
//! and say so.
//!
//! The proxies of a test binary run on one runtime of their own, so they outlive any one test's
//! runtime and start from synchronous code too.

#![allow(dead_code)]

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, OnceLock};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, TRANSFER_ENCODING};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Mutex};

use crate::conformance::{Conformance, Exchange, Recorder};

/// A running proxy: where to send requests, and the guard that fails the test on a violation.
pub struct Proxied {
    /// `http://127.0.0.1:port` of the proxy.
    pub address: String,
    pub conformance: Conformance,
}

/// Starts a proxy in front of `upstream` (`http://host:port`), checking against the project's
/// document.
pub fn start(upstream: &str) -> Proxied {
    let authority = upstream
        .strip_prefix("http://")
        .unwrap_or(upstream)
        .trim_end_matches('/');
    let upstream: SocketAddr = authority
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| panic!("the upstream {authority} resolves"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("the proxy binds a port");
    listener
        .set_nonblocking(true)
        .expect("the proxy's listener is non-blocking");
    let address = format!("http://{}", listener.local_addr().unwrap());
    let recorder = Recorder::default();
    let (stop, stopped) = oneshot::channel();
    let accepting = recorder.clone();
    runtime().spawn(async move {
        let listener = TcpListener::from_std(listener).expect("a tokio listener");
        accept(listener, upstream, accepting, stopped).await;
    });
    Proxied {
        address,
        conformance: Conformance::new(recorder, stop),
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("conformance-proxy")
            .enable_all()
            .build()
            .expect("the proxy runtime starts")
    })
}

async fn accept(
    listener: TcpListener,
    upstream: SocketAddr,
    recorder: Recorder,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { continue };
                tokio::spawn(serve(client, upstream, recorder.clone()));
            }
        }
    }
}

/// Serves one client connection over one upstream connection of its own; when the upstream
/// closes, the client connection closes too, once any answer in flight is sent.
async fn serve(client: TcpStream, upstream: SocketAddr, recorder: Recorder) {
    // Without an upstream (the app stopped) the client connection is closed unanswered, as a
    // refused connection would leave the client without an answer.
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let Ok((sender, connection)) =
        hyper::client::conn::http1::handshake::<_, Incoming>(TokioIo::new(server)).await
    else {
        return;
    };
    let (closed, upstream_closed) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = connection.await;
        let _ = closed.send(());
    });
    let sender = Arc::new(Mutex::new(sender));
    let service = hyper::service::service_fn(move |request| {
        forward(sender.clone(), recorder.clone(), request)
    });
    let serving = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(client), service);
    tokio::pin!(serving);
    tokio::select! {
        _ = serving.as_mut() => {}
        _ = upstream_closed => {
            serving.as_mut().graceful_shutdown();
            let _ = serving.await;
        }
    }
}

async fn forward(
    sender: Arc<Mutex<hyper::client::conn::http1::SendRequest<Incoming>>>,
    recorder: Recorder,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = request.method().to_string();
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| request.uri().to_string());
    let answer = {
        let mut sender = sender.lock().await;
        sender.ready().await?;
        sender.send_request(request).await?
    };
    let (mut head, body) = answer.into_parts();
    let body = body.collect().await?.to_bytes();
    let content_type = head
        .headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    recorder.record(&Exchange {
        method: &method,
        target: &target,
        status: head.status.as_u16(),
        content_type: content_type.as_deref(),
        body: &body,
    });
    // The body is sent whole now, with its length, not in the upstream's chunks.
    head.headers.remove(TRANSFER_ENCODING);
    Ok(Response::from_parts(head, Full::new(body)))
}
