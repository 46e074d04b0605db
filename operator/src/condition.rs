//! The status vocabulary of every kind: the `Ready` condition and its reasons, the `Rotating`
//! condition of managed clients, and how an outcome becomes status ([`set_condition`] for any
//! kind, [`next_status`] for a CognitoClient).
//!
//! Every `Ready` reason the operator ever reports is a variant of [`Reason`]; conditions are
//! written only through [`set_condition`].

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::cognito_client::CognitoClientStatus;

/// Type of the condition every kind carries.
pub const READY: &str = "Ready";
/// Type of the condition a managed CognitoClient carries while its secret is being rotated.
pub const ROTATING: &str = "Rotating";

/// Why the `Ready` condition has its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The Secret matches the source.
    Synced,
    /// The spec cannot be acted on (both or no sources, bad refreshInterval, no region).
    InvalidSpec,
    /// The Secrets Manager secret, user pool or app client does not exist.
    SourceNotFound,
    /// The source exists but does not hold usable credentials (bad JSON, no client secret).
    SourceInvalid,
    /// AWS refused the operator's credentials or permissions.
    AccessDenied,
    /// AWS could not be reached or failed (network, throttling, 5xx).
    SourceUnavailable,
    /// A Secret of the target name exists and is not owned by this CognitoClient.
    SecretConflict,
    /// The Kubernetes API rejected or failed a request.
    KubernetesError,
    /// The Cognito object exists and was not created by this resource (adopt it with the
    /// `cognito-m2m.dev/adopt: "true"` annotation).
    AlreadyExists,
    /// An app client names a scope no resource server of the pool defines.
    UnknownScope,
    /// A Cognito quota on the number of objects was reached.
    LimitExceeded,
}

impl Reason {
    /// Every reason, for metrics initialisation and documentation.
    pub const ALL: [Reason; 11] = [
        Reason::Synced,
        Reason::InvalidSpec,
        Reason::SourceNotFound,
        Reason::SourceInvalid,
        Reason::AccessDenied,
        Reason::SourceUnavailable,
        Reason::SecretConflict,
        Reason::KubernetesError,
        Reason::AlreadyExists,
        Reason::UnknownScope,
        Reason::LimitExceeded,
    ];

    /// The CamelCase string written into the condition, events and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Synced => "Synced",
            Reason::InvalidSpec => "InvalidSpec",
            Reason::SourceNotFound => "SourceNotFound",
            Reason::SourceInvalid => "SourceInvalid",
            Reason::AccessDenied => "AccessDenied",
            Reason::SourceUnavailable => "SourceUnavailable",
            Reason::SecretConflict => "SecretConflict",
            Reason::KubernetesError => "KubernetesError",
            Reason::AlreadyExists => "AlreadyExists",
            Reason::UnknownScope => "UnknownScope",
            Reason::LimitExceeded => "LimitExceeded",
        }
    }

    /// `"True"` for [`Reason::Synced`], `"False"` for every failure.
    pub fn status(self) -> &'static str {
        if self == Reason::Synced {
            "True"
        } else {
            "False"
        }
    }
}

/// The `Ready` condition of a status, if any.
pub fn ready_condition(status: Option<&CognitoClientStatus>) -> Option<&Condition> {
    find(&status?.conditions, READY)
}

/// The condition of `type_` among `conditions`, if any.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Sets the condition of `type_` (`status` is `"True"` or `"False"`), replacing any earlier
/// one. `lastTransitionTime` moves only when the status flips, as the Kubernetes API conventions
/// ask, so an unchanged outcome yields identical conditions and no write.
pub fn set_condition(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    generation: Option<i64>,
    now: Timestamp,
) {
    let transition = match find(conditions, type_) {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => Time(now),
    };
    let condition = Condition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: reason.to_owned(),
        message,
        last_transition_time: transition,
        observed_generation: generation,
    };
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(existing) => *existing = condition,
        None => conditions.push(condition),
    }
}

/// Sets the `Ready` condition for `reason` (`"True"` only for [`Reason::Synced`]).
pub fn set_ready(
    conditions: &mut Vec<Condition>,
    reason: Reason,
    message: String,
    generation: Option<i64>,
    now: Timestamp,
) {
    set_condition(
        conditions,
        READY,
        reason.status(),
        reason.as_str(),
        message,
        generation,
        now,
    );
}

/// Whether a status says Ready=True.
pub fn is_ready(status: Option<&CognitoClientStatus>) -> bool {
    ready_condition(status).is_some_and(|c| c.status == "True")
}

/// A managed client's rotation state, as its status shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rotation {
    /// When the Secret last received a new client secret (`None`: never rotated).
    pub last: Option<Timestamp>,
    /// When the next scheduled rotation is due.
    pub next: Option<Timestamp>,
    /// The `cognito-m2m.dev/rotate-secret` value the last rotation answered.
    pub request: Option<String>,
    /// While an overlap runs: when the old secret is deleted.
    pub old_secret_expires: Option<Timestamp>,
}

/// The result of one sync, as far as the status is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The Secret was confirmed (or made) to match the source at `now`.
    Synced {
        /// The app client id.
        client_id: String,
        /// Managed clients: the rotation state (sets the `Rotating` condition).
        rotation: Option<Rotation>,
    },
    /// The sync failed.
    Failed {
        /// Why.
        reason: Reason,
        /// What went wrong, free of secret values.
        message: String,
    },
}

/// The status after an observation, keeping what the observation does not change.
///
/// `lastTransitionTime` moves only when the condition's status flips, as Kubernetes conventions ask,
/// so an unchanged outcome yields an identical status and no write.
pub fn next_status(
    previous: Option<&CognitoClientStatus>,
    generation: Option<i64>,
    secret_name: &str,
    observation: &Observation,
    now: Timestamp,
) -> CognitoClientStatus {
    let mut status = previous.cloned().unwrap_or_default();
    status.observed_generation = generation;
    status.secret_name = Some(secret_name.to_owned());
    let (reason, message) = match observation {
        Observation::Synced {
            client_id,
            rotation,
        } => {
            status.client_id = Some(client_id.clone());
            status.last_sync_time = Some(Time(now));
            if let Some(rotation) = rotation {
                set_rotation(&mut status, rotation, generation, now);
            }
            (
                Reason::Synced,
                format!("Secret {secret_name} holds the current credentials"),
            )
        }
        Observation::Failed { reason, message } => (*reason, message.clone()),
    };
    set_ready(&mut status.conditions, reason, message, generation, now);
    status
}

/// The rotation fields and the `Rotating` condition of a managed client.
fn set_rotation(
    status: &mut CognitoClientStatus,
    rotation: &Rotation,
    generation: Option<i64>,
    now: Timestamp,
) {
    status.last_rotation_time = rotation.last.map(Time);
    status.next_rotation_time = rotation.next.map(Time);
    status.rotation_request = rotation.request.clone();
    let (state, reason, message) = match rotation.old_secret_expires {
        Some(expires) => (
            "True",
            "OldSecretActive",
            format!("the Secret holds the new client secret; the old one is deleted at {expires}"),
        ),
        None => (
            "False",
            "SingleSecret",
            match rotation.next {
                Some(next) => format!("one client secret; the next rotation is due at {next}"),
                None => "one client secret; rotated on request only".to_owned(),
            },
        ),
    };
    set_condition(
        &mut status.conditions,
        ROTATING,
        state,
        reason,
        message,
        generation,
        now,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn synced_sets_everything_and_becomes_ready() {
        let now = at("2026-11-24T10:00:00Z");
        let s = next_status(
            None,
            Some(3),
            "creds",
            &Observation::Synced {
                client_id: "abc".into(),
                rotation: None,
            },
            now,
        );
        assert_eq!(s.observed_generation, Some(3));
        assert_eq!(s.secret_name.as_deref(), Some("creds"));
        assert_eq!(s.client_id.as_deref(), Some("abc"));
        assert_eq!(s.last_sync_time, Some(Time(now)));
        let c = ready_condition(Some(&s)).unwrap();
        assert_eq!((c.status.as_str(), c.reason.as_str()), ("True", "Synced"));
        assert_eq!(c.last_transition_time, Time(now));
        assert!(is_ready(Some(&s)));
    }

    #[test]
    fn failure_keeps_last_sync_and_client_and_flips_transition_time() {
        let t0 = at("2026-11-24T10:00:00Z");
        let t1 = at("2026-11-24T11:00:00Z");
        let ok = next_status(
            None,
            Some(1),
            "creds",
            &Observation::Synced {
                client_id: "abc".into(),
                rotation: None,
            },
            t0,
        );
        let failed = next_status(
            Some(&ok),
            Some(1),
            "creds",
            &Observation::Failed {
                reason: Reason::SourceNotFound,
                message: "gone".into(),
            },
            t1,
        );
        assert_eq!(failed.client_id.as_deref(), Some("abc"));
        assert_eq!(failed.last_sync_time, Some(Time(t0)));
        let c = ready_condition(Some(&failed)).unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_str(), c.message.as_str()),
            ("False", "SourceNotFound", "gone")
        );
        assert_eq!(c.last_transition_time, Time(t1));
        assert_eq!(failed.conditions.len(), 1);
    }

    #[test]
    fn the_same_failure_twice_gives_the_same_status() {
        let fail = Observation::Failed {
            reason: Reason::SecretConflict,
            message: "foreign".into(),
        };
        let first = next_status(None, Some(1), "s", &fail, at("2026-11-24T10:00:00Z"));
        let again = next_status(
            Some(&first),
            Some(1),
            "s",
            &fail,
            at("2026-11-24T10:05:00Z"),
        );
        assert_eq!(first, again);
    }

    #[test]
    fn a_different_failure_keeps_the_transition_time() {
        let t0 = at("2026-11-24T10:00:00Z");
        let a = next_status(
            None,
            Some(1),
            "s",
            &Observation::Failed {
                reason: Reason::SourceNotFound,
                message: "a".into(),
            },
            t0,
        );
        let b = next_status(
            Some(&a),
            Some(1),
            "s",
            &Observation::Failed {
                reason: Reason::AccessDenied,
                message: "b".into(),
            },
            at("2026-11-24T10:05:00Z"),
        );
        let c = ready_condition(Some(&b)).unwrap();
        assert_eq!(c.reason, "AccessDenied");
        assert_eq!(c.last_transition_time, Time(t0));
    }

    #[test]
    fn reasons_are_distinct_and_only_synced_is_true() {
        let names: std::collections::HashSet<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), Reason::ALL.len());
        for r in Reason::ALL {
            assert_eq!(r.status() == "True", r == Reason::Synced);
        }
    }
}
