//! Probes: `/healthz` (liveness) and `/readyz` (readiness: client credentials loaded, and not
//! shutting down).

use actix_web::{HttpResponse, web};
use cognito_auth::token_cache::TokenCache;
use telemetry::shutdown::Draining;

/// Registers both probes; `/readyz` asks the [`TokenCache`] in the app data.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(tokens: web::Data<TokenCache>, draining: web::Data<Draining>) -> HttpResponse {
    if draining.is_draining() {
        return HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "status": "shutting down" }));
    }
    // Only what is held now: a probe's timeout is short, and a remote fetch may take up to
    // TOKEN_DEADLINE.
    match tokens.credentials().loaded() {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        Err(error) => {
            // A source that failed at start, such as an unreachable Secrets Manager, recovers
            // through the probes.
            tokens.load_credentials_in_background();
            HttpResponse::ServiceUnavailable().json(serde_json::json!({
                "message": format!("client credentials not loaded: {error}")
            }))
        }
    }
}
