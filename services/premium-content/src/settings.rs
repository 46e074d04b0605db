//! The typed settings premium-content runs on, what [`crate::start`] takes: `main` fills them
//! from the command line ([`crate::config`]), the local stack and tests build them directly.

use std::time::Duration;

use cognito_auth::scopes::ResourceScopes;
use cognito_auth::trusted_issuers::IssuerJwks;
use telemetry::shutdown::ShutdownSettings;

/// Resource server identifier whose `read` and `write` scopes protect the API by default
/// (`RESOURCE_SERVER`).
pub const DEFAULT_RESOURCE_SERVER: &str = ResourceScopes::DEFAULT_RESOURCE_SERVER;
/// Clock skew tolerated on `exp` and `nbf` by default (`CLOCK_LEEWAY_SECONDS`).
pub const DEFAULT_CLOCK_LEEWAY: Duration = Duration::from_secs(5);
/// Longest clock leeway accepted: more defeats expiry.
pub const MAX_CLOCK_LEEWAY: Duration = Duration::from_secs(300);
/// Verified tokens remembered by default (`VERIFIED_TOKEN_CACHE_SIZE`).
pub const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE: usize = 10_000;
/// Time between periodic JWKS refreshes by default (`JWKS_REFRESH_SECONDS`).
pub const DEFAULT_JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(600);

/// Everything premium-content needs to serve, checked: [`crate::Config::settings`] refuses
/// values outside the ranges documented here, naming the variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The issuers tokens may carry (`iss`), each with its JWKS URL: the one `COGNITO_ISSUER`,
    /// or both forms of the user pool (original first).
    pub issuers: Vec<IssuerJwks>,
    /// The scope `GET /home/premium` needs (`read`) and the one `POST` needs (`write`).
    pub scopes: ResourceScopes,
    /// App client ids allowed (`client_id` claim); empty allows any client of the pool.
    pub client_ids: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`; at most [`MAX_CLOCK_LEEWAY`].
    pub clock_leeway: Duration,
    /// Verified tokens remembered until they expire (0 disables that cache).
    pub verified_token_cache_size: usize,
    /// Time between periodic JWKS refreshes; at least 1 s.
    pub jwks_refresh_interval: Duration,
    /// HTTP worker threads (`None`: one per available CPU).
    pub http_workers: Option<usize>,
    /// What SIGTERM does: readiness fails, serving goes on for the delay, then the drain.
    pub shutdown: ShutdownSettings,
}

impl Settings {
    /// Settings trusting `issuers`, with every other value at its default (the scopes of
    /// [`DEFAULT_RESOURCE_SERVER`], any client of the pool).
    pub fn new(issuers: Vec<IssuerJwks>) -> Self {
        Self {
            issuers,
            scopes: ResourceScopes::default(),
            client_ids: Vec::new(),
            clock_leeway: DEFAULT_CLOCK_LEEWAY,
            verified_token_cache_size: DEFAULT_VERIFIED_TOKEN_CACHE_SIZE,
            jwks_refresh_interval: DEFAULT_JWKS_REFRESH_INTERVAL,
            http_workers: None,
            shutdown: ShutdownSettings::default(),
        }
    }
}
