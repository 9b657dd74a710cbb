//! The real binary refuses to start without a signing secret when instances may share a store or
//! a fan-out, and a lone SQLite instance still starts without one.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn stockroom() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stockroom"));
    command
        .env_remove("STOCKROOM_JWT_SECRET")
        .env_remove("STOCKROOM_REDIS_URL")
        .env_remove("STOCKROOM_JWT_PREVIOUS_SECRETS")
        .env("STOCKROOM_HTTP_ADDR", "127.0.0.1:0")
        .env("STOCKROOM_SOCKET_ADDR", "127.0.0.1:0")
        .env("STOCKROOM_LOG", "info")
        .stdin(Stdio::null());
    command
}

fn refused_with_one_line(command: &mut Command) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // A binary that does not refuse would serve forever: give it a few seconds only.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the binary started instead of refusing");
    }
    let output = child.wait_with_output().expect("the binary's output");
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("STOCKROOM_JWT_SECRET"), "{stderr}");
    assert!(lines[0].contains("must be set"), "{stderr}");
}

#[test]
fn with_mongodb_and_no_secret_the_binary_refuses_to_start_in_one_line() {
    // Nothing listens there: the refusal comes before any connection is tried.
    refused_with_one_line(
        stockroom().env("STOCKROOM_DATABASE_URL", "mongodb://127.0.0.1:9/stockroom"),
    );
}

#[test]
fn with_redis_and_no_secret_the_binary_refuses_to_start_in_one_line() {
    refused_with_one_line(
        stockroom()
            .env("STOCKROOM_DATABASE_URL", "sqlite::memory:")
            .env("STOCKROOM_REDIS_URL", "redis://127.0.0.1:9"),
    );
}

#[test]
fn sqlite_alone_still_starts_without_a_secret() {
    let mut child = stockroom()
        .env("STOCKROOM_DATABASE_URL", "sqlite::memory:")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let (tx, rx) = mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let mut seen = Vec::new();
    let listening = loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.contains("Stockroom listening") => break true,
            Ok(line) => seen.push(line),
            Err(_) => break false,
        }
    };
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(listening && still_running, "{seen:#?}");
}
