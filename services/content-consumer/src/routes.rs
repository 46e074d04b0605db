//! The HTTP routes: three content routes calling premium content, plus health and metrics.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use cognito_auth::token_cache::TokenCache;
use cognito_auth::token_client::AccessToken;

use crate::error::ConsumerError;
use crate::metrics::{Metrics, Upstream};

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    pub http: reqwest::Client,
    pub tokens: TokenCache,
    pub premium_api_url: reqwest::Url,
    pub premium_api_timeout: Duration,
    pub read_scopes: Vec<String>,
    pub write_scopes: Vec<String>,
    pub metrics: Arc<Metrics>,
}

/// Premium content's answer, passed through as is.
struct Answer {
    status: StatusCode,
    body: web::Bytes,
}

impl Answer {
    fn into_response(self) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type("application/json")
            .body(self.body)
    }
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/content/unauthorized-read",
        web::get().to(unauthorized_read),
    )
    .route("/content/authorized-read", web::get().to(authorized_read))
    // The contract says GET; POST is accepted too, as it is what the route does upstream.
    .route("/content/authorized-write", web::get().to(authorized_write))
    .route(
        "/content/authorized-write",
        web::post().to(authorized_write),
    )
    .route("/healthz", web::get().to(healthz))
    .route("/readyz", web::get().to(readyz))
    .route("/metrics", web::get().to(metrics));
}

async fn unauthorized_read(state: web::Data<AppState>) -> Result<HttpResponse, ConsumerError> {
    let result = state.call(reqwest::Method::GET, None).await;
    state.respond("unauthorized-read", result)
}

async fn authorized_read(state: web::Data<AppState>) -> Result<HttpResponse, ConsumerError> {
    let result = state
        .call_with_token(reqwest::Method::GET, &state.read_scopes)
        .await;
    state.respond("authorized-read", result)
}

async fn authorized_write(state: web::Data<AppState>) -> Result<HttpResponse, ConsumerError> {
    let result = state
        .call_with_token(reqwest::Method::POST, &state.write_scopes)
        .await;
    state.respond("authorized-write", result)
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    // Asking for the credentials (not just peeking) lets a source that failed at startup, such
    // as an unreachable Secrets Manager, recover through the readiness probe.
    match state.tokens.credentials().current().await {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        Err(error) => HttpResponse::ServiceUnavailable().json(serde_json::json!({
            "message": format!("client credentials not loaded: {error}")
        })),
    }
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.encode())
}

impl AppState {
    fn respond(
        &self,
        route: &'static str,
        result: Result<Answer, ConsumerError>,
    ) -> Result<HttpResponse, ConsumerError> {
        let status = match &result {
            Ok(answer) => answer.status,
            Err(error) => error.status_and_message().0,
        };
        self.metrics.observe_response(route, status.as_u16());
        result.map(Answer::into_response)
    }

    /// Calls premium content with a cached token; if it answers 401 (the token was revoked or
    /// expired early), drops that token and tries once more with a fresh one.
    async fn call_with_token(
        &self,
        method: reqwest::Method,
        scopes: &[String],
    ) -> Result<Answer, ConsumerError> {
        let token = self.tokens.get(scopes).await?;
        let answer = self.call(method.clone(), Some(&token)).await?;
        if answer.status != StatusCode::UNAUTHORIZED {
            return Ok(answer);
        }
        self.tokens.invalidate(scopes, &token);
        let fresh = self.tokens.get(scopes).await?;
        if fresh == token {
            return Ok(answer);
        }
        tracing::info!("premium content rejected a cached token; retried with a fresh one");
        self.call(method, Some(&fresh)).await
    }

    async fn call(
        &self,
        method: reqwest::Method,
        token: Option<&AccessToken>,
    ) -> Result<Answer, ConsumerError> {
        let mut request = self
            .http
            .request(method.clone(), self.premium_api_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(self.premium_api_timeout);
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
            url = %self.premium_api_url,
            with_token = token.is_some(),
            status,
            elapsed_ms = elapsed.as_millis() as u64,
            "premium content answered"
        );
        if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
            return Err(ConsumerError::PremiumInvalidAnswer(status));
        }
        Ok(Answer {
            status: StatusCode::from_u16(status)
                .map_err(|_| ConsumerError::PremiumInvalidAnswer(status))?,
            body,
        })
    }

    fn transport_error(&self, error: &reqwest::Error) -> ConsumerError {
        if error.is_timeout() {
            return ConsumerError::PremiumTimeout(self.premium_api_timeout);
        }
        let mut cause: &dyn std::error::Error = error;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        ConsumerError::PremiumUnreachable(cause.to_string())
    }
}
