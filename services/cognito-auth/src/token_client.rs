//! OAuth2 client-credentials requests to a Cognito-style `/oauth2/token` endpoint.
//!
//! One request, one answer: retries, caching and credential reloads live in
//! [`crate::token_cache`]. The HTTP client is passed in so that a service shares one connection
//! pool between Cognito and whatever it calls with the token. Client authentication and the
//! reading of the answer have rooms of their own (`authentication`, `response`).

use std::fmt;
use std::time::Duration;

use crate::credentials::ClientCredentials;

mod authentication;
mod response;

pub use authentication::ClientAuthentication;
use response::read_limited;
pub use response::{TokenResponse, interpret};

/// A bearer access token. `Debug` never shows it, and it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a token string.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, for an `Authorization: Bearer` header. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// The `error` codes of RFC 6749 section 5.2, plus whatever else an endpoint invents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`: unknown client or wrong secret.
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`: the client may not use this grant type.
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`: a requested scope is unknown or not allowed for this client.
    InvalidScope,
    /// Any other code, kept verbatim.
    Other(String),
}

impl OAuthErrorCode {
    /// Maps an `error` field to its code.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a token request failed. Messages never contain the client secret or a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The endpoint answered with an OAuth error body (`{"error": "..."}`) and a 4xx status.
    #[error("token endpoint refused the request: {code} (HTTP {status})")]
    OAuth {
        /// The `error` code.
        code: OAuthErrorCode,
        /// The HTTP status it came with.
        status: u16,
        /// `error_description`, when given (kept out of `Display`).
        description: Option<String>,
    },
    /// The endpoint failed with a 5xx status.
    #[error("token endpoint failed with HTTP {status}")]
    ServerError {
        /// The HTTP status.
        status: u16,
    },
    /// The answer is neither a token response nor an OAuth error (HTML error page, proxy, ...).
    #[error("token endpoint gave an invalid answer (HTTP {status}): {reason}")]
    InvalidResponse {
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
        reason: String,
    },
    /// No complete answer within the time allowed.
    #[error("token endpoint did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection could not be made or broke before an answer.
    #[error("token endpoint unreachable: {0}")]
    Unreachable(String),
    /// The token endpoint URL is not usable.
    #[error("token endpoint URL is invalid: {0}")]
    InvalidEndpoint(String),
}

impl TokenError {
    /// Whether trying again may help: timeouts, connection failures and 5xx, never a 4xx.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::ServerError { .. } | Self::Timeout(_) | Self::Unreachable(_)
        )
    }

    /// A short label for metrics: the OAuth code, or the kind of failure.
    pub fn outcome(&self) -> &str {
        match self {
            Self::OAuth { code, .. } => match code {
                OAuthErrorCode::Other(_) => "other_oauth_error",
                known => known.as_str(),
            },
            Self::ServerError { .. } => "server_error",
            Self::InvalidResponse { .. } => "invalid_response",
            Self::Timeout(_) => "timeout",
            Self::Unreachable(_) => "unreachable",
            Self::InvalidEndpoint(_) => "invalid_endpoint",
        }
    }
}

/// Sends client-credentials token requests over a shared HTTP client.
#[derive(Debug, Clone)]
pub struct TokenClient {
    http: reqwest::Client,
}

impl TokenClient {
    /// A client sending its requests through `http` (and its connection pool).
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }

    /// Asks `endpoint` for a token with `scopes` (RFC 6749 section 4.4.2: `POST`, form body with
    /// `grant_type=client_credentials` and `scope` when scopes are asked for, `Accept:
    /// application/json`), authenticating as [`ClientAuthentication::for_client`] says; the whole
    /// exchange, body included, must finish within `timeout`.
    pub async fn request_token(
        &self,
        endpoint: &str,
        credentials: &ClientCredentials,
        scopes: &[String],
        timeout: Duration,
    ) -> Result<TokenResponse, TokenError> {
        let url = reqwest::Url::parse(endpoint)
            .map_err(|e| TokenError::InvalidEndpoint(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TokenError::InvalidEndpoint(format!(
                "scheme {} is not http or https",
                url.scheme()
            )));
        }
        let mut form = vec![("grant_type", "client_credentials")];
        let scope = scopes.join(" ");
        if !scopes.is_empty() {
            form.push(("scope", &scope));
        }
        let mut request = self
            .http
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json");
        match ClientAuthentication::for_client(&credentials.client_id, &credentials.client_secret) {
            ClientAuthentication::Basic(header) => {
                request = request.header(reqwest::header::AUTHORIZATION, header);
            }
            ClientAuthentication::Post => {
                form.push(("client_id", &credentials.client_id));
                form.push(("client_secret", &credentials.client_secret));
            }
        }
        // `form` sets `Content-Type: application/x-www-form-urlencoded`, as Cognito requires.
        let request = request.form(&form);
        let exchange = async {
            let response = request
                .send()
                .await
                .map_err(|e| transport_error(&e, timeout))?;
            let status = response.status().as_u16();
            let body = read_limited(response)
                .await
                .map_err(|e| transport_error(&e, timeout))?;
            interpret(status, &body)
        };
        // The client's own timeout could be longer (it is shared with other traffic), so the
        // deadline for this exchange is enforced here, body included.
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(TokenError::Timeout(timeout)),
        }
    }
}

/// Classifies a transport failure without echoing anything but the error kind.
fn transport_error(error: &reqwest::Error, timeout: Duration) -> TokenError {
    if error.is_timeout() {
        return TokenError::Timeout(timeout);
    }
    // The innermost cause is the useful part ("Connection refused"); the outer layers repeat the
    // URL, which is not secret but is already known to whoever reads the message.
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    TokenError::Unreachable(cause.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_token_hides_it() {
        let token = AccessToken::new("eyJhbGciOi.secret.sig");
        assert!(!format!("{token:?}").contains("eyJ"));
    }
}
