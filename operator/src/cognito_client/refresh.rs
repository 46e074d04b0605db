//! When a CognitoClient's source must be read again, from its status.

use std::time::Duration;

use jiff::Timestamp;

use crate::cognito_client::CognitoClient;
use crate::condition;

/// If the resource was synced recently enough that the source need not be read now, how long
/// until it must be (`None`: never, the spec asked to sync once).
///
/// Reading this from the status rather than from memory lets a restarted operator pick up the
/// schedule where the last one left off instead of re-reading every source at once.
pub fn fresh_for(
    cc: &CognitoClient,
    secret_name: &str,
    interval: Option<Duration>,
    now: Timestamp,
) -> Option<Option<Duration>> {
    let status = cc.status.as_ref()?;
    let in_sync = condition::is_ready(Some(status))
        && status.observed_generation.is_some()
        && status.observed_generation == cc.metadata.generation
        && status.secret_name.as_deref() == Some(secret_name);
    if !in_sync {
        return None;
    }
    let last = status.last_sync_time.as_ref()?.0;
    let Some(interval) = interval else {
        return Some(None);
    };
    let due = last.checked_add(interval).ok()?;
    let remaining = due.duration_since(now);
    (remaining.is_positive())
        .then(|| Duration::try_from(remaining).ok())
        .flatten()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito_client::CognitoClientSpec;
    use crate::condition::{Observation, Reason, next_status};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn synced_client(generation: i64, observation: Observation) -> CognitoClient {
        let spec: CognitoClientSpec =
            serde_yaml_ng::from_str("userPoolId: p\nsource: {appClient: {clientId: c}}").unwrap();
        let mut cc = CognitoClient::new("cc", spec);
        cc.metadata.generation = Some(generation);
        cc.status = Some(next_status(
            None,
            Some(1),
            "cc",
            &observation,
            at("2026-11-24T10:00:00Z"),
        ));
        cc
    }

    fn ok() -> Observation {
        Observation::Synced {
            client_id: "c".into(),
            rotation: None,
        }
    }

    #[test]
    fn fresh_until_the_interval_has_passed() {
        let cc = synced_client(1, ok());
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(
            fresh_for(&cc, "cc", hour, at("2026-11-24T10:15:00Z")),
            Some(Some(Duration::from_secs(45 * 60)))
        );
        assert_eq!(fresh_for(&cc, "cc", hour, at("2026-11-24T11:00:00Z")), None);
        // Interval 0: synced once, never again for this generation.
        assert_eq!(
            fresh_for(&cc, "cc", None, at("2030-01-01T00:00:00Z")),
            Some(None)
        );
    }

    #[test]
    fn spec_change_failure_or_new_target_forces_a_sync() {
        let now = at("2026-11-24T10:01:00Z");
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(fresh_for(&synced_client(2, ok()), "cc", hour, now), None);
        let failed = synced_client(
            1,
            Observation::Failed {
                reason: Reason::SourceNotFound,
                message: "m".into(),
            },
        );
        assert_eq!(fresh_for(&failed, "cc", hour, now), None);
        assert_eq!(fresh_for(&synced_client(1, ok()), "other", hour, now), None);
        let mut no_status = synced_client(1, ok());
        no_status.status = None;
        assert_eq!(fresh_for(&no_status, "cc", hour, now), None);
    }
}
