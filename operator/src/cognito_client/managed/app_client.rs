//! Finding, creating, correcting and deleting a managed CognitoClient's app client, so that no
//! crash ever leaves a second one behind.
//!
//! Cognito app clients have no tags and no unique names, so the operator marks its intent on the
//! CognitoClient before it asks Cognito for a client ([`CREATE_STARTED`], with the finalizer, in
//! one optimistic-locked patch). If the answer is lost (a crash or a timeout between Cognito's
//! answer and the status write), the next reconcile finds the clients of this name created since
//! the mark, keeps the oldest and deletes the others: they were never handed to anyone.

use std::time::Duration;

use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use tracing::{info, warn};

use crate::MANAGER;
use crate::cognito_api::{AppClient, AppClientSettings, CognitoApi, UserPoolRef};
use crate::cognito_client::CognitoClient;
use crate::error::SyncError;
use crate::managed::{self, FINALIZER};
use crate::report::object_key;

/// Annotation on a managed CognitoClient: when it last asked Cognito to create its app client
/// (RFC 3339). Durable proof that clients of its name created since then are its own.
pub const CREATE_STARTED: &str = "cognito-m2m.dev/app-client-create-started";

/// How far Cognito's clock may trail ours when matching creation dates against the mark.
const CLOCK_SKEW: Duration = Duration::from_secs(120);

/// What locating the app client found or did.
#[derive(Debug)]
pub enum Located {
    /// The client recorded in status or the Secret exists.
    Known(AppClient),
    /// Created now; the answer holds the generated secret.
    Created(AppClient),
    /// Created by an earlier attempt whose answer was lost; found by name and mark. `extra`
    /// clients of the same attempt were deleted.
    Recovered {
        /// The client kept.
        client: AppClient,
        /// How many duplicates were deleted.
        deleted: usize,
    },
}

/// The app client of `cc`: the known one (`known_id`, from status or the Secret), else one a
/// lost answer created, else a new one.
pub async fn locate_or_create(
    cognito: &CognitoApi,
    api: &Api<CognitoClient>,
    cc: &CognitoClient,
    pool: &UserPoolRef,
    known_id: Option<&str>,
    wanted: &AppClientSettings,
    now: Timestamp,
) -> Result<Located, SyncError> {
    if let Some(id) = known_id {
        if let Some(client) = cognito.describe_app_client(pool, id).await? {
            return Ok(Located::Known(client));
        }
        warn!(object = %object_key(cc), client_id = id, "app client deleted outside Kubernetes; creating a new one");
    } else if let Some(started) = create_started(cc) {
        let mut found = recover(cognito, pool, &wanted.client_name, started).await?;
        if !found.is_empty() {
            let client = found.remove(0);
            for extra in &found {
                cognito.delete_app_client(pool, &extra.client_id).await?;
            }
            info!(object = %object_key(cc), client_id = %client.client_id, deleted = found.len(), "recovered the app client of an interrupted create");
            // `recover` described it already: its answer holds the secret.
            return Ok(Located::Recovered {
                client,
                deleted: found.len(),
            });
        }
    }
    mark_create_started(api, cc, now).await?;
    let client = cognito.create_app_client(pool, wanted).await?;
    info!(object = %object_key(cc), client_id = %client.client_id, "created app client");
    Ok(Located::Created(client))
}

/// The clients named `name` created since `started` (less the clock skew), oldest first.
async fn recover(
    cognito: &CognitoApi,
    pool: &UserPoolRef,
    name: &str,
    started: Timestamp,
) -> Result<Vec<AppClient>, SyncError> {
    let since = started.checked_sub(CLOCK_SKEW).unwrap_or(started);
    let mut found = Vec::new();
    for id in cognito.find_app_clients(pool, name).await? {
        if let Some(client) = cognito.describe_app_client(pool, &id).await?
            && client.creation_date.is_some_and(|created| created >= since)
        {
            found.push(client);
        }
    }
    found.sort_by_key(|c| c.creation_date);
    Ok(found)
}

/// Deletes the app client of a CognitoClient being deleted: the known one, or those an
/// interrupted create left behind.
pub async fn delete(
    cognito: &CognitoApi,
    cc: &CognitoClient,
    pool: &UserPoolRef,
    known_id: Option<&str>,
    client_name: &str,
) -> Result<usize, SyncError> {
    let ids: Vec<String> = match (known_id, create_started(cc)) {
        (Some(id), _) => vec![id.to_owned()],
        (None, Some(started)) => recover(cognito, pool, client_name, started)
            .await?
            .into_iter()
            .map(|c| c.client_id)
            .collect(),
        (None, None) => Vec::new(),
    };
    for id in &ids {
        cognito.delete_app_client(pool, id).await?;
    }
    Ok(ids.len())
}

fn create_started(cc: &CognitoClient) -> Option<Timestamp> {
    managed::annotation(&cc.metadata, CREATE_STARTED)?
        .parse()
        .ok()
}

/// Adds the finalizer and the create mark where missing, in one patch that fails if the object
/// changed since it was read (so a concurrent edit is never overwritten). An existing mark is
/// kept: it is older, so what it finds is a superset; and rewriting it on every failed create
/// (a scope not defined yet) would trigger a new reconcile each time, defeating the backoff.
async fn mark_create_started(
    api: &Api<CognitoClient>,
    cc: &CognitoClient,
    now: Timestamp,
) -> Result<(), SyncError> {
    if create_started(cc).is_some() && managed::has_finalizer(&cc.metadata) {
        return Ok(());
    }
    let started = create_started(cc).unwrap_or(now);
    let mut finalizers = cc.finalizers().to_vec();
    if !finalizers.iter().any(|f| f == FINALIZER) {
        finalizers.push(FINALIZER.to_owned());
    }
    let patch = json!({
        "metadata": {
            "resourceVersion": cc.resource_version(),
            "finalizers": finalizers,
            "annotations": { CREATE_STARTED: started.to_string() },
        }
    });
    api.patch(
        &cc.name_any(),
        &PatchParams {
            field_manager: Some(MANAGER.to_owned()),
            ..PatchParams::default()
        },
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}
