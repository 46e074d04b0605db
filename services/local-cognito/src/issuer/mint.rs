//! Development and tests only: minting and signing access tokens shaped like Cognito's.

use std::time::Duration;

use cognito_auth::cognito::IssuerForm;

use crate::claims::AccessTokenClaims;
use crate::issuer::Issuer;
use crate::keys::SigningKey;

impl Issuer {
    /// The key that signs new tokens.
    pub fn signing_key(&self) -> &SigningKey {
        &self.config.signing_keys[0]
    }

    /// The configured lifetime of tokens.
    pub fn token_lifetime(&self) -> Duration {
        self.config.token_lifetime
    }

    /// Mints a signed access token for `client_id` with `scopes`, now, skipping every check.
    /// For tests that need a valid token without a round trip.
    pub fn mint(&self, client_id: &str, scopes: &[impl AsRef<str>]) -> String {
        self.claims(client_id, scopes).sign(self.signing_key())
    }

    /// As [`mint`](Self::mint), carrying the pool's `form` of issuer whatever the configured
    /// one: a pool switched between forms has tokens of both in circulation.
    pub fn mint_as(&self, form: IssuerForm, client_id: &str, scopes: &[impl AsRef<str>]) -> String {
        let mut claims = self.claims(client_id, scopes);
        claims.iss = self.issuer_url_of(form);
        claims.sign(self.signing_key())
    }

    /// The claims a token minted now for `client_id` and `scopes` would carry.
    pub fn claims(&self, client_id: &str, scopes: &[impl AsRef<str>]) -> AccessTokenClaims {
        self.claims_for(client_id, scopes, self.config.token_lifetime)
    }

    /// As [`claims`](Self::claims), lasting `lifetime` (a client's own `AccessTokenValidity`).
    pub fn claims_for(
        &self,
        client_id: &str,
        scopes: &[impl AsRef<str>],
        lifetime: Duration,
    ) -> AccessTokenClaims {
        AccessTokenClaims::new(
            &self.issuer_url,
            client_id,
            scopes,
            // Whole seconds, as JWT NumericDate values are here (RFC 7519 section 2).
            self.config.clock.unix_seconds() as u64,
            lifetime,
        )
    }
}
