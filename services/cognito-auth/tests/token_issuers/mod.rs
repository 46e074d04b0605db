//! Token issuers for the authorizer tests: each a signing key whose JWKS a real local HTTP
//! server publishes (local-cognito's `JwksServer`), minting Cognito-shaped access tokens
//! (local-cognito's `AccessTokenClaims`); and an [`Authorizer`] over a policy that trusts them.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cognito_auth::authorization::Authorizer;
use cognito_auth::jwks::JwksSettings;
use cognito_auth::policy::Policy;
use cognito_auth::verifier::{Verifier, VerifierConfig};
use local_cognito::claims::AccessTokenClaims;
use local_cognito::jwks_server::JwksServer;
use local_cognito::keys::SigningKey;

/// One issuer (`iss`) with its key and JWKS server.
pub struct TokenIssuer {
    /// The `iss` its tokens carry.
    pub iss: String,
    /// Its signing key.
    pub key: SigningKey,
    /// Where its JWKS is served.
    pub jwks: JwksServer,
}

impl TokenIssuer {
    /// An issuer named `iss`, serving the JWKS of a fresh key (call within a Tokio runtime).
    pub fn start(iss: &str) -> Self {
        let key = SigningKey::generate(format!("kid-of-{iss}"));
        let jwks = JwksServer::start(&[&key]);
        Self {
            iss: iss.to_owned(),
            key,
            jwks,
        }
    }

    /// The `issuers` entry of a policy for this issuer, with its JWKS URL and `client_ids`
    /// (none: any client).
    pub fn policy_entry(&self, client_ids: &[&str]) -> String {
        let mut entry = format!("  - issuer: {}\n    jwksUrl: {}\n", self.iss, self.jwks.url);
        if !client_ids.is_empty() {
            entry.push_str(&format!("    clientIds: [{}]\n", client_ids.join(", ")));
        }
        entry
    }

    /// The claims of a token to `client_id` granting `scopes`, valid for ten minutes from now.
    pub fn claims(&self, client_id: &str, scopes: &[&str]) -> AccessTokenClaims {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("the clock is past 1970")
            .as_secs();
        AccessTokenClaims::new(&self.iss, client_id, scopes, now, Duration::from_secs(600))
    }

    /// A signed token to `client_id` granting `scopes`.
    pub fn token(&self, client_id: &str, scopes: &[&str]) -> String {
        self.claims(client_id, scopes).sign(&self.key)
    }
}

/// An authorizer for the policy `yaml`, its verifier trusting the policy's issuers with keys
/// fetched over HTTP (on the first token of each issuer).
pub fn authorizer(yaml: &str) -> Authorizer {
    let policy = Policy::parse("policy.yaml", yaml).expect("the test policy is valid");
    let settings = JwksSettings {
        fetch_timeout: Duration::from_secs(5),
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..JwksSettings::default()
    };
    let trusted = policy.trusted_issuers(&reqwest::Client::new(), &settings);
    let verifier = Verifier::new(VerifierConfig::default(), trusted);
    Authorizer::new(Arc::new(policy), Arc::new(verifier))
}
