//! The operator's command line: flags, each also an environment variable, read into
//! [`Settings`] for [`crate::run`]. Only the binary parses these; tests build `Settings` directly.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{ArgAction, Parser};

use crate::settings::{LeaderElection, Settings, SettingsError, host_identity};

/// cognito-client-operator: reconciles CognitoClient resources into Secrets.
#[derive(Debug, Clone, Parser)]
#[command(name = "cognito-client-operator", version, about)]
pub struct Config {
    /// Address serving /healthz, /readyz and /metrics.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    pub listen_addr: SocketAddr,

    /// Comma-separated namespaces to watch; empty watches all.
    #[arg(long, env = "WATCH_NAMESPACES", default_value = "", value_parser = parse_namespaces)]
    pub watch_namespaces: Namespaces,

    /// Elect a leader through a Lease so that only one replica reconciles (false for local runs).
    #[arg(long, env = "LEADER_ELECTION", default_value_t = true, action = ArgAction::Set)]
    pub leader_election: bool,

    /// Namespace of the Lease; the pod's (or kubeconfig's) namespace when empty.
    #[arg(long, env = "LEADER_ELECTION_NAMESPACE", default_value = "")]
    pub leader_election_namespace: String,

    /// Name of the Lease.
    #[arg(
        long,
        env = "LEADER_ELECTION_LEASE_NAME",
        default_value = "cognito-client-operator"
    )]
    pub leader_election_lease_name: String,

    /// This replica's identity in the Lease and in Events; the host name when empty.
    #[arg(long, env = "POD_NAME", default_value = "")]
    pub pod_name: String,

    /// How long a Lease stays valid after its last renewal.
    #[arg(long, env = "LEASE_DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    pub lease_duration: Duration,

    /// How long the leader keeps reconciling while it cannot renew.
    #[arg(long, env = "LEASE_RENEW_DEADLINE", default_value = "10s", value_parser = humantime::parse_duration)]
    pub lease_renew_deadline: Duration,

    /// How often the Lease is acquired or renewed.
    #[arg(long, env = "LEASE_RETRY_PERIOD", default_value = "2s", value_parser = humantime::parse_duration)]
    pub lease_retry_period: Duration,

    /// Reconciliations run at the same time (0 = unbounded).
    #[arg(long, env = "RECONCILE_CONCURRENCY", default_value_t = 16)]
    pub reconcile_concurrency: u16,

    /// First retry delay after a transient failure (doubles per attempt).
    #[arg(long, env = "RETRY_BASE_DELAY", default_value = "1s", value_parser = humantime::parse_duration)]
    pub retry_base_delay: Duration,

    /// Longest retry delay after repeated transient failures.
    #[arg(long, env = "RETRY_MAX_DELAY", default_value = "5m", value_parser = humantime::parse_duration)]
    pub retry_max_delay: Duration,

    /// Most Cognito admin API requests per second (0 = no cap); keep it under the account's
    /// Cognito request-rate quotas, which every tool in the account shares.
    #[arg(long, env = "COGNITO_API_RATE_LIMIT", default_value_t = crate::settings::DEFAULT_COGNITO_RATE_LIMIT)]
    pub cognito_api_rate_limit: u32,

    /// LOG_LEVEL and LOG_FORMAT, read the same way by every binary (the `telemetry` crate).
    #[command(flatten)]
    pub log: telemetry::LogArgs,
}

/// Namespaces to watch; empty means all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespaces(pub Vec<String>);

fn parse_namespaces(text: &str) -> Result<Namespaces, String> {
    let mut names: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = names.iter().find(|n| !is_dns_label(n)) {
        return Err(format!("{bad:?} is not a namespace name"));
    }
    names.sort();
    names.dedup();
    Ok(Namespaces(names))
}

fn is_dns_label(name: &str) -> bool {
    name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl Config {
    /// The settings these flags describe, checked ([`Settings::validate`]); an empty POD_NAME
    /// falls back to the host's identity.
    pub fn settings(&self) -> Result<Settings, SettingsError> {
        let settings = Settings {
            watch_namespaces: self.watch_namespaces.0.clone(),
            leader_election: self.leader_election.then(|| LeaderElection {
                namespace: Some(self.leader_election_namespace.clone()).filter(|n| !n.is_empty()),
                lease_name: self.leader_election_lease_name.clone(),
                lease_duration: self.lease_duration,
                renew_deadline: self.lease_renew_deadline,
                retry_period: self.lease_retry_period,
            }),
            replica_identity: if self.pod_name.is_empty() {
                host_identity()
            } else {
                self.pod_name.clone()
            },
            reconcile_concurrency: self.reconcile_concurrency,
            retry_base_delay: self.retry_base_delay,
            retry_max_delay: self.retry_max_delay,
            cognito_rate_limit: std::num::NonZeroU32::new(self.cognito_api_rate_limit),
        };
        settings.validate()?;
        Ok(settings)
    }

    /// The defaults with these flags (`["--leader-election=false"]`), as the binary would read them.
    #[cfg(test)]
    fn from_flags<I: IntoIterator<Item = S>, S: Into<std::ffi::OsString> + Clone>(
        flags: I,
    ) -> Result<Self, clap::Error> {
        Self::try_parse_from(
            std::iter::once("cognito-client-operator".into())
                .chain(flags.into_iter().map(Into::into)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract() {
        let c = Config::from_flags(Vec::<String>::new()).unwrap();
        assert_eq!(c.listen_addr.to_string(), "0.0.0.0:8080");
        assert!(c.watch_namespaces.0.is_empty());
        assert!(c.leader_election);
    }

    #[test]
    fn namespaces_are_split_trimmed_and_checked() {
        let c = Config::from_flags(["--watch-namespaces", " b, a ,,a", "--leader-election=false"])
            .unwrap();
        assert_eq!(c.watch_namespaces.0, ["a", "b"]);
        assert!(!c.leader_election);
        let err = Config::from_flags(["--watch-namespaces", "Bad_Name"]).unwrap_err();
        assert!(err.to_string().contains("Bad_Name"), "{err}");
        let err = Config::from_flags(["--lease-duration", "soon"]).unwrap_err();
        assert!(err.to_string().contains("--lease-duration"), "{err}");
    }

    #[test]
    fn no_flags_give_the_default_settings() {
        let settings = Config::from_flags(Vec::<String>::new())
            .unwrap()
            .settings()
            .unwrap();
        assert_eq!(settings, Settings::default());
    }

    #[test]
    fn flags_fill_the_settings_and_are_checked() {
        let c = Config::from_flags([
            "--leader-election-namespace=ops",
            "--pod-name=op-0",
            "--lease-duration=30s",
        ])
        .unwrap();
        let settings = c.settings().unwrap();
        let lease = settings.leader_election.unwrap();
        assert_eq!(lease.namespace.as_deref(), Some("ops"));
        assert_eq!(lease.lease_duration, Duration::from_secs(30));
        assert_eq!(settings.replica_identity, "op-0");
        let c = Config::from_flags(["--lease-duration=5s", "--lease-renew-deadline=5s"]).unwrap();
        assert!(matches!(
            c.settings(),
            Err(SettingsError::RenewDeadline { .. })
        ));
        // Irrelevant without leader election.
        let c =
            Config::from_flags(["--lease-retry-period=10s", "--leader-election=false"]).unwrap();
        assert_eq!(c.settings().unwrap().leader_election, None);
        let c = Config::from_flags(["--retry-base-delay=10m"]).unwrap();
        assert_eq!(c.settings().unwrap_err(), SettingsError::RetryDelays);
        let c = Config::from_flags(["--cognito-api-rate-limit=0"]).unwrap();
        assert_eq!(c.settings().unwrap().cognito_rate_limit, None);
        let c = Config::from_flags(["--cognito-api-rate-limit=50"]).unwrap();
        assert_eq!(
            c.settings().unwrap().cognito_rate_limit.map(|r| r.get()),
            Some(50)
        );
    }
}
