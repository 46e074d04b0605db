//! cognito-client-operator: reconciles CognitoClient resources into Secrets.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::Parser;
use cognito_client_operator::{Config, Dependencies, run};
use tokio_util::sync::CancellationToken;
use tracing::{error, info};
use tracing_subscriber::EnvFilter;

fn init_tracing(config: &Config) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| config.log_level.clone());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|e| {
        eprintln!("LOG_LEVEL/RUST_LOG {filter:?} is not a log filter ({e}); using info");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            error!(error = %e, "cannot listen for SIGTERM");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if let Err(e) = config.check() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    init_tracing(&config);
    let listener = match TcpListener::bind(config.listen_addr) {
        Ok(l) => l,
        Err(e) => {
            error!("LISTEN_ADDR {}: {e}", config.listen_addr);
            return ExitCode::FAILURE;
        }
    };
    let kube = match kube::Client::try_default().await {
        Ok(c) => c,
        Err(e) => {
            error!("cannot configure the Kubernetes client (KUBECONFIG or in-cluster): {e}");
            return ExitCode::FAILURE;
        }
    };
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("shutting down");
        trigger.cancel();
        // A second signal forces the exit.
        shutdown_signal().await;
        std::process::exit(130);
    });
    match run(config, Dependencies { kube, aws }, listener, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            ExitCode::FAILURE
        }
    }
}
