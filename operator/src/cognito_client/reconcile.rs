//! One reconciliation: read the source, write the Secret if it changed, report status and Events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use tracing::{info, warn};

use crate::MANAGER;
use crate::cognito_client::CognitoClient;
use crate::cognito_client::events::event_for;
use crate::cognito_client::refresh::fresh_for;
use crate::cognito_client::secret::{self, Ownership};
use crate::cognito_client::source::read_credentials;
use crate::condition::{self, Observation};
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
        Ok(Synced::Checked { client_id, written }) => {
            ctx.retries.forget(&key);
            if let Some(write) = written {
                ctx.metrics.secret_written();
                info!(object = %key, secret = %secret_name, ?write, "wrote Secret");
            }
            let observation = Observation::Synced {
                client_id: client_id.clone(),
            };
            (
                Some(observation),
                interval.map_or_else(Action::await_change, Action::requeue),
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
    match ownership {
        Ownership::Foreign => return Err(SyncError::SecretConflict(secret_name.to_owned())),
        Ownership::Ours => {
            // An edited Secret is rewritten now rather than at the next refresh.
            let intact = existing.as_ref().is_some_and(secret::is_intact);
            if let Some(due_in) = fresh_for(cc, secret_name, interval, now)
                && intact
            {
                return Ok(Synced::UpToDate { due_in });
            }
        }
        Ownership::Absent => {}
    }
    let creds = read_credentials(ctx, &cc.spec).await?;
    let desired = secret::desired_secret(cc, secret_name, &creds);
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
    if let Some(event) = event_for(previous, &status, outcome, secret_name) {
        publish(ctx, cc, &event).await;
    }
    Ok(())
}
