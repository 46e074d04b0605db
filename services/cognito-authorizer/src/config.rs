//! The command line: the variables of CONTRACT.md ("cognito-authorizer"), parsed once by clap
//! in `main` and checked into the typed [`Settings`]. Every refusal names its variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use cognito_auth_actix::VerificationArgs;
use cognito_auth_actix::verification::InvalidVariable;

use crate::settings::Settings;

/// cognito-authorizer configuration, from flags or the environment.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "cognito-authorizer",
    version,
    about = "Protects any HTTP API with Cognito access tokens: reverse proxy, Envoy ext_authz, ingress-nginx auth-url"
)]
pub struct Config {
    /// The traffic port: ext_authz and auth-url checks, and the proxy when UPSTREAM_URL is set.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    pub listen_addr: SocketAddr,

    /// /healthz, /readyz and /metrics, apart so they never shadow the upstream's paths.
    #[arg(long, env = "ADMIN_LISTEN_ADDR", default_value = "0.0.0.0:9090")]
    pub admin_listen_addr: SocketAddr,

    /// The route policy (YAML); reloaded when it changes (a bad new one keeps the old).
    #[arg(long, env = "POLICY_FILE")]
    pub policy_file: PathBuf,

    /// Allowed requests are proxied here, e.g. http://127.0.0.1:3000; unset: no proxy.
    #[arg(long, env = "UPSTREAM_URL")]
    pub upstream_url: Option<String>,

    /// Seconds the upstream may take to send its status line and headers (504 after that).
    #[arg(long, env = "UPSTREAM_TIMEOUT_SECONDS", default_value_t = 60)]
    pub upstream_timeout_seconds: u64,

    /// LOG_LEVEL and LOG_FORMAT, read the same way by every binary (the `telemetry` crate).
    #[command(flatten)]
    pub log: telemetry::LogArgs,

    /// SHUTDOWN_DELAY, read the same way by every server (the `telemetry` crate).
    #[command(flatten)]
    pub shutdown: telemetry::shutdown::ShutdownArgs,

    /// CLOCK_LEEWAY_SECONDS, VERIFIED_TOKEN_CACHE_SIZE and JWKS_REFRESH_SECONDS, as
    /// premium-content reads them (cognito-auth-actix).
    #[command(flatten)]
    pub verification: VerificationArgs,

    /// HTTP worker threads of the traffic port; 0 means one per available CPU.
    #[arg(long, env = "HTTP_WORKERS", default_value_t = 0)]
    pub http_workers: usize,
}

impl Config {
    /// The checked settings. Errors name the variable (the policy file itself is read by
    /// [`crate::start`], which names its file and line).
    pub fn settings(&self) -> Result<Settings, InvalidVariable> {
        let upstream_url = self
            .upstream_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_owned);
        if self.upstream_timeout_seconds == 0 {
            return Err(InvalidVariable {
                variable: "UPSTREAM_TIMEOUT_SECONDS",
                problem: "must be at least 1 second".into(),
            });
        }
        Ok(Settings {
            listen_addr: self.listen_addr,
            admin_listen_addr: self.admin_listen_addr,
            policy_file: self.policy_file.clone(),
            upstream_url,
            upstream_timeout: std::time::Duration::from_secs(self.upstream_timeout_seconds),
            verification: self.verification.settings()?,
            http_workers: (self.http_workers > 0).then_some(self.http_workers),
            shutdown: self.shutdown.settings(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Settings, InvalidVariable> {
        let mut argv = vec!["cognito-authorizer"];
        argv.extend_from_slice(args);
        Config::try_parse_from(argv).unwrap().settings()
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = parse(&["--policy-file", "policy.yaml"]).unwrap();
        assert_eq!(s.listen_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(s.admin_listen_addr, "0.0.0.0:9090".parse().unwrap());
        assert_eq!(s.upstream_url, None);
        assert_eq!(s.upstream_timeout, crate::proxy::DEFAULT_RESPONSE_TIMEOUT);
        assert_eq!(s.verification, Default::default());
        let s = parse(&[
            "--policy-file",
            "p.yaml",
            "--upstream-url",
            "http://127.0.0.1:3000",
        ])
        .unwrap();
        assert_eq!(s.upstream_url.as_deref(), Some("http://127.0.0.1:3000"));
    }

    #[test]
    fn errors_name_the_variable() {
        for argv in [
            &["cognito-authorizer"][..],
            &["cognito-authorizer", "--policy-file", ""],
        ] {
            let refused = Config::try_parse_from(argv).unwrap_err();
            assert!(refused.to_string().contains("POLICY_FILE"), "{refused}");
        }
        assert_eq!(
            parse(&["--policy-file", "p", "--clock-leeway-seconds", "900"])
                .unwrap_err()
                .variable,
            "CLOCK_LEEWAY_SECONDS"
        );
        assert_eq!(
            parse(&["--policy-file", "p", "--upstream-timeout-seconds", "0"])
                .unwrap_err()
                .variable,
            "UPSTREAM_TIMEOUT_SECONDS"
        );
        let s = parse(&["--policy-file", "p", "--upstream-timeout-seconds", "5"]).unwrap();
        assert_eq!(s.upstream_timeout, std::time::Duration::from_secs(5));
    }
}
