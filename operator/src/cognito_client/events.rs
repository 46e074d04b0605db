//! The Events a sync publishes: every write of the Secret, every change a managed client's sync
//! made in Cognito, and every change of the `Ready` condition (so a steady failure does not
//! flood the namespace).

use kube::runtime::events::{Event, EventType};

use crate::cognito_client::CognitoClientStatus;
use crate::cognito_client::managed::ManagedChange;
use crate::cognito_client::reconcile::{Synced, Write};
use crate::condition::Reason;
use crate::error::SyncError;
use crate::report::{failure_event, ready_changed};

/// The Events worth publishing for a sync: what a managed sync did in Cognito, then
/// [`event_for`]'s, except a Secret write a Cognito change already announced (one Event per
/// creation or rotation: the Event recorder keeps each for minutes, a thousand clients' worth).
pub fn events_for(
    previous: Option<&CognitoClientStatus>,
    next: &CognitoClientStatus,
    outcome: &Result<Synced, SyncError>,
    secret_name: &str,
) -> Vec<Event> {
    let changes = match outcome {
        Ok(Synced::Checked {
            managed: Some(managed),
            ..
        }) => managed.changes.as_slice(),
        _ => &[],
    };
    let mut events: Vec<Event> = changes
        .iter()
        .map(|c| change_event(c, secret_name))
        .collect();
    let announced = changes
        .iter()
        .any(|c| matches!(c, ManagedChange::Created(_) | ManagedChange::Rotated { .. }));
    events.extend(event_for(previous, next, outcome, secret_name).filter(|e| {
        !(announced && matches!(e.reason.as_str(), "SecretCreated" | "SecretUpdated"))
    }));
    events
}

/// The Event of one change a managed sync made in Cognito (never naming a secret value).
fn change_event(change: &ManagedChange, secret_name: &str) -> Event {
    let (reason, note) = match change {
        ManagedChange::Created(id) => (
            "AppClientCreated",
            format!("Created app client {id}; its credentials are in Secret {secret_name}"),
        ),
        ManagedChange::Recovered { client_id, deleted } => (
            "AppClientRecovered",
            format!(
                "Found app client {client_id} of an interrupted create; deleted {deleted} duplicate(s)"
            ),
        ),
        ManagedChange::Updated(fields) => (
            "AppClientUpdated",
            format!("Corrected {} changed outside Kubernetes", fields.join(", ")),
        ),
        ManagedChange::Rotated { expires } => (
            "SecretRotated",
            format!(
                "Added a new client secret to Secret {secret_name}; the old one is deleted at {expires}"
            ),
        ),
        ManagedChange::PreviousSecretDeleted => (
            "OldSecretDeleted",
            "Deleted the previous client secret".to_owned(),
        ),
        ManagedChange::OrphanSecretDeleted => (
            "OrphanSecretDeleted",
            "Deleted a client secret an interrupted rotation added but never stored".to_owned(),
        ),
    };
    Event {
        type_: EventType::Normal,
        reason: reason.to_owned(),
        note: Some(note),
        action: "Sync".to_owned(),
        secondary: None,
    }
}

/// The Event worth publishing for a sync, if any: every write, and every change of the Ready
/// condition's reason or message (so a steady failure does not flood the namespace).
pub fn event_for(
    previous: Option<&CognitoClientStatus>,
    next: &CognitoClientStatus,
    outcome: &Result<Synced, SyncError>,
    secret_name: &str,
) -> Option<Event> {
    let changed = ready_changed(
        previous.map_or(&[][..], |s| s.conditions.as_slice()),
        &next.conditions,
    );
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
        Err(err) if changed => return Some(failure_event(err, "Sync")),
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
    use crate::condition::{Observation, next_status};
    use jiff::Timestamp;

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
    fn a_creation_or_rotation_is_one_event_naming_the_secret() {
        use crate::cognito_client::managed::ManagedOutcome;
        use crate::cognito_client::managed::record::SecretRecord;
        let t = at("2026-11-24T10:00:00Z");
        let obs = Observation::Synced {
            client_id: "c".into(),
            rotation: None,
        };
        let status = next_status(None, Some(1), "s", &obs, t);
        let outcome = |change: ManagedChange, write: Write| {
            Ok(Synced::Checked {
                client_id: "c".into(),
                written: Some(write),
                managed: Some(ManagedOutcome {
                    record: SecretRecord::default(),
                    next_rotation: None,
                    changes: vec![change],
                }),
            })
        };
        let created = events_for(
            Some(&status),
            &status,
            &outcome(ManagedChange::Created("c".into()), Write::Created),
            "creds",
        );
        let reasons: Vec<_> = created.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons, ["AppClientCreated"]);
        assert!(created[0].note.as_deref().unwrap().contains("Secret creds"));
        let rotated = events_for(
            Some(&status),
            &status,
            &outcome(ManagedChange::Rotated { expires: t }, Write::Updated),
            "creds",
        );
        let reasons: Vec<_> = rotated.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons, ["SecretRotated"]);
        // A drift fix that also rewrote the Secret still reports both.
        let updated = events_for(
            Some(&status),
            &status,
            &outcome(
                ManagedChange::Updated(vec!["AllowedOAuthScopes"]),
                Write::Updated,
            ),
            "creds",
        );
        let reasons: Vec<_> = updated.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons, ["AppClientUpdated", "SecretUpdated"]);
    }

    #[test]
    fn writes_always_make_an_event() {
        let t = at("2026-11-24T10:00:00Z");
        let obs = Observation::Synced {
            client_id: "c".into(),
            rotation: None,
        };
        let first = next_status(None, Some(1), "s", &obs, t);
        let again = next_status(Some(&first), Some(1), "s", &obs, t);
        let outcome = Ok(Synced::Checked {
            client_id: "c".into(),
            written: Some(Write::Updated),
            managed: None,
        });
        let ev = event_for(Some(&first), &again, &outcome, "s").unwrap();
        assert_eq!(ev.reason, "SecretUpdated");
        assert_eq!(ev.type_, EventType::Normal);
        let unchanged = Ok(Synced::Checked {
            client_id: "c".into(),
            written: None,
            managed: None,
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
                rotation: None,
            },
            t,
        );
        let outcome = Ok(Synced::Checked {
            client_id: "c".into(),
            written: None,
            managed: None,
        });
        let ev = event_for(Some(&broken), &ok, &outcome, "s").unwrap();
        assert_eq!(ev.reason, "Synced");
    }
}
