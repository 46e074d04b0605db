//! OAuth2 client-credentials requests to a Cognito-style `/oauth2/token` endpoint.
//!
//! One request, one answer: retries, caching and credential reloads live in
//! [`crate::token_cache`]. The HTTP client is passed in so that a service shares one connection
//! pool between Cognito and whatever it calls with the token.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::credentials::ClientCredentials;

/// Lifetime assumed when the endpoint omits `expires_in` (RFC 6749 only recommends it); short on
/// purpose, so a token of unknown lifetime is renewed early rather than used after it expired.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

/// Bodies larger than this are not token responses; reading stops there.
const MAX_BODY: usize = 64 * 1024;

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

/// A successful token response.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: AccessToken,
    /// How long the token is valid, counted from when the request was sent.
    pub expires_in: Duration,
    /// The scopes granted, when the endpoint says (space separated).
    pub scope: Option<String>,
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

    /// Asks `endpoint` for a token with `scopes` (RFC 6749 section 4.4), authenticating with HTTP
    /// Basic; the whole exchange, body included, must finish within `timeout`.
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
        let mut form = vec![("grant_type", "client_credentials".to_owned())];
        if !scopes.is_empty() {
            form.push(("scope", scopes.join(" ")));
        }
        let exchange = async {
            let response = self
                .http
                .post(url)
                .header(
                    reqwest::header::AUTHORIZATION,
                    basic_authorization(&credentials.client_id, &credentials.client_secret),
                )
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
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

/// Reads at most [`MAX_BODY`] bytes of the body.
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_BODY {
            break;
        }
    }
    Ok(body)
}

/// Turns a token endpoint's HTTP status and body (at most 64 KiB are read) into a token (RFC 6749
/// section 5.1) or a typed error: 4xx with an OAuth error body (section 5.2), 5xx, or anything
/// else as [`TokenError::InvalidResponse`]. Public so the fuzz targets can reach it without HTTP.
pub fn interpret(status: u16, body: &[u8]) -> Result<TokenResponse, TokenError> {
    #[derive(Deserialize)]
    struct Success {
        access_token: String,
        token_type: Option<String>,
        expires_in: Option<u64>,
        scope: Option<String>,
    }
    #[derive(Deserialize)]
    struct Failure {
        error: String,
        error_description: Option<String>,
    }
    let invalid = |reason: &str| TokenError::InvalidResponse {
        status,
        reason: reason.to_owned(),
    };
    if status >= 500 {
        return Err(TokenError::ServerError { status });
    }
    if (200..300).contains(&status) {
        let success: Success =
            serde_json::from_slice(body).map_err(|_| invalid("not a JSON token response"))?;
        if success.access_token.is_empty() {
            return Err(invalid("empty access_token"));
        }
        if let Some(kind) = &success.token_type
            && !kind.eq_ignore_ascii_case("bearer")
        {
            return Err(invalid("token_type is not Bearer"));
        }
        return Ok(TokenResponse {
            access_token: AccessToken(success.access_token),
            expires_in: success
                .expires_in
                .map_or(DEFAULT_LIFETIME, Duration::from_secs),
            scope: success.scope,
        });
    }
    match serde_json::from_slice::<Failure>(body) {
        Ok(failure) if (400..500).contains(&status) => Err(TokenError::OAuth {
            code: OAuthErrorCode::parse(&failure.error),
            status,
            description: failure.error_description,
        }),
        Ok(_) => Err(invalid("unexpected status")),
        Err(_) => Err(invalid("not an OAuth error body")),
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

/// `Authorization: Basic ...` for a client id and secret, form-encoded first as RFC 6749 section
/// 2.3.1 requires (so a `:` in the id cannot split it).
pub fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    let pair = format!("{}:{}", form_encode(client_id), form_encode(client_secret));
    format!("Basic {}", STANDARD.encode(pair))
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_form_encodes_id_and_secret() {
        let header = basic_authorization("my:client", "s3cr+t/=é x");
        let encoded = header.strip_prefix("Basic ").unwrap();
        let decoded = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
        assert_eq!(decoded, "my%3Aclient:s3cr%2Bt%2F%3D%C3%A9+x");
        // Cognito's own ids and secrets are alphanumeric: encoding leaves them untouched.
        let plain = basic_authorization("1example23456789", "abcDEF123");
        assert_eq!(
            plain,
            format!("Basic {}", STANDARD.encode("1example23456789:abcDEF123"))
        );
    }

    #[test]
    fn success_body_becomes_a_token() {
        let token = interpret(
            200,
            br#"{"access_token":"eyJ","expires_in":3600,"token_type":"Bearer","scope":"a/read"}"#,
        )
        .unwrap();
        assert_eq!(token.access_token.expose(), "eyJ");
        assert_eq!(token.expires_in, Duration::from_secs(3600));
        assert_eq!(token.scope.as_deref(), Some("a/read"));
        let no_lifetime = interpret(200, br#"{"access_token":"x"}"#).unwrap();
        assert_eq!(no_lifetime.expires_in, DEFAULT_LIFETIME);
    }

    #[test]
    fn oauth_error_bodies_are_typed() {
        for (code, expected) in [
            ("invalid_client", OAuthErrorCode::InvalidClient),
            ("invalid_scope", OAuthErrorCode::InvalidScope),
            ("unauthorized_client", OAuthErrorCode::UnauthorizedClient),
            ("invalid_request", OAuthErrorCode::InvalidRequest),
            ("invalid_grant", OAuthErrorCode::InvalidGrant),
            (
                "unsupported_grant_type",
                OAuthErrorCode::UnsupportedGrantType,
            ),
            ("slow_down", OAuthErrorCode::Other("slow_down".into())),
        ] {
            let body = format!(r#"{{"error":"{code}"}}"#);
            let err = interpret(400, body.as_bytes()).unwrap_err();
            assert_eq!(
                err,
                TokenError::OAuth {
                    code: expected,
                    status: 400,
                    description: None
                }
            );
            assert!(!err.is_transient(), "{code} must not be retried");
        }
    }

    #[test]
    fn server_errors_and_garbage_are_distinguished() {
        let err = interpret(503, b"<html>oops</html>").unwrap_err();
        assert_eq!(err, TokenError::ServerError { status: 503 });
        assert!(err.is_transient());
        let err = interpret(200, b"<html>login</html>").unwrap_err();
        assert!(matches!(
            err,
            TokenError::InvalidResponse { status: 200, .. }
        ));
        assert!(!err.is_transient());
        let err = interpret(403, b"Forbidden").unwrap_err();
        assert!(matches!(
            err,
            TokenError::InvalidResponse { status: 403, .. }
        ));
        let err = interpret(200, br#"{"access_token":"x","token_type":"mac"}"#).unwrap_err();
        assert!(matches!(err, TokenError::InvalidResponse { .. }));
    }

    #[test]
    fn debug_of_a_token_hides_it() {
        let token = AccessToken::new("eyJhbGciOi.secret.sig");
        assert!(!format!("{token:?}").contains("eyJ"));
    }
}
