//! premium-content: the protected API.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::Parser;
use premium_content::{Config, start};

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if let Err(error) = telemetry::init(
        "premium-content",
        env!("CARGO_PKG_VERSION"),
        &config.log,
        telemetry::Defaults::SERVICE,
    ) {
        eprintln!("premium-content: {error}");
        return ExitCode::from(2);
    }

    let listener = match TcpListener::bind(config.listen_addr) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, address = %config.listen_addr, "LISTEN_ADDR: cannot bind");
            return ExitCode::FAILURE;
        }
    };
    let settings = match config.settings() {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            eprintln!("premium-content: {error}");
            return ExitCode::from(2);
        }
    };
    let server = match start(settings, listener).await {
        Ok(server) => server,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            eprintln!("premium-content: {error}");
            return ExitCode::from(2);
        }
    };
    // SIGTERM/SIGINT: readiness fails, serving goes on for SHUTDOWN_DELAY, then the drain.
    match server.await {
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
