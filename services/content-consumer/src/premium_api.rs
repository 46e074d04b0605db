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

/// The client of premium content: its URL, the HTTP clients and the token cache, and the scope
/// each request needs.
#[derive(Debug)]
pub(crate) struct PremiumApi {
    /// Pooled, kept-alive connections: every first attempt.
    pub http: reqwest::Client,
    /// No pooling (`pool_max_idle_per_host(0)`): the one retry of an idempotent request goes on
    /// a new connection, since the pooled ones beside a connection just reset most likely lead
    /// to the same stopping server.
    pub fresh: reqwest::Client,
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

    /// Sends one request within [`Self::timeout`] (the caller's deadline). An idempotent
    /// request (RFC 9110 section 9.2.2: GET, HEAD, ...) that failed before any response byte
    /// arrived (connection refused, reset or closed under it, as when premium content restarts)
    /// is sent once more, on a new connection, within what remains of that deadline; a POST
    /// never is.
    async fn send(
        &self,
        method: reqwest::Method,
        token: Option<&AccessToken>,
    ) -> Result<PremiumResponse, ConsumerError> {
        let deadline = Instant::now() + self.timeout;
        let first = self.attempt(&self.http, &method, token, self.timeout).await;
        let error = match first {
            Err(error) if method.is_idempotent() && failed_before_response(&error) => error,
            other => return self.answer(other),
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(ConsumerError::PremiumTimeout(self.timeout));
        }
        tracing::info!(%method, error = %self.transport_error(&error),
            "premium content failed before answering; retrying once on a new connection");
        let second = self.attempt(&self.fresh, &method, token, remaining).await;
        self.answer(second)
    }

    /// One request on `client` within `timeout`, body included: (status, body).
    async fn attempt(
        &self,
        client: &reqwest::Client,
        method: &reqwest::Method,
        token: Option<&AccessToken>,
        timeout: Duration,
    ) -> Result<(u16, web::Bytes), reqwest::Error> {
        let mut request = client
            .request(method.clone(), self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(timeout);
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
        if let Ok((status, _)) = &result {
            tracing::debug!(
                %method,
                url = %self.url,
                with_token = token.is_some(),
                status,
                elapsed_ms = elapsed.as_millis() as u64,
                "premium content answered"
            );
        }
        result
    }

    /// Premium content's answer, or the failure to report.
    fn answer(
        &self,
        result: Result<(u16, web::Bytes), reqwest::Error>,
    ) -> Result<PremiumResponse, ConsumerError> {
        let (status, body) = result.map_err(|e| self.transport_error(&e))?;
        if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
            return Err(ConsumerError::PremiumInvalidAnswer(status));
        }
        Ok(PremiumResponse {
            status: StatusCode::from_u16(status)
                .map_err(|_| ConsumerError::PremiumInvalidAnswer(status))?,
            body,
        })
    }

    /// The failure to report: a timeout names [`Self::timeout`], the time the caller waited,
    /// whichever attempt ran out of it.
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

/// Whether `error` came before any byte of a response: the connection could not be made, or was
/// reset or closed before the response began. Timeouts are not: the deadline is spent.
fn failed_before_response(error: &reqwest::Error) -> bool {
    if error.is_timeout() || error.is_body() || error.is_decode() {
        return false;
    }
    if error.is_connect() {
        return true;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(hyper) = current.downcast_ref::<hyper::Error>()
            && hyper.is_incomplete_message()
        {
            return true;
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::BrokenPipe
            )
        {
            return true;
        }
        cause = current.source();
    }
    false
}
