//! On a standalone MongoDB (no replica set, so no transactions) the binary refuses to start with
//! one line saying what to do — it never falls back to something weaker.

use std::process::Command;

#[test]
fn a_standalone_server_is_refused_at_start_up() {
    let url = match std::env::var("STOCKROOM_TEST_MONGO_STANDALONE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("CI").is_some() => {
            panic!("STOCKROOM_TEST_MONGO_STANDALONE_URL is not set; run ./scripts/test.sh")
        }
        _ => {
            // Written past the test harness's output capture, so the skip is seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "!!!!! SKIPPED a_standalone_server_is_refused_at_start_up: \
                 STOCKROOM_TEST_MONGO_STANDALONE_URL is not set !!!!!"
            );
            return;
        }
    };
    let out = Command::new(env!("CARGO_BIN_EXE_stockroom"))
        .env("STOCKROOM_HTTP_ADDR", "127.0.0.1:0")
        .env("STOCKROOM_SOCKET_ADDR", "127.0.0.1:0")
        .env("STOCKROOM_DATABASE_URL", &url)
        // MongoDB needs a shared signing secret: without one the refusal would be about that.
        .env(
            "STOCKROOM_JWT_SECRET",
            "a-secret-shared-by-every-instance-0123",
        )
        .env("STOCKROOM_LOG", "off")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the binary must not start");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("replica set"), "{stderr}");
}
