//! A CognitoResourceServer's status: when Cognito need not be asked again, and the status after
//! an outcome.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cognito_api::{ResourceServer, UserPoolRef};
use crate::condition::{self, READY, Reason};
use crate::managed;
use crate::resource_server::{CognitoResourceServer, CognitoResourceServerStatus};

/// How often a Ready resource server is described again, to correct drift made outside
/// Kubernetes. It is also how long a restarted operator trusts the status it finds, so a
/// restart costs no Cognito call for resources checked within the hour, and a steady state
/// costs one DescribeResourceServer per resource per hour: far below Cognito's request quotas.
pub const RESYNC_INTERVAL: Duration = Duration::from_secs(3600);

/// If the status says Cognito was checked recently enough that it need not be asked now, how
/// long until it must be: Ready for this generation, the claim matching the spec, the finalizer
/// in place, and the last sync less than [`RESYNC_INTERVAL`] ago.
pub fn fresh_for(rs: &CognitoResourceServer, now: Timestamp) -> Option<Duration> {
    let status = rs.status.as_ref()?;
    let ready = condition::find(&status.conditions, READY).is_some_and(|c| c.status == "True");
    let in_sync = ready
        && rs.metadata.deletion_timestamp.is_none()
        && managed::has_finalizer(&rs.metadata)
        && status.observed_generation.is_some()
        && status.observed_generation == rs.metadata.generation
        && status.identifier.as_deref() == Some(rs.spec.identifier.trim());
    if !in_sync {
        return None;
    }
    let due = status
        .last_sync_time
        .as_ref()?
        .0
        .checked_add(RESYNC_INTERVAL)
        .ok()?;
    let remaining = due.duration_since(now);
    if !remaining.is_positive() {
        return None;
    }
    Duration::try_from(remaining).ok()
}

/// The status once Cognito holds `server` in `pool` as the spec asks, at `now`.
pub fn synced(
    previous: Option<&CognitoResourceServerStatus>,
    generation: Option<i64>,
    pool: &UserPoolRef,
    server: &ResourceServer,
    now: Timestamp,
) -> CognitoResourceServerStatus {
    let mut status = previous.cloned().unwrap_or_default();
    status.observed_generation = generation;
    status.identifier = Some(server.identifier.clone());
    status.user_pool_id = Some(pool.user_pool_id.clone());
    status.scopes = server
        .scopes
        .iter()
        .map(|(name, _)| format!("{}/{name}", server.identifier))
        .collect();
    status.last_sync_time = Some(Time(now));
    let message = format!(
        "resource server {} of user pool {} has {} scope(s)",
        server.identifier,
        pool.user_pool_id,
        status.scopes.len()
    );
    condition::set_ready(
        &mut status.conditions,
        Reason::Synced,
        message,
        generation,
        now,
    );
    status
}

/// The status after a failure: `Ready=False` with its reason; everything else kept (the claim,
/// the scopes last granted, the last sync time).
pub fn failed(
    previous: Option<&CognitoResourceServerStatus>,
    generation: Option<i64>,
    reason: Reason,
    message: String,
    now: Timestamp,
) -> CognitoResourceServerStatus {
    let mut status = previous.cloned().unwrap_or_default();
    status.observed_generation = generation;
    condition::set_ready(&mut status.conditions, reason, message, generation, now);
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::FINALIZER;
    use crate::resource_server::CognitoResourceServerSpec;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn pool() -> UserPoolRef {
        UserPoolRef {
            region: "us-east-1".into(),
            user_pool_id: "us-east-1_P".into(),
        }
    }

    fn synced_resource(generation: i64) -> CognitoResourceServer {
        let spec: CognitoResourceServerSpec = serde_yaml_ng::from_str(
            "userPoolId: us-east-1_P\nidentifier: api\nscopes: [{name: read}]",
        )
        .unwrap();
        let mut rs = CognitoResourceServer::new("rs", spec.clone());
        rs.metadata.generation = Some(generation);
        rs.metadata.finalizers = Some(vec![FINALIZER.into()]);
        rs.status = Some(synced(
            None,
            Some(1),
            &pool(),
            &spec.desired(),
            at("2026-11-24T10:00:00Z"),
        ));
        rs
    }

    #[test]
    fn synced_status_holds_the_claim_and_full_scopes() {
        let rs = synced_resource(1);
        let status = rs.status.unwrap();
        assert_eq!(status.identifier.as_deref(), Some("api"));
        assert_eq!(status.user_pool_id.as_deref(), Some("us-east-1_P"));
        assert_eq!(status.scopes, ["api/read"]);
        let ready = condition::find(&status.conditions, READY).unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("True", "Synced")
        );
    }

    #[test]
    fn fresh_until_the_resync_interval_has_passed() {
        let rs = synced_resource(1);
        assert_eq!(
            fresh_for(&rs, at("2026-11-24T10:15:00Z")),
            Some(Duration::from_secs(45 * 60))
        );
        assert_eq!(fresh_for(&rs, at("2026-11-24T11:00:00Z")), None);
    }

    #[test]
    fn a_new_generation_a_failure_a_moved_identifier_or_no_finalizer_is_not_fresh() {
        let now = at("2026-11-24T10:01:00Z");
        assert_eq!(fresh_for(&synced_resource(2), now), None);
        let mut failing = synced_resource(1);
        failing.status = Some(failed(
            failing.status.as_ref(),
            Some(1),
            Reason::AccessDenied,
            "no".into(),
            now,
        ));
        assert_eq!(fresh_for(&failing, now), None);
        let kept = failing.status.unwrap();
        assert_eq!(kept.identifier.as_deref(), Some("api"));
        assert_eq!(kept.scopes, ["api/read"]);
        let mut moved = synced_resource(1);
        moved.spec.identifier = "other".into();
        assert_eq!(fresh_for(&moved, now), None);
        let mut unguarded = synced_resource(1);
        unguarded.metadata.finalizers = None;
        assert_eq!(fresh_for(&unguarded, now), None);
    }
}
