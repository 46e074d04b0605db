//! The kube-runtime Controllers: one per watched namespace (or one for all), each watching
//! CognitoClients and the Secrets they own, and reconciling with [`cognito_client::reconcile`].

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::controller::{self, Controller};
use kube::runtime::watcher;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::cognito_client::{self, CognitoClient, secret};
use crate::context::Context;
use crate::health::{Phase, PhaseCell};
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
            .with_config(controller::Config::default().concurrency(settings.reconcile_concurrency))
            .graceful_shutdown_on(stop.clone().cancelled_owned());
        stores.push(controller.store());
        runs.push(
            controller
                .run(
                    cognito_client::reconcile::reconcile,
                    cognito_client::reconcile::error_policy,
                    ctx.clone(),
                )
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
