//! The typed settings content-consumer runs on, what [`crate::start`] takes: `main` fills them
//! from the command line ([`crate::config`]), the local stack and tests build them directly.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use cognito_auth::scopes::ResourceScopes;
use cognito_auth::token_cache::CachePolicy;
use telemetry::shutdown::ShutdownSettings;

/// Resource server identifier whose `read` and `write` scopes are requested by default
/// (`RESOURCE_SERVER`).
pub const DEFAULT_RESOURCE_SERVER: &str = ResourceScopes::DEFAULT_RESOURCE_SERVER;
/// Time allowed to open a connection by default (`CONNECT_TIMEOUT`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Time a caller waits for premium content by default, retry included (`PREMIUM_API_TIMEOUT`).
pub const DEFAULT_PREMIUM_API_TIMEOUT: Duration = Duration::from_secs(5);

/// A client secret; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(pub String);

impl FromStr for ClientSecret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where the app client's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsSource {
    /// A mounted Secret's folder (`CREDENTIALS_DIR`), re-read when it changes.
    Dir(PathBuf),
    /// One client id and secret, fixed for the process's life (`COGNITO_CLIENT_ID` +
    /// `COGNITO_CLIENT_SECRET`, already normalised); the token endpoint is
    /// [`Settings::token_url`].
    Fixed {
        /// The app client id.
        client_id: String,
        /// The app client secret.
        client_secret: ClientSecret,
    },
    /// An AWS Secrets Manager secret id or ARN (`APP_SECRETS_ARN`).
    SecretsManager(String),
}

/// Everything content-consumer needs to serve, checked: [`crate::Config::settings`] refuses
/// values outside the ranges documented here, naming the variable.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Premium content's full URL (http or https), e.g. `http://premium-content/home/premium`.
    pub premium_api_url: reqwest::Url,
    /// Where the client credentials come from.
    pub credentials: CredentialsSource,
    /// The token endpoint (`.../oauth2/token`, http or https): required with
    /// [`CredentialsSource::Fixed`], otherwise overrides the one the credentials name.
    pub token_url: Option<reqwest::Url>,
    /// The scope requested for `authorized-read` (`read`) and for `authorized-write` (`write`).
    pub scopes: ResourceScopes,
    /// Token cache timing: one request's timeout, a caller's deadline, renewal, retries.
    pub token_cache: CachePolicy,
    /// Time allowed to open a connection to Cognito or premium content; not zero.
    pub connect_timeout: Duration,
    /// Time a caller waits at most for premium content's answer, the one retry included; not
    /// zero.
    pub premium_api_timeout: Duration,
    /// What SIGTERM does: readiness fails, serving goes on for the delay, then the drain.
    pub shutdown: ShutdownSettings,
}

impl Settings {
    /// Settings calling `premium_api_url` with credentials from `credentials`, every other
    /// value at its default (the scopes of [`DEFAULT_RESOURCE_SERVER`], no token URL override).
    pub fn new(premium_api_url: reqwest::Url, credentials: CredentialsSource) -> Self {
        Self {
            premium_api_url,
            credentials,
            token_url: None,
            scopes: ResourceScopes::default(),
            token_cache: CachePolicy::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            premium_api_timeout: DEFAULT_PREMIUM_API_TIMEOUT,
            shutdown: ShutdownSettings::default(),
        }
    }
}
