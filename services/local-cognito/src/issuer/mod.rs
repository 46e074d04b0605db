//! Development and tests only: the issuer itself — its configuration, the client-credentials grant
//! with Cognito's rules and errors, token minting, and the pool's JWKS and OpenID discovery
//! documents. The HTTP layer lives in [`crate::http`] and is re-exported here as [`start`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cognito_auth::cognito::{self, CognitoError, IssuerForm, UserPool};
use serde::Serialize;
use serde_json::{Value, json};

use crate::claims::AccessTokenClaims;
use crate::keys::{self, SigningKey};

pub use crate::http::{StartError, routes, start};

/// Default lifetime of access tokens, Cognito's default (one hour).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The only grant this issuer serves.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

/// A source of the current time, injected so tests can mint tokens at any moment.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Seconds since the Unix epoch.
    fn unix_now(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    }
}

/// An app client of the pool: its credentials and the custom scopes it may request.
#[derive(Clone, PartialEq, Eq)]
pub struct AppClient {
    /// The app client id (also the token's `sub` and `client_id`).
    pub client_id: String,
    /// The app client secret.
    pub client_secret: String,
    /// Full scope strings (`premium_api/read`) the client may request.
    pub allowed_scopes: Vec<String>,
}

impl AppClient {
    /// A client with the given credentials and allowed scopes.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        allowed_scopes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            allowed_scopes: allowed_scopes.into_iter().map(Into::into).collect(),
        }
    }

    /// Parses `CLIENT_ID:CLIENT_SECRET:SCOPE[,SCOPE...]`, the command line's client syntax (so
    /// neither the id nor the secret may contain `:`, as Cognito's never do).
    pub fn parse_spec(spec: &str) -> Result<Self, ConfigError> {
        let mut parts = spec.splitn(3, ':');
        let (Some(id), Some(secret), scopes) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ConfigError::ClientSpec(
                "expected CLIENT_ID:CLIENT_SECRET:SCOPE[,SCOPE...]",
            ));
        };
        let scopes = scopes
            .unwrap_or_default()
            .split([',', ' '])
            .filter(|s| !s.is_empty());
        Ok(Self::new(id, secret, scopes))
    }
}

impl fmt::Debug for AppClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("allowed_scopes", &self.allowed_scopes)
            .finish()
    }
}

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
    /// Real Cognito's issuers for the pool in this Region (see [`cognito::UserPool::issuer`]);
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
    /// The pool's app clients.
    pub clients: Vec<AppClient>,
    /// Lifetime of the access tokens (`exp - iat`, and the response's `expires_in`).
    pub token_lifetime: Duration,
    /// The keys published in the JWKS; the first one signs.
    pub signing_keys: Vec<Arc<SigningKey>>,
    /// The clock tokens are minted by.
    pub clock: Arc<dyn Clock>,
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
        }
    }

    /// Checks the configuration, naming what is wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match &self.issuer {
            IssuerUrl::Region(region) => UserPool::in_region(region, &self.user_pool_id)?,
            IssuerUrl::Local | IssuerUrl::Explicit(_) => UserPool::from_id(&self.user_pool_id)?,
        };
        if self.clients.is_empty() {
            return Err(ConfigError::NoClients);
        }
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
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The user pool id does not look like Cognito's, or is not in the given Region.
    #[error(transparent)]
    UserPool(#[from] CognitoError),
    /// No app client is configured.
    #[error("at least one app client is required")]
    NoClients,
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
}

/// Why a token request was refused: the `error` codes of Cognito's token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// A required parameter is missing, repeated or malformed.
    #[error("invalid_request")]
    InvalidRequest,
    /// Client authentication failed: no credentials, an unknown client or a wrong secret.
    #[error("invalid_client")]
    InvalidClient,
    /// The client may not use this grant (code and refresh grants are not served here).
    #[error("unauthorized_client")]
    UnauthorizedClient,
    /// The grant type is none that Cognito knows.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// A requested scope is not allowed for the client, or the client has no scope at all.
    #[error("invalid_scope")]
    InvalidScope,
}

impl TokenError {
    /// The OAuth 2.0 `error` code.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
        }
    }
}

/// A token request as received, before any check: the form fields and HTTP Basic credentials.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// `grant_type` form field.
    pub grant_type: Option<String>,
    /// `client_id:client_secret` from `Authorization: Basic`.
    pub basic: Option<(String, String)>,
    /// `client_id` form field.
    pub client_id: Option<String>,
    /// `client_secret` form field.
    pub client_secret: Option<String>,
    /// `scope` form field: space-separated.
    pub scope: Option<String>,
}

/// A successful token response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    /// The signed JWT.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Always `Bearer`.
    pub token_type: &'static str,
}

/// A running issuer's state: configuration resolved against the address it serves on.
#[derive(Debug)]
pub struct Issuer {
    config: Config,
    issuer_url: String,
    base_url: String,
}

impl Issuer {
    /// An issuer serving at `base_url` (`http://127.0.0.1:PORT`, no trailing slash).
    pub fn new(config: Config, base_url: &str) -> Result<Self, ConfigError> {
        config.validate()?;
        let base_url = base_url.trim_end_matches('/').to_owned();
        let mut issuer = Self {
            config,
            issuer_url: String::new(),
            base_url,
        };
        issuer.issuer_url = issuer.issuer_url_of(issuer.config.issuer_form);
        Ok(issuer)
    }

    /// The `iss` of every token.
    pub fn issuer_url(&self) -> &str {
        &self.issuer_url
    }

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

    /// The user pool id.
    pub fn user_pool_id(&self) -> &str {
        &self.config.user_pool_id
    }

    /// This server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
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

    /// The key that signs new tokens.
    pub fn signing_key(&self) -> &SigningKey {
        &self.config.signing_keys[0]
    }

    /// The configured lifetime of tokens.
    pub fn token_lifetime(&self) -> Duration {
        self.config.token_lifetime
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
        AccessTokenClaims::new(
            &self.issuer_url,
            client_id,
            scopes,
            self.config.clock.unix_now(),
            self.config.token_lifetime,
        )
    }

    /// Serves the client-credentials grant as Cognito does: checks the grant type, authenticates
    /// the client, checks the requested scopes against the client's (no scope = all of them).
    pub fn token(&self, request: &TokenRequest) -> Result<TokenResponse, TokenError> {
        let grant_type = match request.grant_type.as_deref() {
            None | Some("") => return Err(TokenError::InvalidRequest),
            Some(g @ (CLIENT_CREDENTIALS | "authorization_code" | "refresh_token")) => g,
            Some(_) => return Err(TokenError::UnsupportedGrantType),
        };
        let client = self.authenticate(request)?;
        if grant_type != CLIENT_CREDENTIALS {
            return Err(TokenError::UnauthorizedClient);
        }
        let scopes = grant_scopes(client, request.scope.as_deref())?;
        Ok(TokenResponse {
            access_token: self.mint(&client.client_id, &scopes),
            expires_in: self.config.token_lifetime.as_secs(),
            token_type: "Bearer",
        })
    }

    fn authenticate(&self, request: &TokenRequest) -> Result<&AppClient, TokenError> {
        let (id, secret) = match (&request.basic, &request.client_id) {
            (Some((id, secret)), form_id) => {
                // Two different identities in one request is malformed, not a failed login.
                if form_id.as_ref().is_some_and(|f| f != id) {
                    return Err(TokenError::InvalidRequest);
                }
                // The AWS sample sends its credentials both ways at once (`requests.post(auth=...,
                // data={client_id, client_secret, ...})`) and Cognito serves it, although RFC 6749
                // section 2.3 allows one method per request: accepted when both say the same.
                if request.client_secret.as_ref().is_some_and(|s| s != secret) {
                    return Err(TokenError::InvalidClient);
                }
                (id.as_str(), secret.as_str())
            }
            (None, Some(id)) => match &request.client_secret {
                Some(secret) => (id.as_str(), secret.as_str()),
                None => return Err(TokenError::InvalidClient),
            },
            (None, None) => return Err(TokenError::InvalidClient),
        };
        let client = self
            .config
            .clients
            .iter()
            .find(|c| c.client_id == id)
            .ok_or(TokenError::InvalidClient)?;
        aws_lc_rs::constant_time::verify_slices_are_equal(
            client.client_secret.as_bytes(),
            secret.as_bytes(),
        )
        .map_err(|_| TokenError::InvalidClient)?;
        Ok(client)
    }
}

/// The scopes to grant: the requested ones when all are allowed, all allowed ones when none is
/// requested.
fn grant_scopes<'a>(
    client: &'a AppClient,
    requested: Option<&'a str>,
) -> Result<Vec<&'a str>, TokenError> {
    let mut granted: Vec<&str> = Vec::new();
    for scope in requested.unwrap_or_default().split_whitespace() {
        if !client.allowed_scopes.iter().any(|s| s == scope) {
            return Err(TokenError::InvalidScope);
        }
        if !granted.contains(&scope) {
            granted.push(scope);
        }
    }
    if granted.is_empty() {
        granted = client.allowed_scopes.iter().map(String::as_str).collect();
    }
    if granted.is_empty() {
        return Err(TokenError::InvalidScope);
    }
    Ok(granted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    const READ: &str = "premium_api/read";
    const WRITE: &str = "premium_api/write";

    fn shared_key() -> Arc<SigningKey> {
        static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
        KEY.get_or_init(|| Arc::new(SigningKey::generate("kid-1")))
            .clone()
    }

    #[derive(Debug)]
    struct FixedClock(u64);
    impl Clock for FixedClock {
        fn unix_now(&self) -> u64 {
            self.0
        }
    }

    fn issuer() -> Issuer {
        let mut config = Config::new(
            "us-east-1_Test1",
            vec![
                AppClient::new("both", "s3cret", [READ, WRITE]),
                AppClient::new("reader", "r", [READ]),
                AppClient::new("noscopes", "n", Vec::<String>::new()),
            ],
        );
        config.signing_keys = vec![shared_key()];
        config.clock = Arc::new(FixedClock(1_000));
        config.token_lifetime = Duration::from_secs(60);
        Issuer::new(config, "http://127.0.0.1:9000/").unwrap()
    }

    fn form(id: &str, secret: &str, scope: Option<&str>) -> TokenRequest {
        TokenRequest {
            grant_type: Some(CLIENT_CREDENTIALS.into()),
            client_id: Some(id.into()),
            client_secret: Some(secret.into()),
            scope: scope.map(Into::into),
            ..TokenRequest::default()
        }
    }

    fn payload(token: &str) -> Value {
        use base64::Engine;
        let part = token.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

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
    fn no_scope_grants_all_allowed_scopes() {
        let response = issuer().token(&form("both", "s3cret", None)).unwrap();
        assert_eq!(response.expires_in, 60);
        assert_eq!(response.token_type, "Bearer");
        let claims = payload(&response.access_token);
        assert_eq!(claims["scope"], "premium_api/read premium_api/write");
        assert_eq!(claims["sub"], "both");
        assert_eq!(claims["client_id"], "both");
        assert_eq!(claims["iat"], 1_000);
        assert_eq!(claims["exp"], 1_060);
        assert_eq!(claims["iss"], "http://127.0.0.1:9000/us-east-1_Test1");
    }

    #[test]
    fn requested_scopes_are_granted_exactly() {
        let response = issuer()
            .token(&form(
                "both",
                "s3cret",
                Some(" premium_api/write  premium_api/write"),
            ))
            .unwrap();
        assert_eq!(payload(&response.access_token)["scope"], WRITE);
    }

    #[test]
    fn scope_not_allowed_is_invalid_scope() {
        let issuer = issuer();
        assert_eq!(
            issuer.token(&form("reader", "r", Some(WRITE))),
            Err(TokenError::InvalidScope)
        );
        assert_eq!(
            issuer.token(&form("reader", "r", Some("premium_api/read other"))),
            Err(TokenError::InvalidScope)
        );
        assert_eq!(
            issuer.token(&form("noscopes", "n", None)),
            Err(TokenError::InvalidScope)
        );
    }

    #[test]
    fn wrong_or_missing_credentials_are_invalid_client() {
        let issuer = issuer();
        assert_eq!(
            issuer.token(&form("both", "wrong", None)),
            Err(TokenError::InvalidClient)
        );
        assert_eq!(
            issuer.token(&form("nobody", "s3cret", None)),
            Err(TokenError::InvalidClient)
        );
        let mut no_secret = form("both", "", None);
        no_secret.client_secret = None;
        assert_eq!(issuer.token(&no_secret), Err(TokenError::InvalidClient));
        let anonymous = TokenRequest {
            grant_type: Some(CLIENT_CREDENTIALS.into()),
            ..TokenRequest::default()
        };
        assert_eq!(issuer.token(&anonymous), Err(TokenError::InvalidClient));
    }

    #[test]
    fn basic_credentials_work_and_must_not_conflict_with_form() {
        let issuer = issuer();
        let basic = TokenRequest {
            grant_type: Some(CLIENT_CREDENTIALS.into()),
            basic: Some(("reader".into(), "r".into())),
            ..TokenRequest::default()
        };
        assert!(issuer.token(&basic).is_ok());
        let mut conflicting = basic.clone();
        conflicting.client_id = Some("both".into());
        assert_eq!(issuer.token(&conflicting), Err(TokenError::InvalidRequest));
        // Both ways at once, as the AWS sample sends them: fine when they agree.
        let mut both_ways = basic.clone();
        both_ways.client_id = Some("reader".into());
        both_ways.client_secret = Some("r".into());
        assert!(issuer.token(&both_ways).is_ok());
        both_ways.client_secret = Some("other".into());
        assert_eq!(issuer.token(&both_ways), Err(TokenError::InvalidClient));
        let mut wrong = basic;
        wrong.basic = Some(("reader".into(), "x".into()));
        assert_eq!(issuer.token(&wrong), Err(TokenError::InvalidClient));
    }

    #[test]
    fn grant_types() {
        let issuer = issuer();
        let mut request = form("both", "s3cret", None);
        request.grant_type = None;
        assert_eq!(issuer.token(&request), Err(TokenError::InvalidRequest));
        request.grant_type = Some("password".into());
        assert_eq!(
            issuer.token(&request),
            Err(TokenError::UnsupportedGrantType)
        );
        request.grant_type = Some("refresh_token".into());
        assert_eq!(issuer.token(&request), Err(TokenError::UnauthorizedClient));
    }

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
        config.clients = vec![];
        assert_eq!(config.validate(), Err(ConfigError::NoClients));
        config.clients = client();
        config.token_lifetime = Duration::ZERO;
        assert_eq!(config.validate(), Err(ConfigError::TokenLifetime));
    }

    #[test]
    fn client_spec_parses() {
        assert_eq!(
            AppClient::parse_spec("id1:secret:a/read,b/write").unwrap(),
            AppClient::new("id1", "secret", ["a/read", "b/write"])
        );
        assert_eq!(
            AppClient::parse_spec("id2:secret2:")
                .unwrap()
                .allowed_scopes,
            Vec::<String>::new()
        );
        assert!(AppClient::parse_spec("only-an-id").is_err());
        assert!(!format!("{:?}", AppClient::new("i", "hidden", [READ])).contains("hidden"));
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
