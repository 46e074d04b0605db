//! How a reconcile's outcome reaches the user, for every kind: the status patch (written only
//! when it changed, under the operator's field manager), the Events, and the retry of a report
//! that could not be written.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::warn;

use crate::MANAGER;
use crate::condition::{self, READY, Reason};
use crate::context::Context;
use crate::error::SyncError;

/// A failure to report the outcome (status patch); retried with backoff by [`error_policy`].
#[derive(Debug, thiserror::Error)]
#[error("reporting status of {object}: {source}")]
pub struct ReportError {
    object: String,
    #[source]
    source: kube::Error,
}

impl ReportError {
    /// The failed patch of `object` ([`object_key`]).
    pub fn new(object: String, source: kube::Error) -> Self {
        Self { object, source }
    }
}

/// `Kind namespace/name`: the key of an object in logs and in the retry backoff (the kind keeps
/// a CognitoClient and a CognitoResourceServer of the same name apart).
pub fn object_key<K: Resource<DynamicType = ()>>(obj: &K) -> String {
    format!(
        "{} {}/{}",
        K::kind(&()),
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

/// Ends a reconcile: records it in the metrics (failed with the sync's reason, or with
/// `KubernetesError` when only the report failed) and hands a failed report to [`error_policy`].
pub fn finish<T>(
    ctx: &Context,
    started: Instant,
    key: String,
    outcome: &Result<T, SyncError>,
    report: Result<(), kube::Error>,
    action: Action,
) -> Result<Action, ReportError> {
    ctx.metrics.reconciled(
        started.elapsed(),
        outcome
            .as_ref()
            .err()
            .map(SyncError::reason)
            .or_else(|| report.is_err().then_some(Reason::KubernetesError)),
    );
    report.map_err(|source| ReportError::new(key, source))?;
    Ok(action)
}

/// Retries a failed status report with backoff.
pub fn error_policy<K: Resource<DynamicType = ()>>(
    obj: Arc<K>,
    err: &ReportError,
    ctx: Arc<Context>,
) -> Action {
    warn!(error = %err, "reconcile failed");
    Action::requeue(ctx.retries.next_delay(&object_key(obj.as_ref())))
}

/// Merge-patches `status` into the object's status subresource, under the operator's own field
/// manager (like everything else it writes).
pub async fn patch_status<K>(
    api: &Api<K>,
    name: &str,
    status: &impl Serialize,
) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let patch = serde_json::json!({ "status": status });
    let params = PatchParams {
        field_manager: Some(MANAGER.to_owned()),
        ..PatchParams::default()
    };
    api.patch_status(name, &params, &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// Publishes an Event about `obj`; a failure is logged, never fatal (Events are best effort).
pub async fn publish<K>(ctx: &Context, obj: &K, event: &Event)
where
    K: Resource<DynamicType = ()>,
{
    if let Err(e) = ctx.recorder.publish(event, &obj.object_ref(&())).await {
        warn!(object = %object_key(obj), error = %e, "could not publish event");
    }
}

/// Whether the `Ready` condition's reason or message differs between two condition lists: what
/// earns an Event, so a steady failure does not flood the namespace.
pub fn ready_changed(old: &[Condition], new: &[Condition]) -> bool {
    let summary = |conditions| {
        condition::find(conditions, READY)
            .map(|c: &Condition| (c.reason.clone(), c.message.clone()))
    };
    summary(old) != summary(new)
}

/// The Warning Event of a failure: the condition reason and the failure's message.
pub fn failure_event(err: &SyncError, action: &str) -> Event {
    Event {
        type_: EventType::Warning,
        reason: err.reason().as_str().to_owned(),
        note: Some(err.to_string()),
        action: action.to_owned(),
        secondary: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::set_condition;

    fn ready(reason: &str, message: &str) -> Vec<Condition> {
        let mut conditions = Vec::new();
        set_condition(
            &mut conditions,
            READY,
            "False",
            reason,
            message.to_owned(),
            Some(1),
            "2026-11-24T10:00:00Z".parse().unwrap(),
        );
        conditions
    }

    #[test]
    fn only_a_new_reason_or_message_is_a_change() {
        assert!(ready_changed(&[], &ready("AccessDenied", "m")));
        assert!(!ready_changed(
            &ready("AccessDenied", "m"),
            &ready("AccessDenied", "m")
        ));
        assert!(ready_changed(
            &ready("AccessDenied", "m"),
            &ready("AccessDenied", "n")
        ));
        assert!(ready_changed(
            &ready("AccessDenied", "m"),
            &ready("AlreadyExists", "m")
        ));
    }

    #[test]
    fn keys_tell_kinds_apart() {
        use crate::cognito_client::{CognitoClient, CognitoClientSpec};
        use crate::resource_server::{CognitoResourceServer, CognitoResourceServerSpec};
        let mut cc = CognitoClient::new(
            "premium",
            serde_yaml_ng::from_str::<CognitoClientSpec>(
                "userPoolId: p\nsource: {appClient: {clientId: c}}",
            )
            .unwrap(),
        );
        cc.metadata.namespace = Some("team".into());
        let mut rs = CognitoResourceServer::new(
            "premium",
            serde_yaml_ng::from_str::<CognitoResourceServerSpec>("userPoolId: p\nidentifier: api")
                .unwrap(),
        );
        rs.metadata.namespace = Some("team".into());
        assert_eq!(object_key(&cc), "CognitoClient team/premium");
        assert_eq!(object_key(&rs), "CognitoResourceServer team/premium");
    }

    #[test]
    fn a_failure_event_is_a_warning_with_the_reason() {
        let ev = failure_event(&SyncError::AlreadyExists("taken".into()), "Create");
        assert_eq!(
            (ev.type_, ev.reason.as_str(), ev.note.as_deref()),
            (EventType::Warning, "AlreadyExists", Some("taken"))
        );
    }
}
