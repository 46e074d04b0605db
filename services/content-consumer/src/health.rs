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
    // Only what is held now: a probe's timeout is short, and a remote fetch may take up to
    // TOKEN_DEADLINE.
    match tokens.credentials().loaded() {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        Err(error) => {
            // A source that failed at start, such as an unreachable Secrets Manager, recovers
            // through the probes: each asks for one fetch in the background (shared with any in
            // flight, and not repeated within the failure cooldown).
            let tokens = tokens.into_inner();
            actix_web::rt::spawn(async move {
                let _ = tokens.credentials().current().await;
            });
            HttpResponse::ServiceUnavailable().json(serde_json::json!({
                "message": format!("client credentials not loaded: {error}")
            }))
        }
    }
}
