//! Development and tests only: the client-credentials grant with Cognito's rules and errors
//! (RFC 6749 section 4.4, as Cognito's token endpoint documentation describes it).

use serde::Serialize;

use crate::issuer::Issuer;
use crate::pool::Grantee;

/// The only grant this issuer serves.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

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

impl Issuer {
    /// Serves the client-credentials grant as Cognito does: checks the grant type, authenticates
    /// the client against the pool's current clients and secrets, checks that it may use the
    /// grant and the requested scopes against its `AllowedOAuthScopes` (no scope = all of
    /// them). The token lasts the client's `AccessTokenValidity`, else the configured lifetime.
    pub fn token(&self, request: &TokenRequest) -> Result<TokenResponse, TokenError> {
        let grant_type = match request.grant_type.as_deref() {
            None | Some("") => return Err(TokenError::InvalidRequest),
            Some(g @ (CLIENT_CREDENTIALS | "authorization_code" | "refresh_token")) => g,
            Some(_) => return Err(TokenError::UnsupportedGrantType),
        };
        let client = self.authenticate(request)?;
        if grant_type != CLIENT_CREDENTIALS || !client.client_credentials {
            return Err(TokenError::UnauthorizedClient);
        }
        let scopes = grant_scopes(&client, request.scope.as_deref())?;
        let lifetime = client
            .access_token_lifetime
            .unwrap_or(self.config.token_lifetime);
        Ok(TokenResponse {
            access_token: self
                .claims_for(&client.client_id, &scopes, lifetime)
                .sign(self.signing_key()),
            expires_in: lifetime.as_secs(),
            token_type: "Bearer",
        })
    }

    fn authenticate(&self, request: &TokenRequest) -> Result<Grantee, TokenError> {
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
        self.pool
            .authenticate(id, secret)
            .ok_or(TokenError::InvalidClient)
    }
}

/// The scopes to grant: the requested ones when all are allowed, all allowed ones when none is
/// requested.
fn grant_scopes<'a>(
    client: &'a Grantee,
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
    use crate::issuer::fixtures::{WRITE, issuer, payload};

    fn form(id: &str, secret: &str, scope: Option<&str>) -> TokenRequest {
        TokenRequest {
            grant_type: Some(CLIENT_CREDENTIALS.into()),
            client_id: Some(id.into()),
            client_secret: Some(secret.into()),
            scope: scope.map(Into::into),
            ..TokenRequest::default()
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
}
