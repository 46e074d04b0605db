//! cognito-authorizer: the verifier and a route policy in front of any HTTP API.

use std::process::ExitCode;

use clap::Parser;
use cognito_authorizer::{Config, start};

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if let Err(error) = telemetry::init(
        "cognito-authorizer",
        env!("CARGO_PKG_VERSION"),
        &config.log,
        telemetry::Defaults::SERVICE,
    ) {
        eprintln!("cognito-authorizer: {error}");
        return ExitCode::from(2);
    }
    let settings = match config.settings() {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!("cannot start: {error}");
            eprintln!("cognito-authorizer: {error}");
            return ExitCode::from(2);
        }
    };
    let running = match start(settings).await {
        Ok(running) => running,
        Err(error) => {
            // The message names the variable or the policy's file and line at fault.
            tracing::error!("cannot start: {error}");
            eprintln!("cognito-authorizer: {error}");
            return ExitCode::from(2);
        }
    };
    // SIGTERM/SIGINT: readiness fails, serving goes on for SHUTDOWN_DELAY, then the drain.
    match running.wait().await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
