//! The admin port (`ADMIN_LISTEN_ADDR`), apart from the traffic port so that its paths never
//! shadow the upstream's: `/healthz` (liveness), `/readyz` (a policy in use whose every user
//! pool has its signing keys, and no SIGTERM yet), `/metrics` (Prometheus).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use cognito_auth_actix::SharedAuthorizer;
use telemetry::shutdown::Draining;

use crate::metrics::Metrics;

/// Liveness: 200 while the process serves.
pub const HEALTHZ_PATH: &str = "/healthz";
/// Readiness.
pub const READYZ_PATH: &str = "/readyz";
/// Prometheus metrics, in the OpenMetrics text format.
pub const METRICS_PATH: &str = "/metrics";

/// What the admin handlers read.
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    pub authorizer: SharedAuthorizer,
    pub metrics: Arc<Metrics>,
    pub draining: Draining,
}

/// Registers the three paths; anything else is 404.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route(HEALTHZ_PATH, web::get().to(healthz))
        .route(READYZ_PATH, web::get().to(readyz))
        .route(METRICS_PATH, web::get().to(scrape))
        .default_service(web::to(|| async {
            json(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#)
        }));
}

fn json(status: StatusCode, body: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::json())
        .body(body)
}

async fn healthz() -> HttpResponse {
    json(StatusCode::OK, r#"{"status":"ok"}"#)
}

async fn readyz(admin: web::Data<Admin>) -> HttpResponse {
    if admin.draining.is_draining() {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"shutting down"}"#,
        );
    }
    // A policy is always in use once started (start-up refuses a bad one): the keys decide.
    if admin.authorizer.current().verifier().is_ready() {
        json(StatusCode::OK, r#"{"status":"ready"}"#)
    } else {
        json(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"signing keys not loaded"}"#,
        )
    }
}

async fn scrape(admin: web::Data<Admin>) -> HttpResponse {
    match admin.metrics.encode() {
        Ok(text) => HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(text),
        Err(_) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"message":"metrics encoding failed"}"#,
        ),
    }
}
