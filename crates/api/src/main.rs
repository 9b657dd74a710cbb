//! The `stockroom` binary: `stockroom` serves, `stockroom openapi` prints the OpenAPI document.

use api::config::{Cli, Command, Config};
use api::startup::Application;
use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        println!("{}", api::openapi::document_json());
        return std::process::ExitCode::SUCCESS;
    }
    let config = match Config::from_cli(cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("stockroom: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    api::telemetry::init(&config.log_filter, config.log_format);
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("start-up failed: {e:#}");
            eprintln!("stockroom: start-up failed: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stockroom: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
