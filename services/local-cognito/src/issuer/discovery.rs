//! Development and tests only: where the pool's documents are, and what they say: the issuer
//! URLs of both forms, the token endpoint, the JWKS and the OpenID discovery document.

use cognito_auth::cognito::{self, IssuerForm, UserPool};
use serde_json::{Value, json};

use crate::issuer::{CLIENT_CREDENTIALS, Issuer, IssuerUrl, UPDATED_FORM_PREFIX};
use crate::keys;

impl Issuer {
    /// The issuer of the pool's `form` (the same for both forms with an explicit issuer).
    pub fn issuer_url_of(&self, form: IssuerForm) -> String {
        let pool = &self.config.user_pool_id;
        match &self.config.issuer {
            IssuerUrl::Local => format!("{}{}", self.documents_base(form), pool),
            IssuerUrl::Region(region) => UserPool::in_region(region, pool)
                .expect("validated by Config::validate")
                .issuer(form),
            IssuerUrl::Explicit(url) => url.trim_end_matches('/').to_owned(),
        }
    }

    /// `{base}/` or `{base}/issuer/`: where `form`'s documents of the pool are served.
    fn documents_base(&self, form: IssuerForm) -> String {
        match form {
            IssuerForm::Original => format!("{}/", self.base_url),
            IssuerForm::Updated => format!("{}{UPDATED_FORM_PREFIX}/", self.base_url),
        }
    }

    /// Full URL of the token endpoint.
    pub fn token_endpoint(&self) -> String {
        format!("{}{}", self.base_url, cognito::TOKEN_ENDPOINT_PATH)
    }

    /// Full URL where this server publishes the JWKS of the issuer new tokens carry.
    pub fn jwks_uri(&self) -> String {
        self.jwks_uri_of(self.config.issuer_form)
    }

    /// Full URL where this server publishes the JWKS of the pool's `form` (the same keys for
    /// both forms, as Cognito's).
    pub fn jwks_uri_of(&self, form: IssuerForm) -> String {
        cognito::jwks_url(&format!(
            "{}{}",
            self.documents_base(form),
            self.config.user_pool_id
        ))
    }

    /// The JWKS document: every configured key's public JWK.
    pub fn jwks(&self) -> Value {
        keys::jwks_document(self.config.signing_keys.iter().map(AsRef::as_ref))
    }

    /// The OpenID discovery document of the issuer new tokens carry.
    pub fn openid_configuration(&self) -> Value {
        self.openid_configuration_of(self.config.issuer_form)
    }

    /// The OpenID discovery document of the pool's `form`, shaped like Cognito's: its `issuer`
    /// is that form's (OpenID Connect Discovery 1.0 section 4.3: the issuer the document was
    /// fetched under), its `jwks_uri` the JWKS under it.
    pub fn openid_configuration_of(&self, form: IssuerForm) -> Value {
        let mut scopes: Vec<&str> = self
            .config
            .clients
            .iter()
            .flat_map(|c| c.allowed_scopes.iter().map(String::as_str))
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        json!({
            "issuer": self.issuer_url_of(form),
            "jwks_uri": self.jwks_uri_of(form),
            "token_endpoint": self.token_endpoint(),
            "grant_types_supported": [CLIENT_CREDENTIALS],
            "response_types_supported": ["token"],
            "scopes_supported": scopes,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::fixtures::{READ, WRITE, issuer, payload, shared_key};
    use crate::issuer::{AppClient, Config};

    #[test]
    fn urls_follow_the_pool() {
        let issuer = issuer();
        assert_eq!(issuer.issuer_url(), "http://127.0.0.1:9000/us-east-1_Test1");
        assert_eq!(
            issuer.token_endpoint(),
            "http://127.0.0.1:9000/oauth2/token"
        );
        assert_eq!(
            issuer.jwks_uri(),
            "http://127.0.0.1:9000/us-east-1_Test1/.well-known/jwks.json"
        );
        let mut config = Config::new("eu-west-1_X", vec![AppClient::new("a", "b", [READ])]);
        config.signing_keys = vec![shared_key()];
        config.issuer = IssuerUrl::Region("eu-west-1".into());
        let regional = Issuer::new(config.clone(), "http://127.0.0.1:1").unwrap();
        assert_eq!(
            regional.issuer_url(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X"
        );
        config.issuer_form = IssuerForm::Updated;
        let updated = Issuer::new(config.clone(), "http://127.0.0.1:1").unwrap();
        assert_eq!(
            updated.issuer_url(),
            "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X"
        );
        assert_eq!(
            updated.jwks_uri(),
            "http://127.0.0.1:1/issuer/eu-west-1_X/.well-known/jwks.json"
        );
        config.issuer = IssuerUrl::Explicit("http://issuer.test/pool/".into());
        let explicit = Issuer::new(config, "http://127.0.0.1:1").unwrap();
        assert_eq!(explicit.issuer_url(), "http://issuer.test/pool");
    }

    #[test]
    fn local_issuers_of_both_forms_serve_their_documents_by_path() {
        let issuer = issuer();
        assert_eq!(
            issuer.issuer_url_of(IssuerForm::Updated),
            "http://127.0.0.1:9000/issuer/us-east-1_Test1"
        );
        for form in IssuerForm::ALL {
            let discovery = issuer.openid_configuration_of(form);
            let iss = issuer.issuer_url_of(form);
            assert_eq!(discovery["issuer"], iss.as_str());
            assert_eq!(discovery["jwks_uri"], cognito::jwks_url(&iss).as_str());
            let token = issuer.mint_as(form, "both", &[READ]);
            assert_eq!(payload(&token)["iss"], iss.as_str());
        }
    }

    #[test]
    fn discovery_and_jwks_match_the_keys() {
        let issuer = issuer();
        let discovery = issuer.openid_configuration();
        assert_eq!(discovery["issuer"], issuer.issuer_url());
        assert_eq!(discovery["jwks_uri"], issuer.jwks_uri());
        assert_eq!(discovery["token_endpoint"], issuer.token_endpoint());
        assert_eq!(discovery["scopes_supported"], json!([READ, WRITE]));
        let jwks = issuer.jwks();
        assert_eq!(jwks["keys"][0]["kid"], "kid-1");
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    }
}
