//! The real binary keeps stock across a restart on the same SQLite file, and drains on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::slug;

/// Starts `stockroom` on port 0 and reads the port from its start-up line.
fn start(db_url: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stockroom"))
        .env("STOCKROOM_HTTP_ADDR", "127.0.0.1:0")
        .env("STOCKROOM_SOCKET_ADDR", "127.0.0.1:0")
        .env("STOCKROOM_DATABASE_URL", db_url)
        .env(
            "STOCKROOM_JWT_SECRET",
            "restart-secret-restart-secret-restart!",
        )
        .env("STOCKROOM_LOG", "info")
        .env("STOCKROOM_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        let line = lines.next().expect("a start-up line").unwrap();
        if let Some(at) = line.find("listening on http://") {
            let rest = &line[at + "listening on ".len()..];
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, address)
}

fn stop(mut child: Child) {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "SIGTERM ends the process cleanly: {status}"
    );
}

#[tokio::test]
async fn stock_survives_a_restart_of_the_binary() {
    let Some((database, dir)) = crate::helpers::fresh_database() else {
        return;
    };
    let db_url = match &database {
        api::config::DatabaseUrl::Sqlite(_) => format!(
            "sqlite://{}",
            dir.as_ref()
                .unwrap()
                .path()
                .join("nested/stockroom.db")
                .display()
        ),
        api::config::DatabaseUrl::Mongo(url) => url.clone(),
    };
    let client = crate::helpers::http_client();
    let slug = slug("restart");

    let (child, address) = start(&db_url);
    let reg: serde_json::Value = client
        .post(format!("{address}/v1/auth/register"))
        .json(&json!({"tenantName": "R", "tenantSlug": slug, "email": "o@r.example", "password": "long enough", "name": "O"}))
        .send().await.unwrap().json().await.unwrap();
    let token = reg["token"].as_str().unwrap().to_owned();
    let product: serde_json::Value = client
        .post(format!("{address}/v1/products"))
        .bearer_auth(&token)
        .json(&json!({"name": "P"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let variant: serde_json::Value = client
        .post(format!("{address}/v1/variants"))
        .bearer_auth(&token)
        .json(&json!({"productId": product["id"], "sku": "KEEP-1", "price": 100}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = variant["id"].as_str().unwrap().to_owned();
    let res = client
        .post(format!("{address}/v1/variants/{id}/adjustments"))
        .bearer_auth(&token)
        .json(&json!({"quantity": 17, "reason": "count"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    stop(child);

    let (child, address) = start(&db_url);
    let after: serde_json::Value = client
        .get(format!("{address}/v1/variants/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["stock"], 17, "{after}");
    let audit: serde_json::Value = client
        .get(format!("{address}/v1/stock/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(audit["drift"], json!([]));
    tokio::time::sleep(Duration::from_millis(10)).await;
    stop(child);
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_stockroom"))
        .env("STOCKROOM_HTTP_ADDR", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("STOCKROOM_HTTP_ADDR"), "{stderr}");

    let help = Command::new(env!("CARGO_BIN_EXE_stockroom"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for var in [
        "STOCKROOM_HTTP_ADDR",
        "STOCKROOM_DATABASE_URL",
        "STOCKROOM_REDIS_URL",
        "STOCKROOM_JWT_SECRET",
        "STOCKROOM_LOG",
        "STOCKROOM_LOG_FORMAT",
    ] {
        assert!(help.contains(var), "--help lists {var}");
    }
}
