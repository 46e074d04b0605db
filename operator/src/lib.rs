//! The cognito-client-operator: reconciles `CognitoClient` resources into Secrets holding Cognito
//! app client credentials read from AWS Secrets Manager or from Cognito itself.

pub mod condition;
pub mod config;
pub mod crd;
pub mod error;
pub mod leader;
pub mod metrics;
pub mod reconcile;
pub mod schedule;
pub mod secret;
pub mod server;
pub mod source;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::controller::{self, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::watcher;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

pub use config::Config;
use crd::CognitoClient;
use leader::{LeaseElector, LeaseSettings};
use metrics::Metrics;
use reconcile::Context;
use server::{Phase, PhaseCell};
use source::AwsSources;

/// What the operator talks to, built by `main` from the default chains (or by tests).
pub struct Dependencies {
    /// Kubernetes client (kubeconfig or in-cluster).
    pub kube: kube::Client,
    /// AWS SDK configuration (default chain, or a test endpoint).
    pub aws: aws_config::SdkConfig,
}

/// Why the operator stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The HTTP listener could not be used.
    #[error("serving /healthz, /readyz, /metrics: {0}")]
    Listen(#[source] std::io::Error),
    /// Another replica took the Lease or it could not be renewed in time.
    #[error("lost the leader lease {0}; stepping down")]
    LostLease(String),
}

/// Runs the operator until `shutdown` is cancelled (graceful: running reconciles finish and the
/// Lease is released) or leadership is lost.
pub async fn run(
    config: Config,
    deps: Dependencies,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    run_with_metrics(config, deps, listener, shutdown, Arc::new(Metrics::new())).await
}

/// [`run`] with a metrics instance the caller keeps (tests read counters from it).
pub async fn run_with_metrics(
    config: Config,
    deps: Dependencies,
    listener: TcpListener,
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
) -> Result<(), RunError> {
    let phase = Arc::new(PhaseCell::default());
    let server =
        server::start(listener, metrics.clone(), phase.clone()).map_err(RunError::Listen)?;
    let server_handle = server.handle();
    let server_task = tokio::spawn(server);
    let result = operate(&config, deps, metrics, phase.clone(), shutdown).await;
    phase.set(Phase::Stopping);
    server_handle.stop(true).await;
    let _ = server_task.await;
    result
}

fn identity(config: &Config) -> String {
    if !config.pod_name.is_empty() {
        return config.pod_name.clone();
    }
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| format!("cognito-client-operator-{}", std::process::id()))
}

async fn operate(
    config: &Config,
    deps: Dependencies,
    metrics: Arc<Metrics>,
    phase: Arc<PhaseCell>,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    let identity = identity(config);
    let client = deps.kube;
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: secret::MANAGER.to_owned(),
            instance: Some(identity.clone()),
        },
    );
    let ctx = Arc::new(Context::new(
        client.clone(),
        AwsSources::new(deps.aws),
        recorder,
        metrics.clone(),
        config.retry_base_delay,
        config.retry_max_delay,
    ));

    if !config.leader_election {
        info!("leader election disabled");
        metrics.set_leader(true);
        phase.set(Phase::Syncing);
        run_controllers(ctx, config.clone(), shutdown, phase).await;
        return Ok(());
    }

    let namespace = if config.leader_election_namespace.is_empty() {
        client.default_namespace().to_owned()
    } else {
        config.leader_election_namespace.clone()
    };
    let elector = LeaseElector::new(
        Api::namespaced(client.clone(), &namespace),
        LeaseSettings {
            name: config.leader_election_lease_name.clone(),
            identity: identity.clone(),
            lease_duration: config.lease_duration,
            renew_deadline: config.lease_renew_deadline,
            retry_period: config.lease_retry_period,
        },
    );
    let lease = format!("{namespace}/{}", config.leader_election_lease_name);
    phase.set(Phase::Standby);
    info!(%lease, %identity, "waiting for the leader lease");
    loop {
        match elector.try_acquire_or_renew().await {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => warn!(%lease, error = %e, "could not acquire the leader lease"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(config.lease_retry_period) => {}
        }
    }
    info!(%lease, %identity, "leading");
    metrics.set_leader(true);
    phase.set(Phase::Syncing);
    let stop = shutdown.child_token();
    let mut controllers =
        tokio::spawn(run_controllers(ctx, config.clone(), stop.clone(), phase).boxed());
    let mut last_renewal = Instant::now();
    let lost = loop {
        tokio::select! {
            _ = shutdown.cancelled() => break false,
            _ = &mut controllers => break false,
            _ = tokio::time::sleep(config.lease_retry_period) => {}
        }
        match elector.try_acquire_or_renew().await {
            Ok(true) => last_renewal = Instant::now(),
            Ok(false) => break true,
            Err(e) if last_renewal.elapsed() >= config.lease_renew_deadline => {
                warn!(%lease, error = %e, "could not renew the leader lease before the deadline");
                break true;
            }
            Err(e) => warn!(%lease, error = %e, "could not renew the leader lease; retrying"),
        }
    };
    stop.cancel();
    if !controllers.is_finished() {
        let _ = controllers.await;
    }
    metrics.set_leader(false);
    if lost {
        return Err(RunError::LostLease(lease));
    }
    if let Err(e) = elector.release().await {
        warn!(%lease, error = %e, "could not release the leader lease");
    }
    Ok(())
}

/// One Controller per watched namespace (or one for all), until `stop` is cancelled.
async fn run_controllers(
    ctx: Arc<Context>,
    config: Config,
    stop: CancellationToken,
    phase: Arc<PhaseCell>,
) {
    let client = ctx.client.clone();
    let scopes: Vec<Option<String>> = if config.watch_namespaces.0.is_empty() {
        vec![None]
    } else {
        config
            .watch_namespaces
            .0
            .iter()
            .cloned()
            .map(Some)
            .collect()
    };
    let mut stores = Vec::new();
    let mut runs = Vec::new();
    for scope in scopes {
        let (clients, secrets): (Api<CognitoClient>, Api<Secret>) = match &scope {
            None => (Api::all(client.clone()), Api::all(client.clone())),
            Some(ns) => (
                Api::namespaced(client.clone(), ns),
                Api::namespaced(client.clone(), ns),
            ),
        };
        info!(
            namespace = scope.as_deref().unwrap_or("<all>"),
            "watching CognitoClients"
        );
        let controller = Controller::new(clients, watcher::Config::default().any_semantic())
            // Only Secrets we manage: a change to one (or its deletion) re-reconciles its owner.
            .owns(
                secrets,
                watcher::Config::default()
                    .any_semantic()
                    .labels(secret::MANAGED_SELECTOR),
            )
            .with_config(controller::Config::default().concurrency(config.reconcile_concurrency))
            .graceful_shutdown_on(stop.clone().cancelled_owned());
        stores.push(controller.store());
        runs.push(
            controller
                .run(reconcile::reconcile, reconcile::error_policy, ctx.clone())
                .for_each(|result| async move {
                    match result {
                        Err(controller::Error::QueueError(e)) => warn!(error = %e, "watch failed"),
                        Err(e) => debug!(error = %e, "reconcile error"),
                        Ok(_) => {}
                    }
                }),
        );
    }
    let ready = async {
        for store in &stores {
            if store.wait_until_ready().await.is_err() {
                return;
            }
        }
        info!("caches synced");
        phase.set(Phase::Ready);
    };
    futures::join!(futures::future::join_all(runs), ready);
    info!("controllers stopped");
}
