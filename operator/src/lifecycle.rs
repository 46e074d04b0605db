//! A replica's life: serve `/healthz`, `/readyz` and `/metrics`, wait for the leader Lease (when
//! elected), reconcile while leading, and stop gracefully (running reconciles finish, the Lease
//! is released).

use std::net::TcpListener;
use std::sync::Arc;

use futures::FutureExt;
use kube::api::Api;
use kube::runtime::events::{Recorder, Reporter};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::MANAGER;
use crate::aws::AwsClients;
use crate::backoff::FailureBackoff;
use crate::cognito_api::CognitoApi;
use crate::context::Context;
use crate::controller::run_controllers;
use crate::health::{Phase, PhaseCell};
use crate::leader::{LeaseElector, LeaseSettings, Tenure};
use crate::metrics::Metrics;
use crate::server;
use crate::settings::{LeaderElection, Settings};

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
/// Lease is released) or leadership is lost. `settings` should have passed
/// [`Settings::validate`].
pub async fn run(
    settings: Settings,
    deps: Dependencies,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    run_with_metrics(settings, deps, listener, shutdown, Arc::new(Metrics::new())).await
}

/// [`run`] with a metrics instance the caller keeps (tests read counters from it).
pub async fn run_with_metrics(
    settings: Settings,
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
    let result = run_replica(&settings, deps, metrics, phase.clone(), shutdown).await;
    phase.set(Phase::Stopping);
    server_handle.stop(true).await;
    let _ = server_task.await;
    result
}

/// Reconciles at once without leader election, or while this replica holds the Lease.
async fn run_replica(
    settings: &Settings,
    deps: Dependencies,
    metrics: Arc<Metrics>,
    phase: Arc<PhaseCell>,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    let client = deps.kube;
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: MANAGER.to_owned(),
            instance: Some(settings.replica_identity.clone()),
        },
    );
    let ctx = Arc::new(Context {
        client: client.clone(),
        cognito: CognitoApi::new(
            deps.aws.clone(),
            settings.cognito_rate_limit,
            metrics.clone(),
        ),
        aws: AwsClients::new(deps.aws),
        recorder,
        metrics: metrics.clone(),
        retries: FailureBackoff::new(settings.retry_base_delay, settings.retry_max_delay),
    });

    let Some(election) = &settings.leader_election else {
        info!("leader election disabled");
        metrics.set_leader(true);
        phase.set(Phase::Syncing);
        run_controllers(ctx, settings, shutdown, phase).await;
        return Ok(());
    };
    lead(ctx, settings, election, metrics, phase, shutdown).await
}

/// Waits for the Lease, runs the controllers while holding it, and releases it on shutdown.
async fn lead(
    ctx: Arc<Context>,
    settings: &Settings,
    election: &LeaderElection,
    metrics: Arc<Metrics>,
    phase: Arc<PhaseCell>,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    let identity = &settings.replica_identity;
    let namespace = election
        .namespace
        .clone()
        .unwrap_or_else(|| ctx.client.default_namespace().to_owned());
    let elector = LeaseElector::new(
        Api::namespaced(ctx.client.clone(), &namespace),
        LeaseSettings {
            name: election.lease_name.clone(),
            identity: identity.clone(),
            lease_duration: election.lease_duration,
            renew_deadline: election.renew_deadline,
            retry_period: election.retry_period,
        },
    );
    let lease = format!("{namespace}/{}", election.lease_name);
    phase.set(Phase::Standby);
    info!(%lease, %identity, "waiting for the leader lease");
    if !elector.acquire(&lease, &shutdown).await {
        return Ok(());
    }
    info!(%lease, %identity, "leading");
    metrics.set_leader(true);
    phase.set(Phase::Syncing);
    let stop = shutdown.child_token();
    let controller_settings = settings.clone();
    let controller_stop = stop.clone();
    let mut controllers = tokio::spawn(
        async move { run_controllers(ctx, &controller_settings, controller_stop, phase).await }
            .boxed(),
    );
    let tenure = elector
        .hold_while(&lease, &shutdown, &mut controllers)
        .await;
    stop.cancel();
    if !controllers.is_finished() {
        let _ = controllers.await;
    }
    metrics.set_leader(false);
    if tenure == Tenure::Lost {
        return Err(RunError::LostLease(lease));
    }
    if let Err(e) = elector.release().await {
        warn!(%lease, error = %e, "could not release the leader lease");
    }
    Ok(())
}
