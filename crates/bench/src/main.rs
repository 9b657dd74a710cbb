//! `stockroom-bench`: load scenarios by default, `reports` for the reports benchmark (see
//! docs/benchmarks.md). Exits non-zero when a correctness check fails.

use std::process::ExitCode;

use bench::cli::{Cli, Command};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::HelloServer { port }) = cli.command {
        return match bench::hello::serve(port) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("stockroom-bench hello-server: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let outcome = runtime.block_on(async {
        match &cli.command {
            Some(Command::Reports(args)) => bench::scenarios::reports::run(&cli.common, args).await,
            Some(Command::Outage(args)) => bench::scenarios::outage::run(&cli.common, args).await,
            _ => bench::scenarios::load_run::run(&cli.common).await,
        }
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("stockroom-bench: a correctness check failed (see the table above)");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("stockroom-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
