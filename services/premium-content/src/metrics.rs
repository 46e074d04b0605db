//! Prometheus metrics of one service instance (its own registry: no global state): what is
//! counted, the middleware that counts every request, and [`METRICS_PATH`] that serves them.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use cognito_auth::verifier::{Rejection, Verifier};
use cognito_auth_actix::Verdict;
use cognito_auth_actix::verifier_metrics::VerifierCollector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::health::{HEALTHZ_PATH, READYZ_PATH};
use crate::routes::{PREMIUM_PATH, json};

/// Prometheus metrics, in the OpenMetrics text format.
pub const METRICS_PATH: &str = "/metrics";

/// The route labels: every path served, anything else is `unmatched`.
const ROUTES: [&str; 4] = [PREMIUM_PATH, HEALTHZ_PATH, READYZ_PATH, METRICS_PATH];

/// Labels of a served request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Matched route pattern, or `unmatched`.
    pub route: &'static str,
    /// HTTP method (the common ones; anything else is `other`).
    pub method: &'static str,
    /// Response status code.
    pub status: u16,
}

/// Labels of a refused request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// Why it was refused (`Denial::reason`: `Rejection::reason`, `missing_token`,
    /// `insufficient_scope`, `no_rule`, `invalid_path`).
    pub reason: &'static str,
}

/// The instance's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    rejections: Family<ReasonLabels, Counter>,
    verification: Histogram,
}

impl Metrics {
    /// Registers every metric, including the JWKS and verified-token cache counters read from
    /// `verifier` at scrape time.
    pub fn new(verifier: Arc<Verifier>) -> Self {
        let mut registry = Registry::with_prefix("premium_content");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests served, by route, method and status",
            requests.clone(),
        );
        let rejections = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "auth_rejections",
            "Requests refused by authentication or authorisation, by reason",
            rejections.clone(),
        );
        // Pre-create every reason so dashboards see zeros rather than missing series.
        for rejection in Rejection::ALL {
            let _ = rejections.get_or_create(&ReasonLabels {
                reason: rejection.reason(),
            });
        }
        for reason in ["missing_token", "insufficient_scope"] {
            let _ = rejections.get_or_create(&ReasonLabels { reason });
        }
        // 2 µs .. ~65 ms: a cached hit is microseconds, an RSA check tens of them, and anything
        // near the top means a JWKS refetch was waited for.
        let verification = Histogram::new(exponential_buckets(2e-6, 2.0, 16));
        registry.register(
            "token_verification_seconds",
            "Time to verify a presented token (including any JWKS refetch it waited for)",
            verification.clone(),
        );
        registry.register_collector(Box::new(VerifierCollector::new(move || verifier.clone())));
        Self {
            registry,
            requests,
            rejections,
            verification,
        }
    }

    /// Counts a served request.
    pub fn request(&self, route: &'static str, method: &'static str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }

    /// Counts a refusal.
    pub fn rejection(&self, reason: &'static str) {
        self.rejections
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Records how long a verification took.
    pub fn verification(&self, took: Duration) {
        self.verification.observe(took.as_secs_f64());
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Registers [`METRICS_PATH`]; it encodes the [`Metrics`] in the app data.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.route(METRICS_PATH, web::get().to(scrape));
}

async fn scrape(metrics: web::Data<Metrics>) -> HttpResponse {
    match metrics.encode() {
        Ok(text) => HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(text),
        Err(_) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"message":"metrics encoding failed"}"#,
        ),
    }
}

/// Middleware (`actix_web::middleware::from_fn`) counting every request served, by route,
/// method and status, in the [`Metrics`] of the app data.
pub(crate) async fn count_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = method_label(request.method());
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    let response = next.call(request).await?;
    if let Some(metrics) = metrics {
        let route = route_label(response.request().match_pattern().as_deref());
        metrics.request(route, method, response.status().as_u16());
        // The Authorize middleware's verdict on a protected route.
        if let Some(verdict) = response.response().extensions().get::<Verdict>() {
            if let Some(took) = verdict.verification {
                metrics.verification(took);
            }
            if let Some(denial) = &verdict.denial {
                metrics.rejection(denial.reason());
            }
        }
    }
    Ok(response)
}

fn route_label(pattern: Option<&str>) -> &'static str {
    pattern
        .and_then(|pattern| ROUTES.into_iter().find(|route| *route == pattern))
        .unwrap_or("unmatched")
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_are_bounded() {
        assert_eq!(route_label(Some("/home/premium")), "/home/premium");
        assert_eq!(route_label(Some("/metrics")), "/metrics");
        assert_eq!(route_label(Some("/home/premium/../x")), "unmatched");
        assert_eq!(route_label(None), "unmatched");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
