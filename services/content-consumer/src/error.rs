//! What can go wrong serving a request, and the one mapping from that to HTTP.
//!
//! | failure | status |
//! |---|---|
//! | token endpoint or premium content did not answer in time | 504 |
//! | token endpoint or premium content unreachable, 5xx from the token endpoint, an OAuth error (wrong secret, unknown scope, ...), an answer that is not what the protocol says | 502 |
//! | no usable credentials (folder incomplete, Secrets Manager unreachable), no token endpoint known | 503 |
//!
//! Premium content's own answers (401, 403, 200, even 500) pass through with their status; they
//! are not errors here.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use cognito_auth::token_cache::TokenCacheError;
use cognito_auth::token_client::TokenError;

/// Why a request could not be answered with premium content's answer.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// No token for the call.
    #[error(transparent)]
    Token(#[from] TokenCacheError),
    /// Premium content could not be reached.
    #[error("premium content unreachable: {0}")]
    PremiumUnreachable(String),
    /// Premium content did not answer in time.
    #[error("premium content did not answer within {0:?}")]
    PremiumTimeout(Duration),
    /// Premium content answered with something that is not JSON.
    #[error("premium content answered HTTP {0} with a body that is not JSON")]
    PremiumInvalidAnswer(u16),
}

impl ConsumerError {
    /// The status and `message` to answer with: the one place failures become HTTP.
    pub fn status_and_message(&self) -> (StatusCode, String) {
        match self {
            Self::Token(TokenCacheError::Credentials(error)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("client credentials unavailable: {error}"),
            ),
            Self::Token(TokenCacheError::NoTokenEndpoint) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "no Cognito token endpoint: the credentials name none (token_endpoint or user_pool_oauth2_endpoint) and COGNITO_TOKEN_URL is not set".to_owned(),
            ),
            Self::Token(TokenCacheError::Token(error)) => {
                let status = match error {
                    TokenError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
                    TokenError::InvalidEndpoint(_) => StatusCode::SERVICE_UNAVAILABLE,
                    TokenError::OAuth { .. }
                    | TokenError::ServerError { .. }
                    | TokenError::InvalidResponse { .. }
                    | TokenError::Unreachable(_) => StatusCode::BAD_GATEWAY,
                };
                (status, format!("Cognito {error}"))
            }
            Self::PremiumTimeout(_) => (StatusCode::GATEWAY_TIMEOUT, self.to_string()),
            Self::PremiumUnreachable(_) | Self::PremiumInvalidAnswer(_) => {
                (StatusCode::BAD_GATEWAY, self.to_string())
            }
        }
    }
}

impl ResponseError for ConsumerError {
    fn status_code(&self) -> StatusCode {
        self.status_and_message().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, message) = self.status_and_message();
        tracing::warn!(status = status.as_u16(), %message, "request failed");
        HttpResponse::build(status).json(serde_json::json!({ "message": message }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cognito_auth::token_client::OAuthErrorCode;

    #[test]
    fn failures_map_to_gateway_statuses() {
        let cases = [
            (
                ConsumerError::Token(TokenError::Timeout(Duration::from_secs(2)).into()),
                504,
                "Cognito token endpoint did not answer",
            ),
            (
                ConsumerError::Token(TokenError::ServerError { status: 500 }.into()),
                502,
                "Cognito token endpoint failed with HTTP 500",
            ),
            (
                ConsumerError::Token(
                    TokenError::OAuth {
                        code: OAuthErrorCode::InvalidClient,
                        status: 400,
                        description: None,
                    }
                    .into(),
                ),
                502,
                "invalid_client",
            ),
            (
                ConsumerError::Token(TokenCacheError::NoTokenEndpoint),
                503,
                "COGNITO_TOKEN_URL",
            ),
            (
                ConsumerError::PremiumUnreachable("Connection refused".into()),
                502,
                "premium content unreachable",
            ),
            (
                ConsumerError::PremiumTimeout(Duration::from_secs(5)),
                504,
                "premium content did not answer",
            ),
        ];
        for (error, status, text) in cases {
            let (got, message) = error.status_and_message();
            assert_eq!(got.as_u16(), status, "{message}");
            assert!(message.contains(text), "{message}");
        }
    }
}
