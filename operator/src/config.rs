//! The operator's configuration: flags, each also an environment variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{ArgAction, Parser};

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
    /// Checks what clap cannot: the lease timings must nest (retry < renew deadline < duration),
    /// or a leader could lose its lease before it notices.
    pub fn check(&self) -> Result<(), String> {
        if self.leader_election && self.lease_renew_deadline >= self.lease_duration {
            return Err(format!(
                "LEASE_RENEW_DEADLINE ({:?}) must be shorter than LEASE_DURATION ({:?})",
                self.lease_renew_deadline, self.lease_duration
            ));
        }
        if self.leader_election && self.lease_retry_period >= self.lease_renew_deadline {
            return Err(format!(
                "LEASE_RETRY_PERIOD ({:?}) must be shorter than LEASE_RENEW_DEADLINE ({:?})",
                self.lease_retry_period, self.lease_renew_deadline
            ));
        }
        if self.retry_base_delay.is_zero() || self.retry_base_delay > self.retry_max_delay {
            return Err("RETRY_BASE_DELAY must be positive and at most RETRY_MAX_DELAY".into());
        }
        Ok(())
    }

    /// The defaults with these flags, for embedding and tests (`["--leader-election=false"]`).
    pub fn from_flags<I: IntoIterator<Item = S>, S: Into<std::ffi::OsString> + Clone>(
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
    fn lease_timings_must_nest() {
        assert!(
            Config::from_flags(Vec::<String>::new())
                .unwrap()
                .check()
                .is_ok()
        );
        let c = Config::from_flags(["--lease-duration=5s", "--lease-renew-deadline=5s"]).unwrap();
        assert!(c.check().unwrap_err().contains("LEASE_RENEW_DEADLINE"));
        let c = Config::from_flags(["--lease-retry-period=10s"]).unwrap();
        assert!(c.check().unwrap_err().contains("LEASE_RETRY_PERIOD"));
        // Irrelevant without leader election.
        let c =
            Config::from_flags(["--lease-retry-period=10s", "--leader-election=false"]).unwrap();
        assert!(c.check().is_ok());
        let c = Config::from_flags(["--retry-base-delay=10m"]).unwrap();
        assert!(c.check().unwrap_err().contains("RETRY_BASE_DELAY"));
    }
}
