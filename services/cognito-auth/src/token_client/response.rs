//! Reading the token endpoint's answer: a token response (RFC 6749 section 5.1) or an error
//! response (section 5.2), and everything else typed as what it is.

use std::time::Duration;

use serde::Deserialize;

use super::{AccessToken, OAuthErrorCode, TokenError};

/// Lifetime assumed when the endpoint omits `expires_in` (RFC 6749 only recommends it); short on
/// purpose, so a token of unknown lifetime is renewed early rather than used after it expired.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

/// Bodies larger than this are not token responses; reading stops there.
const MAX_BODY: usize = 64 * 1024;

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

/// Reads at most [`MAX_BODY`] bytes of the body.
pub(super) async fn read_limited(
    mut response: reqwest::Response,
) -> Result<Vec<u8>, reqwest::Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        // RFC 6749 section 5.1: token_type is case-insensitive.
        for kind in ["bearer", "BEARER", "Bearer"] {
            let body = format!(r#"{{"access_token":"x","token_type":"{kind}","expires_in":60}}"#);
            assert!(interpret(200, body.as_bytes()).is_ok(), "{kind}");
        }
    }

    #[test]
    fn invalid_client_is_typed_whether_it_comes_with_400_or_401() {
        // Cognito answers 400 for every token error; RFC 6749 section 5.2 has servers answer 401
        // when the client authenticated with HTTP Basic. Both mean the same thing here.
        for status in [400, 401] {
            let err = interpret(
                status,
                br#"{"error":"invalid_client","error_description":"x"}"#,
            )
            .unwrap_err();
            assert_eq!(
                err,
                TokenError::OAuth {
                    code: OAuthErrorCode::InvalidClient,
                    status,
                    description: Some("x".into()),
                }
            );
        }
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
}
