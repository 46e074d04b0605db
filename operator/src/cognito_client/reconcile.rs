//! One reconciliation: read the source (or, for a managed client, create, keep and rotate the app
//! client), write the Secret if it changed, report status and Events; on deletion, release the
//! app client per its deletion policy before the finalizer goes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use tracing::{info, warn};

use crate::MANAGER;
use crate::cognito_client::events::events_for;
use crate::cognito_client::managed::rotation::RotationStep;
use crate::cognito_client::managed::{self, ManagedOutcome};
use crate::cognito_client::refresh::fresh_for;
use crate::cognito_client::secret::{self, Ownership};
use crate::cognito_client::source::read_credentials;
use crate::cognito_client::{CognitoClient, Source};
use crate::condition::{self, Observation, Rotation};
use crate::context::Context;
use crate::error::{Retry, SyncError};
use crate::report::{ReportError, finish, object_key, patch_status, publish};

/// What a successful sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    /// Recently synced and the Secret is still ours: nothing read, nothing written.
    UpToDate {
        /// When the next refresh is due (`None`: never).
        due_in: Option<Duration>,
    },
    /// The source was read and the Secret checked.
    Checked {
        /// The app client id read from the source.
        client_id: String,
        /// Whether the Secret was written.
        written: Option<Write>,
        /// Managed clients: what was done in Cognito and the secret's record.
        managed: Option<ManagedOutcome>,
    },
}

/// How the Secret was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// The Secret did not exist.
    Created,
    /// The Secret held other data.
    Updated,
}

/// Reconciles one CognitoClient.
pub async fn reconcile(cc: Arc<CognitoClient>, ctx: Arc<Context>) -> Result<Action, ReportError> {
    let started = Instant::now();
    let key = object_key(cc.as_ref());
    let ns = cc.namespace().unwrap_or_default();
    let secret_name = cc.secret_name();
    let now = Timestamp::now();
    if cc.metadata.deletion_timestamp.is_some() {
        return finalize(&cc, &ctx, &ns, &secret_name, now).await;
    }
    let outcome = sync(&cc, &ctx, &ns, &secret_name, now).await;

    let interval = cc.spec.refresh_interval().ok().flatten();
    let (observation, action) = match &outcome {
        Ok(Synced::UpToDate { due_in }) => {
            ctx.retries.forget(&key);
            (
                None,
                due_in.map_or_else(Action::await_change, Action::requeue),
            )
        }
        Ok(Synced::Checked {
            client_id,
            written,
            managed,
        }) => {
            ctx.retries.forget(&key);
            if let Some(write) = written {
                ctx.metrics.secret_written();
                info!(object = %key, secret = %secret_name, ?write, "wrote Secret");
            }
            let rotation = managed.as_ref().map(rotation_of);
            let due = earliest(
                interval,
                rotation.as_ref().and_then(|r| {
                    let at = r.old_secret_expires.or(r.next)?;
                    Duration::try_from(at.duration_since(now)).ok()
                }),
            );
            let observation = Observation::Synced {
                client_id: client_id.clone(),
                rotation,
            };
            (
                Some(observation),
                due.map_or_else(Action::await_change, Action::requeue),
            )
        }
        Err(err) => {
            let reason = err.reason();
            let action = match err.retry() {
                Retry::Backoff => Action::requeue(ctx.retries.next_delay(&key)),
                // The next refresh reads the source again; nothing sooner can help.
                Retry::AwaitChange => interval.map_or_else(Action::await_change, Action::requeue),
            };
            warn!(object = %key, reason = reason.as_str(), error = %err, "sync failed");
            let observation = Observation::Failed {
                reason,
                message: err.to_string(),
            };
            (Some(observation), action)
        }
    };

    let report = match &observation {
        Some(observation) => report(&cc, &ctx, &ns, &secret_name, observation, &outcome, now).await,
        None => Ok(()),
    };
    finish(&ctx, started, key, &outcome, report, action)
}

/// The sooner of two optional delays.
fn earliest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The status view of a managed client's record.
fn rotation_of(outcome: &ManagedOutcome) -> Rotation {
    let record = &outcome.record;
    Rotation {
        // The secret a client was created with is not a rotation's.
        last: record.secret_id.as_ref().and(record.issued_at),
        next: outcome.next_rotation,
        request: record.rotation_request.clone(),
        old_secret_expires: record.overlap.as_ref().map(|o| o.expires),
    }
}

/// A CognitoClient being deleted: a managed one's app client is deleted (with `deletionPolicy:
/// Delete`) before the finalizer is removed; failures keep the finalizer and back off.
async fn finalize(
    cc: &CognitoClient,
    ctx: &Context,
    ns: &str,
    secret_name: &str,
    now: Timestamp,
) -> Result<Action, ReportError> {
    if !crate::managed::has_finalizer(&cc.metadata) {
        return Ok(Action::await_change());
    }
    let key = object_key(cc);
    let api: Api<CognitoClient> = Api::namespaced(ctx.client.clone(), ns);
    let released = async {
        if let Some(managed) = &cc.spec.source.managed
            && managed.deletion_policy() == crate::managed::DeletionPolicy::Delete
        {
            let pool = managed::pool_of(cc, &ctx.cognito)?;
            let known = cc.status.as_ref().and_then(|s| s.client_id.clone());
            let name = cc.managed_client_name().unwrap_or_default();
            let deleted =
                managed::app_client::delete(&ctx.cognito, cc, &pool, known.as_deref(), &name)
                    .await?;
            info!(object = %key, deleted, "deleted the app client");
        }
        Ok::<(), SyncError>(crate::managed::remove_finalizer(&api, cc).await?)
    }
    .await;
    match released {
        Ok(()) => {
            ctx.retries.forget(&key);
            Ok(Action::await_change())
        }
        Err(err) => {
            warn!(object = %key, reason = err.reason().as_str(), error = %err, "could not release the app client");
            let observation = Observation::Failed {
                reason: err.reason(),
                message: format!("deleting: {err}"),
            };
            let outcome = Err(err);
            report(cc, ctx, ns, secret_name, &observation, &outcome, now)
                .await
                .map_err(|source| ReportError::new(key.clone(), source))?;
            Ok(Action::requeue(ctx.retries.next_delay(&key)))
        }
    }
}

async fn sync(
    cc: &CognitoClient,
    ctx: &Context,
    ns: &str,
    secret_name: &str,
    now: Timestamp,
) -> Result<Synced, SyncError> {
    cc.spec.validate()?;
    let interval = cc.spec.refresh_interval()?;
    let uid = cc.metadata.uid.clone().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    // Ownership first: a conflict needs no trip to AWS.
    let existing = secrets.get_opt(secret_name).await?;
    let ownership = secret::ownership(existing.as_ref(), &uid);
    // An edited Secret is rewritten now rather than at the next refresh.
    let ours = match ownership {
        Ownership::Foreign => return Err(SyncError::SecretConflict(secret_name.to_owned())),
        Ownership::Ours => existing.as_ref(),
        Ownership::Absent => None,
    };
    let intact = ours.filter(|s| secret::is_intact(s));
    let managed_source = match cc.spec.source()? {
        Source::Managed(managed) => Some(managed),
        _ => None,
    };
    if let Some(secret) = intact
        && let Some(due_in) = fresh_for(cc, secret_name, interval, now)
    {
        let until = |at: Timestamp| Duration::try_from(at.duration_since(now)).ok();
        match managed_source.map(|m| managed::pending_step(cc, m, secret, now)) {
            None => return Ok(Synced::UpToDate { due_in }),
            Some(RotationStep::Idle { next }) => {
                return Ok(Synced::UpToDate {
                    due_in: earliest(due_in, next.and_then(until)),
                });
            }
            Some(RotationStep::Overlapping { expires }) => {
                return Ok(Synced::UpToDate {
                    due_in: earliest(due_in, until(expires)),
                });
            }
            Some(RotationStep::Start | RotationStep::RetirePrevious) => {}
        }
    }
    let (creds, managed_outcome) = match managed_source {
        Some(managed) => {
            let (creds, outcome) =
                managed::sync(cc, ctx, managed, ours, intact.is_some(), now).await?;
            (creds, Some(outcome))
        }
        None => {
            if crate::managed::has_finalizer(&cc.metadata) {
                // No longer managed: the app client stays in Cognito, unmanaged.
                let api: Api<CognitoClient> = Api::namespaced(ctx.client.clone(), ns);
                crate::managed::remove_finalizer(&api, cc).await?;
            }
            (read_credentials(ctx, &cc.spec).await?, None)
        }
    };
    let annotations = managed_outcome
        .as_ref()
        .map(|o| o.record.annotations())
        .unwrap_or_default();
    let desired = secret::desired_secret(cc, secret_name, &creds, annotations);
    let written = match &existing {
        Some(current) if !secret::needs_write(current, &desired) => None,
        _ => {
            let params = PatchParams::apply(MANAGER).force();
            secrets
                .patch(secret_name, &params, &Patch::Apply(&desired))
                .await?;
            Some(if existing.is_some() {
                Write::Updated
            } else {
                Write::Created
            })
        }
    };
    Ok(Synced::Checked {
        client_id: creds.client_id,
        written,
        managed: managed_outcome,
    })
}

/// Patches the status when it changed and publishes Events for writes and condition changes.
async fn report(
    cc: &CognitoClient,
    ctx: &Context,
    ns: &str,
    secret_name: &str,
    observation: &Observation,
    outcome: &Result<Synced, SyncError>,
    now: Timestamp,
) -> Result<(), kube::Error> {
    let previous = cc.status.as_ref();
    let status = condition::next_status(
        previous,
        cc.metadata.generation,
        secret_name,
        observation,
        now,
    );
    if previous != Some(&status) {
        let api: Api<CognitoClient> = Api::namespaced(ctx.client.clone(), ns);
        patch_status(&api, &cc.name_any(), &status).await?;
    }
    for event in events_for(previous, &status, outcome, secret_name) {
        publish(ctx, cc, &event).await;
    }
    Ok(())
}
