//! The typed settings premium-content runs on, what [`crate::start`] takes: `main` fills them
//! from the command line ([`crate::config`]), the local stack and tests build them directly.

use cognito_auth::scopes::ResourceScopes;
use cognito_auth::trusted_issuers::IssuerJwks;
use cognito_auth_actix::VerificationSettings;
use telemetry::shutdown::ShutdownSettings;

/// Resource server identifier whose `read` and `write` scopes protect the API by default
/// (`RESOURCE_SERVER`).
pub const DEFAULT_RESOURCE_SERVER: &str = ResourceScopes::DEFAULT_RESOURCE_SERVER;

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
    /// Clock leeway, verified-token cache size, JWKS refresh interval (shared with
    /// cognito-authorizer).
    pub verification: VerificationSettings,
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
            verification: VerificationSettings::default(),
            http_workers: None,
            shutdown: ShutdownSettings::default(),
        }
    }
}
