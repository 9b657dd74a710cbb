//! Starting the app with a changed test configuration.

use api::config::{Config, DatabaseUrl};
use api::startup::{Application, Overrides};

pub use crate::http_client::http_client;

pub struct Running {
    /// `http://127.0.0.1:port`
    pub address: String,
    pub http_port: u16,
    pub socket_port: u16,
    pub client: reqwest::Client,
    pub _dir: tempfile::TempDir,
}

/// The app on a fresh SQLite file, its test configuration changed by `configure`.
pub async fn spawn(configure: impl FnOnce(&mut Config)) -> Running {
    if std::env::var("TEST_LOG").is_ok() {
        api::telemetry::init("info", api::config::LogFormat::Pretty);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("stockroom.db").display());
    let mut config = Config::for_tests(DatabaseUrl::Sqlite(url));
    configure(&mut config);
    let app = Application::build_with(config, Overrides::default())
        .await
        .expect("the app builds");
    let (http_port, socket_port) = (app.http_port(), app.socket_port());
    tokio::spawn(app.run_until_stopped());
    Running {
        address: format!("http://127.0.0.1:{http_port}"),
        http_port,
        socket_port,
        client: http_client(),
        _dir: dir,
    }
}
