//! Probes: `/healthz` (liveness) and `/readyz` (readiness: client credentials loaded).

use actix_web::{HttpResponse, web};
use cognito_auth::token_cache::TokenCache;

/// Registers both probes; `/readyz` asks the [`TokenCache`] in the app data.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(tokens: web::Data<TokenCache>) -> HttpResponse {
    // Asking for the credentials (not just peeking) lets a source that failed at startup, such
    // as an unreachable Secrets Manager, recover through the readiness probe.
    match tokens.credentials().current().await {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        Err(error) => HttpResponse::ServiceUnavailable().json(serde_json::json!({
            "message": format!("client credentials not loaded: {error}")
        })),
    }
}
