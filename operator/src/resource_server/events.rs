//! The Events a CognitoResourceServer reconcile publishes: every change made in Cognito
//! (Created, Updated, Adopted, Deleted, Retained), and every change of the `Ready` condition.

use kube::runtime::events::{Event, EventType};

use crate::condition::Reason;
use crate::error::SyncError;
use crate::report::failure_event;
use crate::resource_server::reconcile::{Change, Finalized, Synced};

/// The Event worth publishing for an outcome, if any. `ready_changed` says whether the `Ready`
/// condition's reason or message changed: a failure or recovery is announced once, not at
/// every retry. `deleting`: the failure was the deletion's.
pub fn event_for(
    outcome: &Result<Synced, SyncError>,
    ready_changed: bool,
    deleting: bool,
) -> Option<Event> {
    let (reason, note, action) = match outcome {
        Ok(Synced::Checked {
            server,
            pool,
            change,
        }) => {
            let id = &server.identifier;
            let pool = &pool.user_pool_id;
            match change {
                Some(Change::Created) => (
                    "Created",
                    format!("Created resource server {id} in user pool {pool}"),
                    "Create",
                ),
                Some(Change::Updated) => (
                    "Updated",
                    format!("Updated the name and scopes of resource server {id} to the spec's"),
                    "Update",
                ),
                Some(Change::Adopted) => (
                    "Adopted",
                    format!("Adopted the existing resource server {id} of user pool {pool}"),
                    "Adopt",
                ),
                None if ready_changed => (
                    Reason::Synced.as_str(),
                    format!("Resource server {id} matches the spec"),
                    "Sync",
                ),
                None => return None,
            }
        }
        Ok(Synced::Finalized(Finalized::Deleted { identifier, pool })) => (
            "Deleted",
            format!("Deleted resource server {identifier} from user pool {pool}"),
            "Delete",
        ),
        Ok(Synced::Finalized(Finalized::Retained { identifier, pool })) => (
            "Retained",
            format!(
                "Left resource server {identifier} in user pool {pool} (deletionPolicy: Retain)"
            ),
            "Delete",
        ),
        Ok(Synced::Finalized(Finalized::NothingClaimed)) => return None,
        Err(err) if ready_changed => {
            let action = if deleting { "Delete" } else { "Sync" };
            return Some(failure_event(err, action));
        }
        Err(_) => return None,
    };
    Some(Event {
        type_: EventType::Normal,
        reason: reason.to_owned(),
        note: Some(note),
        action: action.to_owned(),
        secondary: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito_api::{ResourceServer, UserPoolRef};

    fn checked(change: Option<Change>) -> Result<Synced, SyncError> {
        Ok(Synced::Checked {
            server: ResourceServer {
                identifier: "api".into(),
                name: "api".into(),
                scopes: vec![],
            },
            pool: UserPoolRef {
                region: "us-east-1".into(),
                user_pool_id: "us-east-1_P".into(),
            },
            change,
        })
    }

    #[test]
    fn every_change_in_cognito_is_announced() {
        for (change, reason) in [
            (Change::Created, "Created"),
            (Change::Updated, "Updated"),
            (Change::Adopted, "Adopted"),
        ] {
            let ev = event_for(&checked(Some(change)), false, false).unwrap();
            assert_eq!((ev.type_, ev.reason.as_str()), (EventType::Normal, reason));
        }
        let deleted = Ok(Synced::Finalized(Finalized::Deleted {
            identifier: "api".into(),
            pool: "us-east-1_P".into(),
        }));
        assert_eq!(event_for(&deleted, false, false).unwrap().reason, "Deleted");
    }

    #[test]
    fn steady_outcomes_are_quiet_and_transitions_are_not() {
        assert!(event_for(&checked(None), false, false).is_none());
        assert_eq!(
            event_for(&checked(None), true, false).unwrap().reason,
            "Synced"
        );
        let err: Result<Synced, SyncError> = Err(SyncError::AlreadyExists("taken".into()));
        assert!(event_for(&err, false, false).is_none());
        let ev = event_for(&err, true, false).unwrap();
        assert_eq!(
            (ev.type_, ev.reason.as_str()),
            (EventType::Warning, "AlreadyExists")
        );
        let quiet = Ok(Synced::Finalized(Finalized::NothingClaimed));
        assert!(event_for(&quiet, true, false).is_none());
    }
}
