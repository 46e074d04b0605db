//! The kube-runtime Controllers: per watched namespace (or one set for all), one watching
//! CognitoClients and the Secrets they own ([`cognito_client::reconcile`]) and one watching
//! CognitoResourceServers ([`resource_server::reconcile`]).

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::Resource;
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::store::WriterDropped;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::backoff::{NoBackoff, WatchBackoff};
use crate::cognito_client::{self, CognitoClient, secret};
use crate::condition::{self, Reason};
use crate::context::Context;
use crate::health::{Phase, PhaseCell};
use crate::report::{ReportError, error_policy};
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
    let mut running = Running::default();
    let config = controller::Config::default().concurrency(settings.reconcile_concurrency);
    for scope in scopes {
        // Secrets as metadata only (metadata-only requests): a trigger needs no data.
        let (clients, secrets, resource_servers): (
            Api<CognitoClient>,
            Api<PartialObjectMeta<Secret>>,
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
        let (controller, cached) = lean_controller(clients);
        let controller = controller
            // A client Cognito refused for a scope no resource server defined is tried again
            // when a CognitoResourceServer of its namespace changes, not only after its backoff.
            .watches_stream(
                watch(
                    resource_servers.clone(),
                    watcher::Config::default().any_semantic(),
                )
                .touched_objects(),
                move |rs: CognitoResourceServer| waiting_for_a_scope(&cached, &rs),
            )
            // Only Secrets we manage: a change to one (or its deletion) re-reconciles its owner.
            // Their metadata is all a trigger needs; their data never crosses this watch.
            .owns_stream(
                watch(
                    secrets,
                    watcher::Config::default()
                        .any_semantic()
                        .labels(secret::MANAGED_SELECTOR),
                )
                .touched_objects(),
            )
            .with_config(config.clone())
            .graceful_shutdown_on(stop.clone().cancelled_owned());
        running.add(controller, cognito_client::reconcile::reconcile, &ctx);
        let (controller, _) = lean_controller(resource_servers);
        let controller = controller
            .with_config(config.clone())
            .graceful_shutdown_on(stop.clone().cancelled_owned());
        running.add(controller, resource_server::reconcile::reconcile, &ctx);
    }
    let Running { stores, runs } = running;
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

/// A Controller of `api`'s objects whose cache holds them without `metadata.managedFields`
/// (often a third of an object, and never read here), so a thousand objects cost less memory.
/// Returns the cache too. Each of the Controller's watches backs off on its own
/// ([`WatchBackoff`]), so the Controller adds none ([`NoBackoff`]); add others with [`watch`].
fn lean_controller<K>(api: Api<K>) -> (Controller<K>, Store<K>)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let objects = watch(api, watcher::Config::default().any_semantic())
        .modify(|object| object.meta_mut().managed_fields = None)
        .reflect(writer)
        .applied_objects();
    let controller = Controller::for_stream(objects, reader.clone()).trigger_backoff(NoBackoff);
    (controller, reader)
}

/// The watch of `api`'s objects that `config` selects, with its own [`WatchBackoff`]: every
/// watch of a Controller is made here, as the Controllers add no backoff of their own.
fn watch<K>(
    api: Api<K>,
    config: watcher::Config,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    watcher(api, config).backoff(WatchBackoff::default())
}

/// Once `rs` is Ready (its scopes exist in Cognito), the CognitoClients of its namespace whose
/// last sync failed for an undefined scope; none before (they would only fail again).
fn waiting_for_a_scope(
    clients: &Store<CognitoClient>,
    rs: &CognitoResourceServer,
) -> Vec<ObjectRef<CognitoClient>> {
    let ready = rs
        .status
        .as_ref()
        .and_then(|s| condition::find(&s.conditions, condition::READY))
        .is_some_and(|c| c.status == "True");
    if !ready {
        return Vec::new();
    }
    clients
        .state()
        .into_iter()
        .filter(|cc| cc.metadata.namespace == rs.metadata.namespace)
        .filter(|cc| {
            condition::ready_condition(cc.status.as_ref())
                .is_some_and(|c| c.reason == Reason::UnknownScope.as_str())
        })
        .map(|cc| ObjectRef::from_obj(&*cc))
        .collect()
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

/// The Controllers started: each one's run, and a wait for its cache to fill.
#[derive(Default)]
struct Running {
    stores: Vec<BoxFuture<'static, Result<(), WriterDropped>>>,
    runs: Vec<BoxFuture<'static, ()>>,
}

impl Running {
    /// Runs `controller` with `reconcile` and the shared [`error_policy`].
    fn add<K, Fut>(
        &mut self,
        controller: Controller<K>,
        reconcile: fn(Arc<K>, Arc<Context>) -> Fut,
        ctx: &Arc<Context>,
    ) where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
        Fut: Future<Output = Result<Action, ReportError>> + Send + 'static,
    {
        let store = controller.store();
        self.stores
            .push(async move { store.wait_until_ready().await }.boxed());
        self.runs.push(
            controller
                .run(reconcile, error_policy, ctx.clone())
                .for_each(log_result)
                .boxed(),
        );
    }
}
