//! Leader election through a `coordination.k8s.io/v1` Lease, so only one replica reconciles.
//!
//! The holder renews `renewTime` every retry period with an optimistic-concurrency `replace`
//! (the Lease's resourceVersion); any other replica takes over once `renewTime +
//! leaseDurationSeconds` has passed. A holder that cannot renew within its renew deadline, or
//! finds another holder, steps down.

use std::future::Future;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::MANAGER;

/// Settings of one elector.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    /// Name of the Lease object.
    pub name: String,
    /// This replica's identity (the pod name).
    pub identity: String,
    /// How long a lease is valid after its last renewal.
    pub lease_duration: Duration,
    /// How long the holder keeps leading while renewals fail.
    pub renew_deadline: Duration,
    /// How often to try to acquire or renew.
    pub retry_period: Duration,
}

/// What to do with the Lease as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// We hold it: bump renewTime.
    Renew,
    /// Nobody holds it or the holder's lease expired: take it.
    TakeOver,
    /// Someone else holds a valid lease.
    Follow {
        /// The current holder.
        holder: String,
    },
}

/// Decides from the Lease's spec what this identity should do at `now`.
pub fn decide(spec: Option<&LeaseSpec>, identity: &str, now: Timestamp) -> Decision {
    let Some(spec) = spec else {
        return Decision::TakeOver;
    };
    let holder = spec.holder_identity.as_deref().unwrap_or_default();
    if holder.is_empty() {
        return Decision::TakeOver;
    }
    if holder == identity {
        return Decision::Renew;
    }
    let last = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map(|t| t.0);
    let duration =
        jiff::SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(0).max(0)));
    match last.and_then(|l| l.checked_add(duration).ok()) {
        Some(expiry) if expiry > now => Decision::Follow {
            holder: holder.to_owned(),
        },
        _ => Decision::TakeOver,
    }
}

/// Acquires, renews and releases one Lease.
pub struct LeaseElector {
    api: Api<Lease>,
    settings: LeaseSettings,
}

impl LeaseElector {
    /// An elector for the Lease `settings.name` in the namespace of `api`.
    pub fn new(api: Api<Lease>, settings: LeaseSettings) -> Self {
        Self { api, settings }
    }

    /// The elector's settings.
    pub fn settings(&self) -> &LeaseSettings {
        &self.settings
    }

    fn lease_seconds(&self) -> i32 {
        i32::try_from(self.settings.lease_duration.as_secs().max(1)).unwrap_or(i32::MAX)
    }

    /// Tries to become or stay the holder; `Ok(true)` means this identity holds the Lease now.
    ///
    /// Losing a create or update race (409) is an ordinary `Ok(false)`.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let identity = self.settings.identity.clone();
        let existing = self.api.get_opt(&self.settings.name).await?;
        let result = match existing {
            None => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.settings.name.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(LeaseSpec {
                        holder_identity: Some(identity),
                        lease_duration_seconds: Some(self.lease_seconds()),
                        acquire_time: Some(MicroTime(now)),
                        renew_time: Some(MicroTime(now)),
                        lease_transitions: Some(0),
                        ..LeaseSpec::default()
                    }),
                };
                self.api.create(&write_params(), &lease).await
            }
            Some(mut lease) => {
                let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
                match decide(Some(spec), &identity, now) {
                    Decision::Follow { .. } => return Ok(false),
                    Decision::Renew => {
                        spec.renew_time = Some(MicroTime(now));
                        spec.lease_duration_seconds = Some(self.lease_seconds());
                    }
                    Decision::TakeOver => {
                        spec.holder_identity = Some(identity);
                        spec.acquire_time = Some(MicroTime(now));
                        spec.renew_time = Some(MicroTime(now));
                        spec.lease_duration_seconds = Some(self.lease_seconds());
                        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
                    }
                }
                // replace carries metadata.resourceVersion: a concurrent writer makes this 409.
                self.api
                    .replace(&self.settings.name, &write_params(), &lease)
                    .await
            }
        };
        match result {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the Lease up if this identity holds it, so a standby can take over at once.
    pub async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.settings.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.settings.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        spec.lease_duration_seconds = Some(1);
        self.api
            .replace(&self.settings.name, &write_params(), &lease)
            .await?;
        Ok(())
    }
}

/// How holding the Lease ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenure {
    /// Shutdown was asked for, or the work ended: the Lease is still ours to release.
    Ended,
    /// Another replica holds the Lease, or it could not be renewed before the renew deadline.
    Lost,
}

impl LeaseElector {
    /// One acquire-or-renew within `limit`: a call the API server never answers counts as an
    /// error, so no Lease call holds the election loop longer than that.
    async fn attempt(&self, limit: Duration) -> Result<bool, String> {
        match tokio::time::timeout(limit, self.try_acquire_or_renew()).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err(format!("the API server did not answer within {limit:?}")),
        }
    }

    /// Tries every retry period until this replica holds the Lease, however long the API
    /// server is away; `None` when `shutdown` came first. Returns when the winning attempt
    /// was sent: the Lease's `renewTime` is no earlier, so the renew deadline counts from it.
    /// `lease` (`namespace/name`) names it in the logs.
    pub async fn acquire(&self, lease: &str, shutdown: &CancellationToken) -> Option<Instant> {
        loop {
            let sent = Instant::now();
            match self.attempt(self.settings.renew_deadline).await {
                Ok(true) => return Some(sent),
                Ok(false) => {}
                Err(error) => warn!(%lease, %error, "could not acquire the leader lease"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return None,
                _ = tokio::time::sleep(self.settings.retry_period) => {}
            }
        }
    }

    /// Renews the Lease, held since `renewed` (when the acquiring attempt was sent), every
    /// retry period while `work` runs, until `shutdown`, the end of `work`, or the loss of the
    /// Lease: another holder, or no renewal sent within the renew deadline of the last
    /// successful one (errors before it are only logged, and a renewal the API server does not
    /// answer is given up at the deadline). The renew deadline is shorter than the lease
    /// duration, so this replica stops leading before any other may take over.
    pub async fn hold_while<W: Future + Unpin>(
        &self,
        lease: &str,
        renewed: Instant,
        shutdown: &CancellationToken,
        work: &mut W,
    ) -> Tenure {
        let mut last_renewal = renewed;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Tenure::Ended,
                _ = &mut *work => return Tenure::Ended,
                _ = tokio::time::sleep(self.settings.retry_period) => {}
            }
            let left = self
                .settings
                .renew_deadline
                .saturating_sub(last_renewal.elapsed());
            let sent = Instant::now();
            match self.attempt(left).await {
                Ok(true) => last_renewal = sent,
                Ok(false) => return Tenure::Lost,
                Err(error) if last_renewal.elapsed() >= self.settings.renew_deadline => {
                    warn!(%lease, %error, "could not renew the leader lease before the deadline");
                    return Tenure::Lost;
                }
                Err(error) => warn!(%lease, %error, "could not renew the leader lease; retrying"),
            }
        }
    }
}

/// Lease writes name the operator as their field manager, as its other writes do, so
/// `managedFields` says who holds which field (the API server's default would be the client's
/// user agent).
fn write_params() -> PostParams {
    PostParams {
        field_manager: Some(MANAGER.to_owned()),
        ..PostParams::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn held_by(holder: &str, renewed: &str, seconds: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(holder.into()),
            renew_time: Some(MicroTime(at(renewed))),
            lease_duration_seconds: Some(seconds),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn no_lease_or_no_holder_is_taken() {
        let now = at("2026-11-24T10:00:00Z");
        assert_eq!(decide(None, "a", now), Decision::TakeOver);
        let released = LeaseSpec {
            holder_identity: None,
            ..held_by("x", "2026-11-24T10:00:00Z", 15)
        };
        assert_eq!(decide(Some(&released), "a", now), Decision::TakeOver);
    }

    #[test]
    fn own_lease_is_renewed_even_when_expired() {
        let spec = held_by("a", "2026-11-24T09:00:00Z", 15);
        assert_eq!(
            decide(Some(&spec), "a", at("2026-11-24T10:00:00Z")),
            Decision::Renew
        );
    }

    #[test]
    fn others_valid_lease_is_followed_until_it_expires() {
        let spec = held_by("b", "2026-11-24T10:00:00Z", 15);
        assert_eq!(
            decide(Some(&spec), "a", at("2026-11-24T10:00:14Z")),
            Decision::Follow { holder: "b".into() }
        );
        assert_eq!(
            decide(Some(&spec), "a", at("2026-11-24T10:00:15Z")),
            Decision::TakeOver
        );
        let never_renewed = LeaseSpec {
            holder_identity: Some("b".into()),
            ..LeaseSpec::default()
        };
        assert_eq!(
            decide(Some(&never_renewed), "a", at("2026-11-24T10:00:00Z")),
            Decision::TakeOver
        );
    }
}
