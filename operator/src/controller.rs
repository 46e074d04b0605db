//! The kube-runtime Controllers: per watched namespace (or one set for all), one watching
//! CognitoClients and the Secrets they own ([`cognito_client::reconcile`]) and one watching
//! CognitoResourceServers ([`resource_server::reconcile`]).

use std::sync::Arc;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::controller::{self, Controller};
use kube::runtime::watcher;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::cognito_client::{self, CognitoClient, secret};
use crate::context::Context;
use crate::health::{Phase, PhaseCell};
use crate::report::error_policy;
use crate::resource_server::{self, CognitoResourceServer};
use crate::settings::Settings;

/// Runs the Controllers until `stop` is cancelled (running reconciles finish first); sets the
/// phase to [`Phase::Ready`] once every watch has filled its cache.
pub async fn run_controllers(
    ctx: Arc<Context>,
    settings: &Settings,
    stop: CancellationToken,
    phase: Arc<PhaseCell>,
) {
    let client = ctx.client.clone();
    let scopes: Vec<Option<String>> = if settings.watch_namespaces.is_empty() {
        vec![None]
    } else {
        settings
            .watch_namespaces
            .iter()
            .cloned()
            .map(Some)
            .collect()
    };
    let mut stores = Vec::new();
    let mut runs = Vec::new();
    let config = controller::Config::default().concurrency(settings.reconcile_concurrency);
    for scope in scopes {
        let (clients, secrets, resource_servers): (
            Api<CognitoClient>,
            Api<Secret>,
            Api<CognitoResourceServer>,
        ) = match &scope {
            None => (
                Api::all(client.clone()),
                Api::all(client.clone()),
                Api::all(client.clone()),
            ),
            Some(ns) => (
                Api::namespaced(client.clone(), ns),
                Api::namespaced(client.clone(), ns),
                Api::namespaced(client.clone(), ns),
            ),
        };
        info!(
            namespace = scope.as_deref().unwrap_or("<all>"),
            "watching CognitoClients and CognitoResourceServers"
        );
        let controller = Controller::new(clients, watcher::Config::default().any_semantic())
            // Only Secrets we manage: a change to one (or its deletion) re-reconciles its owner.
            .owns(
                secrets,
                watcher::Config::default()
                    .any_semantic()
                    .labels(secret::MANAGED_SELECTOR),
            )
            .with_config(config.clone())
            .graceful_shutdown_on(stop.clone().cancelled_owned());
        let store = controller.store();
        stores.push(async move { store.wait_until_ready().await }.boxed());
        runs.push(
            controller
                .run(
                    cognito_client::reconcile::reconcile,
                    error_policy,
                    ctx.clone(),
                )
                .for_each(log_result)
                .boxed(),
        );
        let controller =
            Controller::new(resource_servers, watcher::Config::default().any_semantic())
                .with_config(config.clone())
                .graceful_shutdown_on(stop.clone().cancelled_owned());
        let store = controller.store();
        stores.push(async move { store.wait_until_ready().await }.boxed());
        runs.push(
            controller
                .run(
                    resource_server::reconcile::reconcile,
                    error_policy,
                    ctx.clone(),
                )
                .for_each(log_result)
                .boxed(),
        );
    }
    let ready = async {
        for store in stores {
            if store.await.is_err() {
                return;
            }
        }
        info!("caches synced");
        phase.set(Phase::Ready);
    };
    futures::join!(futures::future::join_all(runs), ready);
    info!("controllers stopped");
}

/// Logs what a Controller reports: a failing watch loudly, a failed reconcile (already reported
/// in the object's status) quietly.
async fn log_result<T, E: std::error::Error, Q: std::error::Error>(
    result: Result<T, controller::Error<E, Q>>,
) {
    match result {
        Err(controller::Error::QueueError(e)) => warn!(error = %e, "watch failed"),
        Err(e) => debug!(error = %e, "reconcile error"),
        Ok(_) => {}
    }
}
