//! When a managed client's secret is rotated, as a decision from the Secret's record alone: so
//! a restarted operator resumes a rotation at the step it reached, and never starts a second one
//! while the first still has two secrets alive.
//!
//! A rotation is: add a new secret (AddUserPoolClientSecret; Cognito keeps at most two), write it
//! to the Secret together with the record of the old one and when it expires, wait for the
//! overlap, delete the old secret (DeleteUserPoolClientSecret), forget it in the record.

use std::time::Duration;

use jiff::Timestamp;

use super::record::SecretRecord;
use crate::cognito_api::ClientSecret;
use crate::cognito_client::RotationSchedule;

/// How long the old secret lives on after a rotation asked for by annotation on a client without
/// `secretRotation` (the contract's default overlap).
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(600);

/// What the rotation needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationStep {
    /// Nothing: one secret, no rotation due. `next` is when the schedule makes one due.
    Idle {
        /// When the next scheduled rotation is due (`None`: only on request).
        next: Option<Timestamp>,
    },
    /// The old secret still serves callers until `expires`.
    Overlapping {
        /// When the old secret is deleted.
        expires: Timestamp,
    },
    /// The overlap is over: delete the old secret.
    RetirePrevious,
    /// Add a new secret now (scheduled, or the annotation has a new value).
    Start,
}

/// The next step for a Secret with this record, given the schedule, the current value of the
/// `cognito-m2m.dev/rotate-secret` annotation, and the time.
pub fn next_step(
    record: &SecretRecord,
    schedule: Option<RotationSchedule>,
    request: Option<&str>,
    now: Timestamp,
) -> RotationStep {
    if let Some(overlap) = &record.overlap {
        return if now >= overlap.expires {
            RotationStep::RetirePrevious
        } else {
            RotationStep::Overlapping {
                expires: overlap.expires,
            }
        };
    }
    let requested = request.is_some_and(|r| Some(r) != record.rotation_request.as_deref());
    let next = schedule.and_then(|s| {
        let issued = record.issued_at.unwrap_or(now);
        issued.checked_add(s.interval).ok()
    });
    if requested || next.is_some_and(|next| now >= next) {
        RotationStep::Start
    } else {
        RotationStep::Idle { next }
    }
}

/// The overlap to keep the old secret for.
pub fn overlap(schedule: Option<RotationSchedule>) -> Duration {
    schedule.map_or(DEFAULT_OVERLAP, |s| s.overlap)
}

/// Among a client's two secrets, the one the Secret does not hold: an orphan added by a rotation
/// that stopped before its Secret write (its value is lost, so it can only be deleted). The held
/// one is the record's id, or, for the client's original secret, the oldest.
pub fn unheld<'a>(secrets: &'a [ClientSecret], held: Option<&str>) -> Option<&'a ClientSecret> {
    let held_id = match held {
        Some(id) => Some(id.to_owned()),
        None => secrets
            .iter()
            .min_by_key(|s| s.created)
            .map(|s| s.id.clone()),
    };
    secrets
        .iter()
        .filter(|s| Some(&s.id) != held_id.as_ref())
        .max_by_key(|s| s.created)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito_client::managed::record::Overlap;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn schedule(interval_h: u64) -> Option<RotationSchedule> {
        Some(RotationSchedule {
            interval: Duration::from_secs(interval_h * 3600),
            overlap: Duration::from_secs(600),
        })
    }

    fn issued(at_: &str) -> SecretRecord {
        SecretRecord {
            issued_at: Some(at(at_)),
            ..SecretRecord::default()
        }
    }

    #[test]
    fn a_schedule_makes_a_rotation_due_after_its_interval() {
        let record = issued("2026-11-30T00:00:00Z");
        assert_eq!(
            next_step(&record, schedule(24), None, at("2026-11-30T12:00:00Z")),
            RotationStep::Idle {
                next: Some(at("2026-12-01T00:00:00Z"))
            }
        );
        assert_eq!(
            next_step(&record, schedule(24), None, at("2026-12-01T00:00:00Z")),
            RotationStep::Start
        );
        assert_eq!(
            next_step(&record, None, None, at("2030-01-01T00:00:00Z")),
            RotationStep::Idle { next: None }
        );
    }

    #[test]
    fn only_a_new_annotation_value_requests_a_rotation() {
        let mut record = issued("2026-11-30T00:00:00Z");
        let now = at("2026-11-30T01:00:00Z");
        assert_eq!(
            next_step(&record, None, Some("1"), now),
            RotationStep::Start
        );
        record.rotation_request = Some("1".into());
        assert_eq!(
            next_step(&record, None, Some("1"), now),
            RotationStep::Idle { next: None }
        );
        assert_eq!(
            next_step(&record, None, Some("2"), now),
            RotationStep::Start
        );
    }

    #[test]
    fn an_overlap_blocks_new_rotations_until_the_old_secret_is_retired() {
        let record = SecretRecord {
            overlap: Some(Overlap {
                secret_id: Some("c--1".into()),
                expires: at("2026-11-30T00:10:00Z"),
            }),
            ..issued("2026-11-29T00:00:00Z")
        };
        // Even a due schedule and a new request wait: a third secret must never be needed.
        assert_eq!(
            next_step(
                &record,
                schedule(1),
                Some("new"),
                at("2026-11-30T00:05:00Z")
            ),
            RotationStep::Overlapping {
                expires: at("2026-11-30T00:10:00Z")
            }
        );
        assert_eq!(
            next_step(
                &record,
                schedule(1),
                Some("new"),
                at("2026-11-30T00:10:00Z")
            ),
            RotationStep::RetirePrevious
        );
    }

    #[test]
    fn the_unheld_secret_is_the_orphan() {
        let secret = |id: &str, t: &str| ClientSecret {
            id: id.into(),
            value: None,
            created: Some(at(t)),
        };
        let two = [
            secret("c--1", "2026-11-01T00:00:00Z"),
            secret("c--2", "2026-11-30T00:00:00Z"),
        ];
        assert_eq!(unheld(&two, Some("c--2")).unwrap().id, "c--1");
        assert_eq!(unheld(&two, Some("c--1")).unwrap().id, "c--2");
        // The original secret is the oldest one.
        assert_eq!(unheld(&two, None).unwrap().id, "c--2");
        assert_eq!(unheld(&two[..1], None), None);
        assert_eq!(overlap(None), DEFAULT_OVERLAP);
    }
}
