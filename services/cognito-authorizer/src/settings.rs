//! The typed settings cognito-authorizer runs on, what [`crate::start`] takes: `main` fills them
//! from the command line ([`crate::config`]), tests build them directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cognito_auth_actix::VerificationSettings;
use telemetry::shutdown::ShutdownSettings;

/// Everything cognito-authorizer needs to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The traffic port: `/ext_authz/...`, `/auth`, and the proxy (`LISTEN_ADDR`; port 0 picks
    /// a free one, see [`crate::Running`]).
    pub listen_addr: SocketAddr,
    /// `/healthz`, `/readyz`, `/metrics` (`ADMIN_LISTEN_ADDR`).
    pub admin_listen_addr: SocketAddr,
    /// The route policy (`POLICY_FILE`), watched and reloaded when it changes.
    pub policy_file: PathBuf,
    /// Where allowed requests are proxied (`UPSTREAM_URL`); `None`: no proxy, other paths 404.
    pub upstream_url: Option<String>,
    /// How long the upstream may take to send its status line and headers before the client
    /// gets 504 (`UPSTREAM_TIMEOUT_SECONDS`, at least 1 s); its body may take longer.
    pub upstream_timeout: Duration,
    /// Clock leeway, verified-token cache size, JWKS refresh interval.
    pub verification: VerificationSettings,
    /// HTTP worker threads of the traffic port (`None`: one per available CPU).
    pub http_workers: Option<usize>,
    /// What SIGTERM does: readiness fails, serving goes on for the delay, then the drain.
    pub shutdown: ShutdownSettings,
}

impl Settings {
    /// Settings serving `policy_file` on loopback ports picked by the system, no upstream, every
    /// other value at its default.
    pub fn new(policy_file: impl Into<PathBuf>) -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            policy_file: policy_file.into(),
            upstream_url: None,
            upstream_timeout: crate::proxy::DEFAULT_RESPONSE_TIMEOUT,
            verification: VerificationSettings::default(),
            http_workers: None,
            shutdown: ShutdownSettings::default(),
        }
    }
}
