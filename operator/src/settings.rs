//! What a running operator needs to know, as typed values: [`crate::run`] takes these, `main`
//! fills them from the command line ([`crate::Config`]) and tests build them directly.

use std::num::NonZeroU32;
use std::time::Duration;

/// The operator's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Namespaces whose CognitoClients are reconciled; empty watches all.
    pub watch_namespaces: Vec<String>,
    /// Lease-based leader election; `None` makes this replica reconcile at once (local runs).
    pub leader_election: Option<LeaderElection>,
    /// This replica's identity: the Lease's `holderIdentity` and the Events' reporting instance.
    pub replica_identity: String,
    /// Reconciliations run at the same time (0 = unbounded).
    pub reconcile_concurrency: u16,
    /// First retry delay after a transient failure; it doubles per attempt.
    pub retry_base_delay: Duration,
    /// Longest retry delay after repeated transient failures.
    pub retry_max_delay: Duration,
    /// Most Cognito admin API requests per second this replica sends (`None`: no cap).
    pub cognito_rate_limit: Option<NonZeroU32>,
}

/// Default of [`Settings::cognito_rate_limit`]: well under Cognito's default request-rate quotas
/// for app client and resource server operations, which the account's other tools share.
pub const DEFAULT_COGNITO_RATE_LIMIT: u32 = 10;

/// Where the Lease is and its timings (`coordination.k8s.io/v1` Lease semantics, as client-go's
/// leader election uses them: retry period < renew deadline < lease duration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderElection {
    /// Namespace of the Lease; the client's default namespace (the pod's) when `None`.
    pub namespace: Option<String>,
    /// Name of the Lease.
    pub lease_name: String,
    /// How long a Lease stays valid after its last renewal.
    pub lease_duration: Duration,
    /// How long the leader keeps reconciling while it cannot renew.
    pub renew_deadline: Duration,
    /// How often the Lease is acquired or renewed.
    pub retry_period: Duration,
}

impl Default for LeaderElection {
    /// The contract's defaults: Lease `cognito-client-operator`, 15 s / 10 s / 2 s.
    fn default() -> Self {
        Self {
            namespace: None,
            lease_name: crate::MANAGER.to_owned(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

impl Default for Settings {
    /// The contract's defaults: all namespaces, leader election on, 16 reconciles at a time,
    /// retries from 1 s up to 5 min, 10 Cognito requests per second, and the host's identity
    /// ([`host_identity`]).
    fn default() -> Self {
        Self {
            watch_namespaces: Vec::new(),
            leader_election: Some(LeaderElection::default()),
            replica_identity: host_identity(),
            reconcile_concurrency: 16,
            retry_base_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(300),
            cognito_rate_limit: NonZeroU32::new(DEFAULT_COGNITO_RATE_LIMIT),
        }
    }
}

/// Settings that cannot work together; each names the variable to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The leader could lose its Lease before it notices.
    #[error(
        "LEASE_RENEW_DEADLINE ({renew_deadline:?}) must be shorter than LEASE_DURATION ({lease_duration:?})"
    )]
    RenewDeadline {
        /// `LEASE_RENEW_DEADLINE`.
        renew_deadline: Duration,
        /// `LEASE_DURATION`.
        lease_duration: Duration,
    },
    /// The leader would not try to renew before its deadline.
    #[error(
        "LEASE_RETRY_PERIOD ({retry_period:?}) must be shorter than LEASE_RENEW_DEADLINE ({renew_deadline:?})"
    )]
    RetryPeriod {
        /// `LEASE_RETRY_PERIOD`.
        retry_period: Duration,
        /// `LEASE_RENEW_DEADLINE`.
        renew_deadline: Duration,
    },
    /// The backoff would never grow, or start above its cap.
    #[error("RETRY_BASE_DELAY must be positive and at most RETRY_MAX_DELAY")]
    RetryDelays,
}

impl Settings {
    /// Checks what the types cannot: the lease timings must nest (retry period < renew deadline <
    /// lease duration), or a leader could lose its lease before it notices; and the retry delays
    /// must be ordered.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if let Some(lease) = &self.leader_election {
            if lease.renew_deadline >= lease.lease_duration {
                return Err(SettingsError::RenewDeadline {
                    renew_deadline: lease.renew_deadline,
                    lease_duration: lease.lease_duration,
                });
            }
            if lease.retry_period >= lease.renew_deadline {
                return Err(SettingsError::RetryPeriod {
                    retry_period: lease.retry_period,
                    renew_deadline: lease.renew_deadline,
                });
            }
        }
        if self.retry_base_delay.is_zero() || self.retry_base_delay > self.retry_max_delay {
            return Err(SettingsError::RetryDelays);
        }
        Ok(())
    }
}

/// This replica's identity when no pod name is given: `HOSTNAME` (a pod's name inside
/// Kubernetes), else a name made unique by the process id.
pub fn host_identity() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| format!("{}-{}", crate::MANAGER, std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Settings::default().validate(), Ok(()));
    }

    #[test]
    fn lease_timings_must_nest_only_with_leader_election() {
        let with = |lease: LeaderElection| Settings {
            leader_election: Some(lease),
            ..Settings::default()
        };
        let equal_deadline = LeaderElection {
            lease_duration: Duration::from_secs(5),
            renew_deadline: Duration::from_secs(5),
            ..LeaderElection::default()
        };
        let err = with(equal_deadline).validate().unwrap_err();
        assert!(err.to_string().contains("LEASE_RENEW_DEADLINE"), "{err}");
        let slow_retry = LeaderElection {
            retry_period: Duration::from_secs(10),
            ..LeaderElection::default()
        };
        let err = with(slow_retry).validate().unwrap_err();
        assert!(err.to_string().contains("LEASE_RETRY_PERIOD"), "{err}");
        let without = Settings {
            leader_election: None,
            ..Settings::default()
        };
        assert_eq!(without.validate(), Ok(()));
    }

    #[test]
    fn retry_delays_must_be_ordered() {
        let inverted = Settings {
            retry_base_delay: Duration::from_secs(600),
            ..Settings::default()
        };
        assert_eq!(inverted.validate(), Err(SettingsError::RetryDelays));
        let zero = Settings {
            retry_base_delay: Duration::ZERO,
            ..Settings::default()
        };
        assert_eq!(zero.validate(), Err(SettingsError::RetryDelays));
    }
}
