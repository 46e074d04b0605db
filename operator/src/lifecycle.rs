//! A replica's life: serve `/healthz`, `/readyz` and `/metrics`, wait for the leader Lease (when
//! elected), reconcile while leading, step down to standby when the Lease is lost (another
//! holder, or an API server away past the renew deadline) and lead again once it is won back,
//! and stop gracefully (running reconciles finish, the Lease is released).

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
use crate::health::{self, Phase, PhaseCell};
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
}

/// Runs the operator until `shutdown` is cancelled (graceful: running reconciles finish and the
/// Lease is released). A lost Lease is no reason to stop: the replica stands by and competes
/// for it again. `settings` should have passed
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
    let beats = {
        let phase = phase.clone();
        tokio::spawn(async move {
            loop {
                phase.beat();
                tokio::time::sleep(health::BEAT_INTERVAL).await;
            }
        })
    };
    let server =
        server::start(listener, metrics.clone(), phase.clone()).map_err(RunError::Listen)?;
    let server_handle = server.handle();
    let server_task = tokio::spawn(server);
    let result = run_replica(&settings, deps, metrics, phase.clone(), shutdown).await;
    phase.set(Phase::Stopping);
    server_handle.stop(true).await;
    let _ = server_task.await;
    beats.abort();
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

/// Waits for the Lease, runs the controllers while holding it, stands by again when it is lost,
/// and releases it on shutdown.
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
    loop {
        phase.set(Phase::Standby);
        info!(%lease, %identity, "waiting for the leader lease");
        let Some(renewed) = elector.acquire(&lease, &shutdown).await else {
            return Ok(());
        };
        info!(%lease, %identity, "leading");
        metrics.set_leader(true);
        phase.set(Phase::Syncing);
        let stop = shutdown.child_token();
        let (controller_ctx, controller_settings) = (ctx.clone(), settings.clone());
        let (controller_stop, controller_phase) = (stop.clone(), phase.clone());
        let mut controllers = tokio::spawn(
            async move {
                run_controllers(
                    controller_ctx,
                    &controller_settings,
                    controller_stop,
                    controller_phase,
                )
                .await
            }
            .boxed(),
        );
        let tenure = elector
            .hold_while(&lease, renewed, &shutdown, &mut controllers)
            .await;
        stop.cancel();
        // Another replica may take over once the lease duration has passed since the last
        // renewal, and this one gave up at the renew deadline: the rest is how long its
        // reconciles may take to finish. Any still running then are cancelled, as a crash
        // would (reconciles are written to survive that), so two leaders never act at once.
        let grace = election
            .lease_duration
            .saturating_sub(election.renew_deadline)
            / 2;
        if !controllers.is_finished()
            && tokio::time::timeout(grace, &mut controllers).await.is_err()
        {
            warn!(%lease, ?grace, "reconciles still running after stepping down; cancelled");
            controllers.abort();
            let _ = controllers.await;
        }
        metrics.set_leader(false);
        if tenure == Tenure::Ended {
            break;
        }
        warn!(%lease, %identity,
            "lost the leader lease; stopped reconciling and standing by to win it back");
    }
    if let Err(e) = elector.release().await {
        warn!(%lease, error = %e, "could not release the leader lease");
    }
    Ok(())
}
