//! Development and tests only: the issuer's configuration and its validation.

use std::sync::Arc;
use std::time::Duration;

use cognito_auth::clock::{Clock, SystemClock};
use cognito_auth::cognito::{CognitoError, IssuerForm, UserPool};

use crate::issuer::AppClient;
use crate::keys::SigningKey;

/// Default lifetime of access tokens, Cognito's default (one hour).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// What the `iss` claim says, together with the [`IssuerForm`] of [`Config::issuer_form`].
///
/// Cognito tells its two issuer forms apart by host name; on one loopback address this server
/// tells them apart by path: the original form's documents are under `/{poolId}`, the updated
/// form's under `/issuer/{poolId}` (the prefix stands for the host's `issuer-`). Both are always
/// served, as Cognito serves both for a pool switched to `UPDATED`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IssuerUrl {
    /// This server's own URLs, `{base}/{poolId}` (original form) or `{base}/issuer/{poolId}`
    /// (updated form), where `base` is `http://127.0.0.1:PORT`: the JWKS is then where
    /// verifiers look by default (`{issuer}/.well-known/jwks.json`).
    #[default]
    Local,
    /// Real Cognito's issuers for the pool in this Region (see [`UserPool::issuer`]);
    /// verifiers then need the JWKS URLs given explicitly.
    Region(String),
    /// Exactly this URL, whatever the form.
    Explicit(String),
}

/// The path prefix, under this server's base URL, of the updated issuer form's documents.
pub const UPDATED_FORM_PREFIX: &str = "/issuer";

/// The issuer's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The user pool id, e.g. `us-east-1_LocalDev1`; the path prefix of the JWKS and discovery.
    pub user_pool_id: String,
    /// What `iss` is.
    pub issuer: IssuerUrl,
    /// Which of the pool's two issuers new tokens carry (`IssuerConfiguration`).
    pub issuer_form: IssuerForm,
    /// The app clients the pool starts with (the admin API adds others at run time).
    pub clients: Vec<AppClient>,
    /// Lifetime of the access tokens (`exp - iat`, and the response's `expires_in`).
    pub token_lifetime: Duration,
    /// The keys published in the JWKS; the first one signs.
    pub signing_keys: Vec<Arc<SigningKey>>,
    /// The clock tokens are minted by (its Unix seconds, truncated, are `iat`).
    pub clock: Arc<dyn Clock>,
    /// The admin API's request quota, in requests per second, above which it answers
    /// `TooManyRequestsException` as Cognito does; `None` for no quota.
    pub admin_requests_per_second: Option<f64>,
}

impl Config {
    /// A configuration for `user_pool_id` and `clients`, with a local issuer URL, one-hour tokens,
    /// a freshly generated signing key and the system clock.
    pub fn new(user_pool_id: impl Into<String>, clients: Vec<AppClient>) -> Self {
        Self {
            user_pool_id: user_pool_id.into(),
            issuer: IssuerUrl::Local,
            issuer_form: IssuerForm::Original,
            clients,
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            signing_keys: vec![Arc::new(SigningKey::generate(random_kid()))],
            clock: Arc::new(SystemClock),
            admin_requests_per_second: None,
        }
    }

    /// Checks the configuration, naming what is wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match &self.issuer {
            IssuerUrl::Region(region) => UserPool::in_region(region, &self.user_pool_id)?,
            IssuerUrl::Local | IssuerUrl::Explicit(_) => UserPool::from_id(&self.user_pool_id)?,
        };
        for (i, client) in self.clients.iter().enumerate() {
            if client.client_id.is_empty() || client.client_secret.is_empty() {
                return Err(ConfigError::ClientSpec(
                    "client id and secret must not be empty",
                ));
            }
            if self.clients[..i]
                .iter()
                .any(|c| c.client_id == client.client_id)
            {
                return Err(ConfigError::DuplicateClient(client.client_id.clone()));
            }
            if client
                .allowed_scopes
                .iter()
                .any(|s| s.is_empty() || s.chars().any(char::is_whitespace))
            {
                return Err(ConfigError::ClientSpec(
                    "scopes must be non-empty and contain no spaces",
                ));
            }
        }
        if self.token_lifetime.as_secs() == 0 {
            return Err(ConfigError::TokenLifetime);
        }
        if self.signing_keys.is_empty() {
            return Err(ConfigError::NoSigningKey);
        }
        if let Some(rate) = self.admin_requests_per_second
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(ConfigError::AdminRequestRate(rate));
        }
        Ok(())
    }
}

/// A random key id in the style of Cognito's (base64 of 32 random bytes).
pub fn random_kid() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Invalid issuer configuration.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    /// The user pool id does not look like Cognito's, or is not in the given Region.
    #[error(transparent)]
    UserPool(#[from] CognitoError),
    /// A client is malformed.
    #[error("invalid app client: {0}")]
    ClientSpec(&'static str),
    /// Two clients share an id.
    #[error("app client {0:?} is configured twice")]
    DuplicateClient(String),
    /// The token lifetime is zero.
    #[error("token lifetime must be at least one second")]
    TokenLifetime,
    /// No signing key is configured.
    #[error("at least one signing key is required")]
    NoSigningKey,
    /// The admin API's request quota is not a positive number.
    #[error("the admin API's requests per second must be a positive number, not {0}")]
    AdminRequestRate(f64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::fixtures::shared_key;

    const READ: &str = "premium_api/read";

    #[test]
    fn config_is_validated() {
        let client = || vec![AppClient::new("a", "b", [READ])];
        let mut config = Config::new("nopool", client());
        config.signing_keys = vec![shared_key()];
        assert!(matches!(
            config.validate(),
            Err(ConfigError::UserPool(CognitoError::UserPoolId(_)))
        ));
        config.user_pool_id = "us-east-1_Ok1".into();
        config.issuer = IssuerUrl::Region("eu-west-1".into());
        assert!(matches!(
            config.validate(),
            Err(ConfigError::UserPool(CognitoError::RegionMismatch { .. }))
        ));
        config.issuer = IssuerUrl::Local;
        config.user_pool_id = "us-east-1_Ok1".into();
        assert_eq!(config.validate(), Ok(()));
        config.clients.extend(client());
        assert_eq!(
            config.validate(),
            Err(ConfigError::DuplicateClient("a".into()))
        );
        // No client up front is fine: the admin API creates them.
        config.clients = vec![];
        assert_eq!(config.validate(), Ok(()));
        config.admin_requests_per_second = Some(0.0);
        assert_eq!(config.validate(), Err(ConfigError::AdminRequestRate(0.0)));
        config.admin_requests_per_second = Some(5.0);
        config.clients = client();
        config.token_lifetime = Duration::ZERO;
        assert_eq!(config.validate(), Err(ConfigError::TokenLifetime));
    }
}
