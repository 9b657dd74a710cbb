//! The HTTP ceiling: an actix-web server with one empty route and nothing else.
//!
//! It runs as a separate process (`stockroom-bench hello-server`), like the api, with actix's
//! default worker count, so `read ÷ hello` compares the api's read path with the least work an
//! actix server on this machine can do per request — the same framework, client and kernel.

use std::path::Path;
use std::process::Command;

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;

use crate::child::ChildServer;

/// Serves `GET /` with an empty 200 on `127.0.0.1:port` until killed, after printing
/// "hello listening on http://127.0.0.1:<port>".
pub fn serve(port: u16) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(|| App::new().route("/", web::get().to(HttpResponse::Ok)))
            .bind(("127.0.0.1", port))
            .context("binding the hello server")?;
        let bound = server
            .addrs()
            .first()
            .copied()
            .context("no address bound")?;
        println!("hello listening on http://{bound}");
        server.run().await.context("serving hello")
    })
}

/// Starts this binary's hello server as a child process, logging to `log`.
pub fn start(log: &Path) -> anyhow::Result<ChildServer> {
    let exe = std::env::current_exe().context("locating this binary")?;
    let mut command = Command::new(exe);
    command.args(["hello-server", "--port", "0"]);
    ChildServer::start("hello", command, log)
}
