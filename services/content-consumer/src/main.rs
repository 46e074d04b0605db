//! content-consumer binary: parse the command line, bind, check it into settings, serve until
//! SIGTERM/SIGINT.

use clap::Parser;
use content_consumer::{Config, start};

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    if let Err(error) = telemetry::init(
        "content-consumer",
        env!("CARGO_PKG_VERSION"),
        &config.log,
        telemetry::Defaults::SERVICE,
    ) {
        eprintln!("content-consumer: {error}");
        return std::process::ExitCode::from(2);
    }
    let listener = match std::net::TcpListener::bind(config.listen_addr) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, addr = %config.listen_addr, "cannot bind LISTEN_ADDR");
            return std::process::ExitCode::FAILURE;
        }
    };
    let settings = match config.settings() {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return std::process::ExitCode::FAILURE;
        }
    };
    let server = match start(settings, listener).await {
        Ok(server) => server,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return std::process::ExitCode::FAILURE;
        }
    };
    match server.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}
