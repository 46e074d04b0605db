//! Probes: [`HEALTHZ_PATH`] (liveness) and [`READYZ_PATH`] (readiness: signing keys loaded, and
//! not shutting down).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use cognito_auth::verifier::Verifier;
use telemetry::shutdown::Draining;

use crate::routes::json;

/// Liveness: 200 while the process serves.
pub const HEALTHZ_PATH: &str = "/healthz";
/// Readiness: signing keys loaded (those of either issuer of the user pool), and no SIGTERM yet.
pub const READYZ_PATH: &str = "/readyz";

/// Registers both probes; `/readyz` asks the [`Verifier`] in the app data.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route(HEALTHZ_PATH, web::get().to(healthz))
        .route(READYZ_PATH, web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    json(StatusCode::OK, r#"{"status":"ok"}"#)
}

async fn readyz(verifier: web::Data<Verifier>, draining: web::Data<Draining>) -> HttpResponse {
    if draining.is_draining() {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"shutting down"}"#,
        );
    }
    if verifier.is_ready() {
        json(StatusCode::OK, r#"{"status":"ready"}"#)
    } else {
        json(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"signing keys not loaded"}"#,
        )
    }
}
