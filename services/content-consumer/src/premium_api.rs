//! Premium content as this service calls it: the seed's three requests, with a cached
//! client-credentials token or none, and premium content's response kept as it came.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::web;
use cognito_auth::token_cache::TokenCache;
use cognito_auth::token_client::AccessToken;

use crate::error::ConsumerError;
use crate::metrics::{Metrics, Upstream};

/// Premium content's response, to be passed through as is.
#[derive(Debug)]
pub(crate) struct PremiumResponse {
    pub status: StatusCode,
    pub body: web::Bytes,
}

/// The client of premium content: its URL, the HTTP client and the token cache, and the scope
/// each request needs.
#[derive(Debug)]
pub(crate) struct PremiumApi {
    pub http: reqwest::Client,
    pub tokens: TokenCache,
    pub url: reqwest::Url,
    pub timeout: Duration,
    pub read_scopes: Vec<String>,
    pub write_scopes: Vec<String>,
    pub metrics: Arc<Metrics>,
}

impl PremiumApi {
    /// `GET` without a token (premium content should refuse it).
    pub async fn read_without_token(&self) -> Result<PremiumResponse, ConsumerError> {
        self.send(reqwest::Method::GET, None).await
    }

    /// `GET` with a token of the read scope.
    pub async fn read(&self) -> Result<PremiumResponse, ConsumerError> {
        self.send_with_token(reqwest::Method::GET, &self.read_scopes)
            .await
    }

    /// `POST` with a token of the write scope.
    pub async fn write(&self) -> Result<PremiumResponse, ConsumerError> {
        self.send_with_token(reqwest::Method::POST, &self.write_scopes)
            .await
    }

    /// Sends `method` with a cached token; if premium content answers 401 (the token was revoked
    /// or expired early), drops that token and tries once more with a fresh one.
    async fn send_with_token(
        &self,
        method: reqwest::Method,
        scopes: &[String],
    ) -> Result<PremiumResponse, ConsumerError> {
        let token = self.tokens.get(scopes).await?;
        let response = self.send(method.clone(), Some(&token)).await?;
        if response.status != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        self.tokens.invalidate(scopes, &token);
        let fresh = self.tokens.get(scopes).await?;
        if fresh == token {
            return Ok(response);
        }
        tracing::info!("premium content rejected a cached token; retried with a fresh one");
        self.send(method, Some(&fresh)).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        token: Option<&AccessToken>,
    ) -> Result<PremiumResponse, ConsumerError> {
        let mut request = self
            .http
            .request(method.clone(), self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(self.timeout);
        if let Some(token) = token {
            request = request.bearer_auth(token.expose());
        }
        let started = Instant::now();
        let result = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            Ok::<_, reqwest::Error>((status, response.bytes().await?))
        }
        .await;
        let elapsed = started.elapsed();
        self.metrics
            .observe_upstream(Upstream::PremiumContent, elapsed);
        let (status, body) = result.map_err(|e| self.transport_error(&e))?;
        tracing::debug!(
            %method,
            url = %self.url,
            with_token = token.is_some(),
            status,
            elapsed_ms = elapsed.as_millis() as u64,
            "premium content answered"
        );
        if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
            return Err(ConsumerError::PremiumInvalidAnswer(status));
        }
        Ok(PremiumResponse {
            status: StatusCode::from_u16(status)
                .map_err(|_| ConsumerError::PremiumInvalidAnswer(status))?,
            body,
        })
    }

    fn transport_error(&self, error: &reqwest::Error) -> ConsumerError {
        if error.is_timeout() {
            return ConsumerError::PremiumTimeout(self.timeout);
        }
        let mut cause: &dyn std::error::Error = error;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        ConsumerError::PremiumUnreachable(cause.to_string())
    }
}
