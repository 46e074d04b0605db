//! premium-content: the protected API.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::Parser;
use premium_content::{Config, start};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    let filter = match log_filter(&config.log_level) {
        Ok(filter) => filter,
        Err(message) => {
            eprintln!("premium-content: {message}");
            return ExitCode::from(2);
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

    let listener = match TcpListener::bind(config.listen_addr) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, address = %config.listen_addr, "LISTEN_ADDR: cannot bind");
            return ExitCode::FAILURE;
        }
    };
    let server = match start(config, listener).await {
        Ok(server) => server,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            eprintln!("premium-content: {error}");
            return ExitCode::from(2);
        }
    };
    // actix stops accepting on SIGTERM/SIGINT and lets in-flight requests finish.
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

/// RUST_LOG verbatim when set; otherwise LOG_LEVEL (the seed's variable). A bare level such as
/// `DEBUG` raises only our own crates above `info`, so dependencies' debug output (request
/// internals) stays out of the log.
fn log_filter(log_level: &str) -> Result<EnvFilter, String> {
    if let Ok(rust_log) = std::env::var("RUST_LOG")
        && !rust_log.trim().is_empty()
    {
        return EnvFilter::try_new(&rust_log).map_err(|e| format!("RUST_LOG: {e}"));
    }
    let level = log_level.trim().to_ascii_lowercase();
    let directives = match level.as_str() {
        "debug" | "trace" => format!("info,premium_content={level},cognito_auth={level}"),
        "off" | "error" | "warn" | "info" => level,
        // Python logging names, as the seed's Lambda used them.
        "warning" => "warn".to_owned(),
        "critical" | "fatal" => "error".to_owned(),
        "" => "info".to_owned(),
        _ => log_level.trim().to_owned(),
    };
    EnvFilter::try_new(&directives).map_err(|e| format!("LOG_LEVEL: {e}"))
}
