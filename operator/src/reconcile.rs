//! One reconciliation: read the source, write the Secret if it changed, report status and Events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Resource, ResourceExt};
use tracing::{info, warn};

use crate::condition::{self, Observation, Reason};
use crate::crd::{CognitoClient, CognitoClientStatus};
use crate::error::{Retry, SyncError};
use crate::metrics::Metrics;
use crate::schedule;
use crate::secret::{self, MANAGER, Ownership};
use crate::source::AwsSources;

/// How many failing objects the backoff remembers before it starts over.
const MAX_TRACKED_FAILURES: usize = 10_000;

/// Shared state of all reconciliations.
pub struct Context {
    /// Kubernetes client.
    pub client: kube::Client,
    /// AWS credential sources.
    pub sources: AwsSources,
    /// Event publisher.
    pub recorder: Recorder,
    /// Metrics of this instance.
    pub metrics: Arc<Metrics>,
    /// First retry delay.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Consecutive failures per object, for the backoff.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// A context with no failure history.
    pub fn new(
        client: kube::Client,
        sources: AwsSources,
        recorder: Recorder,
        metrics: Arc<Metrics>,
        retry_base: Duration,
        retry_max: Duration,
    ) -> Self {
        Self {
            client,
            sources,
            recorder,
            metrics,
            retry_base,
            retry_max,
            failures: Mutex::default(),
        }
    }

    /// Counts a failure of `key` and returns the delay before the next attempt.
    fn next_backoff(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Entries of objects deleted while failing are never removed one by one; bounding the
        // map instead only costs those still failing a shorter next delay.
        if failures.len() >= MAX_TRACKED_FAILURES && !failures.contains_key(key) {
            failures.clear();
        }
        let attempt = failures.entry(key.to_owned()).or_insert(0);
        *attempt = attempt.saturating_add(1);
        schedule::backoff(*attempt, self.retry_base, self.retry_max)
    }

    fn forget_failures(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// What a successful sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Synced {
    /// Recently synced and the Secret is still ours: nothing read, nothing written.
    UpToDate {
        /// When the next refresh is due (`None`: never).
        due_in: Option<Duration>,
    },
    /// The source was read and the Secret checked.
    Checked {
        client_id: String,
        written: Option<Write>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Created,
    Updated,
}

/// A failure to report the outcome (status patch); retried with backoff by [`error_policy`].
#[derive(Debug, thiserror::Error)]
#[error("reporting status of {object}: {source}")]
pub struct ReportError {
    object: String,
    #[source]
    source: kube::Error,
}

fn object_key(cc: &CognitoClient) -> String {
    format!("{}/{}", cc.namespace().unwrap_or_default(), cc.name_any())
}

/// Reconciles one CognitoClient.
pub async fn reconcile(cc: Arc<CognitoClient>, ctx: Arc<Context>) -> Result<Action, ReportError> {
    let started = Instant::now();
    let key = object_key(&cc);
    let ns = cc.namespace().unwrap_or_default();
    let secret_name = cc.secret_name();
    let now = Timestamp::now();
    let outcome = sync(&cc, &ctx, &ns, &secret_name, now).await;

    let interval = cc.spec.refresh_interval().ok().flatten();
    let (observation, action) = match &outcome {
        Ok(Synced::UpToDate { due_in }) => {
            ctx.forget_failures(&key);
            (
                None,
                due_in.map_or_else(Action::await_change, Action::requeue),
            )
        }
        Ok(Synced::Checked { client_id, written }) => {
            ctx.forget_failures(&key);
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
                Retry::Backoff => Action::requeue(ctx.next_backoff(&key)),
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
    ctx.metrics.reconciled(
        started.elapsed(),
        outcome
            .as_ref()
            .err()
            .map(SyncError::reason)
            .or_else(|| report.is_err().then_some(Reason::KubernetesError)),
    );
    report.map_err(|source| ReportError {
        object: key,
        source,
    })?;
    Ok(action)
}

/// Retries a failed status report with backoff.
pub fn error_policy(cc: Arc<CognitoClient>, err: &ReportError, ctx: Arc<Context>) -> Action {
    warn!(error = %err, "reconcile failed");
    Action::requeue(ctx.next_backoff(&object_key(&cc)))
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
            if let Some(due_in) = schedule::fresh_for(cc, secret_name, interval, now)
                && intact
            {
                return Ok(Synced::UpToDate { due_in });
            }
        }
        Ownership::Absent => {}
    }
    let creds = ctx.sources.fetch(&cc.spec).await?;
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
        let patch = serde_json::json!({ "status": status });
        // Under the operator's own field manager, like the Secret it applies.
        let params = PatchParams {
            field_manager: Some(MANAGER.to_owned()),
            ..PatchParams::default()
        };
        api.patch_status(&cc.name_any(), &params, &Patch::Merge(&patch))
            .await?;
    }
    if let Some(event) = event_for(previous, &status, outcome, secret_name) {
        let reference = cc.object_ref(&());
        if let Err(e) = ctx.recorder.publish(&event, &reference).await {
            warn!(object = %object_key(cc), error = %e, "could not publish event");
        }
    }
    Ok(())
}

/// The Event worth publishing for a sync, if any: every write, and every change of the Ready
/// condition's reason or message (so a steady failure does not flood the namespace).
fn event_for(
    previous: Option<&CognitoClientStatus>,
    next: &CognitoClientStatus,
    outcome: &Result<Synced, SyncError>,
    secret_name: &str,
) -> Option<Event> {
    let changed = {
        let old = condition::ready_condition(previous);
        let new = condition::ready_condition(Some(next));
        old.map(|c| (&c.reason, &c.message)) != new.map(|c| (&c.reason, &c.message))
    };
    let (type_, reason, note) = match outcome {
        Ok(Synced::Checked {
            written: Some(Write::Created),
            ..
        }) => (
            EventType::Normal,
            "SecretCreated",
            format!("Created Secret {secret_name}"),
        ),
        Ok(Synced::Checked {
            written: Some(Write::Updated),
            ..
        }) => (
            EventType::Normal,
            "SecretUpdated",
            format!("Updated Secret {secret_name} with new credentials"),
        ),
        Ok(_) if changed => (
            EventType::Normal,
            Reason::Synced.as_str(),
            format!("Secret {secret_name} holds the current credentials"),
        ),
        Err(err) if changed => (EventType::Warning, err.reason().as_str(), err.to_string()),
        _ => return None,
    };
    Some(Event {
        type_,
        reason: reason.to_owned(),
        note: Some(note),
        action: "Sync".to_owned(),
        secondary: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::next_status;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn failed(reason: Reason, message: &str) -> Observation {
        Observation::Failed {
            reason,
            message: message.into(),
        }
    }

    #[test]
    fn writes_always_make_an_event() {
        let t = at("2026-11-24T10:00:00Z");
        let obs = Observation::Synced {
            client_id: "c".into(),
        };
        let first = next_status(None, Some(1), "s", &obs, t);
        let again = next_status(Some(&first), Some(1), "s", &obs, t);
        let outcome = Ok(Synced::Checked {
            client_id: "c".into(),
            written: Some(Write::Updated),
        });
        let ev = event_for(Some(&first), &again, &outcome, "s").unwrap();
        assert_eq!(ev.reason, "SecretUpdated");
        assert_eq!(ev.type_, EventType::Normal);
        let unchanged = Ok(Synced::Checked {
            client_id: "c".into(),
            written: None,
        });
        assert!(event_for(Some(&first), &again, &unchanged, "s").is_none());
    }

    #[test]
    fn failures_make_a_warning_only_when_the_condition_changes() {
        let t = at("2026-11-24T10:00:00Z");
        let obs = failed(Reason::SourceNotFound, "missing");
        let first = next_status(None, Some(1), "s", &obs, t);
        let err: Result<Synced, SyncError> = Err(SyncError::SourceNotFound("missing".into()));
        let ev = event_for(None, &first, &err, "s").unwrap();
        assert_eq!(
            (ev.type_, ev.reason.as_str(), ev.note.as_deref()),
            (EventType::Warning, "SourceNotFound", Some("missing"))
        );
        let again = next_status(Some(&first), Some(1), "s", &obs, t);
        assert!(event_for(Some(&first), &again, &err, "s").is_none());
    }

    #[test]
    fn recovery_without_a_write_is_announced() {
        let t = at("2026-11-24T10:00:00Z");
        let broken = next_status(None, Some(1), "s", &failed(Reason::SecretConflict, "x"), t);
        let ok = next_status(
            Some(&broken),
            Some(1),
            "s",
            &Observation::Synced {
                client_id: "c".into(),
            },
            t,
        );
        let outcome = Ok(Synced::Checked {
            client_id: "c".into(),
            written: None,
        });
        let ev = event_for(Some(&broken), &ok, &outcome, "s").unwrap();
        assert_eq!(ev.reason, "Synced");
    }
}
