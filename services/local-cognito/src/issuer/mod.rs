//! Development and tests only: the issuer itself, one concern per module, all re-exported here:
//! `config` (the configuration and its validation), `app_client` (the pool's app clients and
//! their secrets), `grant` (the client-credentials grant, its rules and errors), `mint` (minting
//! and signing tokens) and `discovery` (issuer URLs, the JWKS and the OpenID configuration). The
//! HTTP layer lives in `http` and is re-exported here as [`start`]. The app clients live in the
//! pool's registry ([`crate::pool::Pool`]), which the admin API ([`crate::admin_api`]) changes.

mod app_client;
mod config;
mod discovery;
mod grant;
mod mint;

use std::sync::Arc;

pub use cognito_auth::clock::{Clock, SystemClock};

use crate::admin_api::AdminControls;
use crate::pool::Pool;

pub use crate::http::{StartError, routes, start};
pub use app_client::AppClient;
pub use config::{
    Config, ConfigError, DEFAULT_TOKEN_LIFETIME, IssuerUrl, UPDATED_FORM_PREFIX, random_kid,
};
pub use grant::{CLIENT_CREDENTIALS, TokenError, TokenRequest, TokenResponse};

/// A running issuer's state: configuration resolved against the address it serves on, the
/// pool's registry of clients and the admin API's controls.
pub struct Issuer {
    config: Config,
    issuer_url: String,
    base_url: String,
    pool: Arc<Pool>,
    admin: AdminControls,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("issuer_url", &self.issuer_url)
            .field("base_url", &self.base_url)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// An issuer serving at `base_url` (`http://127.0.0.1:PORT`, no trailing slash).
    pub fn new(config: Config, base_url: &str) -> Result<Self, ConfigError> {
        config.validate()?;
        let base_url = base_url.trim_end_matches('/').to_owned();
        let pool = Pool::new(&config.user_pool_id, &config.clients, config.clock.clone());
        let admin = AdminControls::new(config.admin_requests_per_second);
        let mut issuer = Self {
            config,
            issuer_url: String::new(),
            base_url,
            pool: Arc::new(pool),
            admin,
        };
        issuer.issuer_url = issuer.issuer_url_of(issuer.config.issuer_form);
        Ok(issuer)
    }

    /// The `iss` of every token.
    pub fn issuer_url(&self) -> &str {
        &self.issuer_url
    }

    /// The user pool id.
    pub fn user_pool_id(&self) -> &str {
        &self.config.user_pool_id
    }

    /// This server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The pool's registry of resource servers and app clients, shared with the admin API.
    pub fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }

    /// The admin API's counters, quota and hold fault.
    pub fn admin(&self) -> &AdminControls {
        &self.admin
    }
}

/// What the issuer's unit tests share: one signing key (generating RSA keys is slow), a fixed
/// clock and an issuer with three clients.
#[cfg(test)]
mod fixtures {
    use std::sync::{Arc, OnceLock};
    use std::time::Duration;

    use cognito_auth::clock::ManualClock;
    use serde_json::Value;

    use super::{AppClient, Config, Issuer};
    use crate::keys::SigningKey;

    pub const READ: &str = "premium_api/read";
    pub const WRITE: &str = "premium_api/write";

    pub fn shared_key() -> Arc<SigningKey> {
        static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
        KEY.get_or_init(|| Arc::new(SigningKey::generate("kid-1")))
            .clone()
    }

    pub fn issuer() -> Issuer {
        let mut config = Config::new(
            "us-east-1_Test1",
            vec![
                AppClient::new("both", "s3cret", [READ, WRITE]),
                AppClient::new("reader", "r", [READ]),
                AppClient::new("noscopes", "n", Vec::<String>::new()),
            ],
        );
        config.signing_keys = vec![shared_key()];
        config.clock = Arc::new(ManualClock::at(1_000.0));
        config.token_lifetime = Duration::from_secs(60);
        Issuer::new(config, "http://127.0.0.1:9000/").unwrap()
    }

    pub fn payload(token: &str) -> Value {
        use base64::Engine;
        let part = token.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }
}
