//! cognito-client-operator: reconciles CognitoClient resources into Secrets.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::Parser;
use cognito_client_operator::{Config, Dependencies, run};
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

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
    let settings = match config.settings() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = telemetry::init(
        "cognito-client-operator",
        env!("CARGO_PKG_VERSION"),
        &config.log,
        telemetry::Defaults::SERVICE,
    ) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
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
    match run(settings, Dependencies { kube, aws }, listener, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            ExitCode::FAILURE
        }
    }
}
