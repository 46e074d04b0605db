//! One reconciliation of a CognitoResourceServer: make Cognito hold the resource server the spec
//! describes (or, once the resource is being deleted, [`finalize`] it), then report status and
//! Events.
//!
//! Ownership rests on a claim in the status: `status.identifier` and `status.userPoolId` are
//! written *before* CreateResourceServer, so a resource server found in Cognito is ours exactly
//! when the status claims it, even after a crash between Cognito's answer and the status write.
//! One found and not claimed belongs to someone else: it is never changed or deleted
//! (`AlreadyExists`) unless the resource carries `cognito-m2m.dev/adopt: "true"`.

use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use tracing::{info, warn};

use crate::cognito_api::{CognitoApiError, ResourceServer, UserPoolRef};
use crate::context::Context;
use crate::error::{Retry, SyncError};
use crate::managed::{self, ADOPT_ANNOTATION};
use crate::report::{ReportError, finish, object_key, patch_status, publish, ready_changed};
use crate::resource_server::CognitoResourceServer;
use crate::resource_server::deletion::finalize;
use crate::resource_server::events::event_for;
use crate::resource_server::status::{self, RESYNC_INTERVAL};

/// What a successful reconcile did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    /// Cognito holds (now) the resource server the spec describes.
    Checked {
        /// The resource server, as Cognito last answered.
        server: ResourceServer,
        /// Its user pool.
        pool: UserPoolRef,
        /// What was changed in Cognito, if anything.
        change: Option<Change>,
    },
    /// The resource is being deleted and its finalizer is done.
    Finalized(Finalized),
}

/// A change made in Cognito.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// CreateResourceServer.
    Created,
    /// UpdateResourceServer (name or scopes differed).
    Updated,
    /// An existing resource server was claimed (and updated when it differed).
    Adopted,
}

/// What deletion did before the finalizer was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finalized {
    /// DeleteResourceServer (`deletionPolicy: Delete`).
    Deleted {
        /// The identifier deleted.
        identifier: String,
        /// Its user pool id.
        pool: String,
    },
    /// Left in the pool (`deletionPolicy: Retain`).
    Retained {
        /// The identifier kept.
        identifier: String,
        /// Its user pool id.
        pool: String,
    },
    /// The resource never claimed a resource server (bad spec, `AlreadyExists`): Cognito is
    /// not touched.
    NothingClaimed,
}

/// Reconciles one CognitoResourceServer.
pub async fn reconcile(
    cached: Arc<CognitoResourceServer>,
    ctx: Arc<Context>,
) -> Result<Action, ReportError> {
    let started = Instant::now();
    let key = object_key(cached.as_ref());
    let now = Timestamp::now();
    let up_to_date = |due_in| {
        ctx.retries.forget(&key);
        ctx.metrics.reconciled(started.elapsed(), None);
        Ok(Action::requeue(due_in))
    };
    if let Some(due_in) = status::fresh_for(&cached, now) {
        return up_to_date(due_in);
    }
    // A failure waits out its backoff even when the operator's own status write triggers a
    // reconcile (a refused create releases its claim: two writes per attempt).
    if let Some(wait) = ctx.retries.held(&key, inputs(&cached)) {
        return Ok(Action::requeue(wait));
    }
    let api: Api<CognitoResourceServer> =
        Api::namespaced(ctx.client.clone(), &cached.namespace().unwrap_or_default());
    // Decisions about Cognito rest on the claim in the status, so they are made on the object
    // as the API server has it now: the watch cache may not hold this operator's last write yet
    // (and once it does, the object may turn out up to date after all).
    let fresh = api.get_opt(&cached.name_any()).await;
    if let Ok(Some(rs)) = &fresh
        && let Some(due_in) = status::fresh_for(rs, now)
    {
        return up_to_date(due_in);
    }
    let (rs, outcome) = match fresh {
        Ok(None) => return Ok(Action::await_change()),
        Ok(Some(rs)) if rs.metadata.deletion_timestamp.is_some() => {
            let outcome = finalize(&rs, &ctx, &api).await.map(Synced::Finalized);
            (rs, outcome)
        }
        Ok(Some(rs)) => {
            let outcome = sync(&rs, &ctx, &api).await;
            (rs, outcome)
        }
        Err(e) => ((*cached).clone(), Err(SyncError::Kube(e))),
    };

    let action = match &outcome {
        Ok(synced) => {
            ctx.retries.forget(&key);
            if let Some(change) = change_of(synced) {
                info!(object = %key, identifier = %rs.spec.identifier, change, "changed Cognito");
            }
            match synced {
                Synced::Checked { .. } => Action::requeue(RESYNC_INTERVAL),
                Synced::Finalized(_) => Action::await_change(),
            }
        }
        Err(err) => {
            warn!(object = %key, reason = err.reason().as_str(), error = %err, "sync failed");
            match err.retry() {
                Retry::Backoff => Action::requeue(ctx.retries.hold(&key, inputs(&rs))),
                Retry::AwaitChange => Action::await_change(),
            }
        }
    };
    let report = report(&rs, &ctx, &api, &outcome, now).await;
    finish(&ctx, started, key, &outcome, report, action)
}

/// A fingerprint of what the user controls and a retry should react to at once: the spec (by
/// its generation, which deletion bumps too) and the annotations (adoption).
fn inputs(rs: &CognitoResourceServer) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    rs.metadata.generation.hash(&mut hasher);
    rs.metadata.annotations.hash(&mut hasher);
    rs.metadata.deletion_timestamp.is_some().hash(&mut hasher);
    hasher.finish()
}

fn change_of(synced: &Synced) -> Option<&'static str> {
    match synced {
        Synced::Checked { change, .. } => change.map(|c| match c {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Adopted => "adopted",
        }),
        Synced::Finalized(Finalized::Deleted { .. }) => Some("deleted"),
        Synced::Finalized(_) => None,
    }
}

/// Makes Cognito hold what the spec describes; see the module documentation for ownership.
async fn sync(
    rs: &CognitoResourceServer,
    ctx: &Context,
    api: &Api<CognitoResourceServer>,
) -> Result<Synced, SyncError> {
    let spec = &rs.spec;
    spec.validate()?;
    spec.check_claim(rs.status.as_ref())?;
    let pool = ctx
        .cognito
        .user_pool(spec.region.as_deref(), &spec.user_pool_id)
        .ok_or(SyncError::NoRegion)?;
    // Before anything can exist in Cognito, so that deletion always passes through finalize.
    managed::add_finalizer(api, rs).await?;
    let wanted = spec.desired();
    // check_claim has made sure a claim, if any, names this identifier and pool.
    let claimed = rs.status.as_ref().is_some_and(|s| s.identifier.is_some());
    let Some(current) = ctx
        .cognito
        .describe_resource_server(&pool, &wanted.identifier)
        .await?
    else {
        if !claimed {
            claim(api, rs, &pool, &wanted.identifier).await?;
        }
        let server = match ctx.cognito.create_resource_server(&pool, &wanted).await {
            Ok(server) => server,
            Err(e) => {
                // Cognito refused, so nothing was created: give up the claim, or a typo in the
                // pool id could never be corrected. A timeout or 5xx may hide a creation, so
                // the claim stays.
                if !claimed && !matches!(e, CognitoApiError::Unavailable { .. }) {
                    release(api, rs).await;
                }
                return Err(e.into());
            }
        };
        return Ok(Synced::Checked {
            server,
            pool,
            change: Some(Change::Created),
        });
    };
    if !claimed {
        if !managed::adoption_requested(&rs.metadata) {
            return Err(SyncError::AlreadyExists(format!(
                "resource server {} already exists in user pool {} and was not created by this \
                 resource; it is left untouched (annotate {ADOPT_ANNOTATION}: \"true\" to take it over)",
                wanted.identifier, pool.user_pool_id
            )));
        }
        claim(api, rs, &pool, &wanted.identifier).await?;
    }
    let (server, updated) = if current.same_as(&wanted) {
        (current, false)
    } else {
        (
            ctx.cognito.update_resource_server(&pool, &wanted).await?,
            true,
        )
    };
    let change = match (claimed, updated) {
        (false, _) => Some(Change::Adopted),
        (true, true) => Some(Change::Updated),
        (true, false) => None,
    };
    Ok(Synced::Checked {
        server,
        pool,
        change,
    })
}

/// Writes the claim (`status.identifier`, `status.userPoolId`) before Cognito is changed.
async fn claim(
    api: &Api<CognitoResourceServer>,
    rs: &CognitoResourceServer,
    pool: &UserPoolRef,
    identifier: &str,
) -> Result<(), kube::Error> {
    let claim = serde_json::json!({
        "identifier": identifier,
        "userPoolId": pool.user_pool_id,
    });
    patch_status(api, &rs.name_any(), &claim).await
}

/// Gives up a claim nothing was created for (best effort: the failure is what gets reported).
async fn release(api: &Api<CognitoResourceServer>, rs: &CognitoResourceServer) {
    let release = serde_json::json!({ "identifier": null, "userPoolId": null });
    if let Err(e) = patch_status(api, &rs.name_any(), &release).await {
        warn!(object = %object_key(rs), error = %e, "could not release the claim");
    }
}

/// Patches the status when it changed and publishes the outcome's Event.
async fn report(
    rs: &CognitoResourceServer,
    ctx: &Context,
    api: &Api<CognitoResourceServer>,
    outcome: &Result<Synced, SyncError>,
    now: Timestamp,
) -> Result<(), kube::Error> {
    let previous = rs.status.as_ref();
    let generation = rs.metadata.generation;
    let next = match outcome {
        Ok(Synced::Checked { server, pool, .. }) => {
            Some(status::synced(previous, generation, pool, server, now))
        }
        // The object is about to disappear; the Event says what happened.
        Ok(Synced::Finalized(_)) => None,
        Err(err) => Some(status::failed(
            previous,
            generation,
            err.reason(),
            err.to_string(),
            now,
        )),
    };
    let changed = next.as_ref().is_some_and(|next| {
        ready_changed(
            previous.map_or(&[][..], |s| s.conditions.as_slice()),
            &next.conditions,
        )
    });
    if let Some(next) = &next
        && previous != Some(next)
    {
        patch_status(api, &rs.name_any(), next).await?;
    }
    let deleting = rs.metadata.deletion_timestamp.is_some();
    if let Some(event) = event_for(outcome, changed, deleting) {
        publish(ctx, rs, &event).await;
    }
    Ok(())
}
