//! content-consumer binary: parse configuration, bind, serve until SIGTERM/SIGINT.

use clap::Parser;
use content_consumer::{Config, start};
use tracing_subscriber::EnvFilter;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    // RUST_LOG wins when set; a filter that does not parse is bad configuration, not a default.
    let (variable, filter) = match std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty()) {
        Some(rust_log) => ("RUST_LOG", rust_log),
        None => ("LOG_LEVEL", config.log_level.clone()),
    };
    let filter = match EnvFilter::try_new(&filter) {
        Ok(filter) => filter,
        Err(error) => {
            eprintln!("content-consumer: {variable}: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if config.log_format == "json" {
        logs.json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        // Colour codes only for a person at a terminal, never in collected logs.
        logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init();
    }
    let listener = match std::net::TcpListener::bind(config.listen_addr) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, addr = %config.listen_addr, "cannot bind LISTEN_ADDR");
            return std::process::ExitCode::FAILURE;
        }
    };
    let server = match start(config, listener).await {
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
