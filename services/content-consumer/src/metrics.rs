//! Prometheus metrics, one registry per service instance, and `/metrics` that serves them.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use cognito_auth::token_cache::{Lookup, TokenEvents};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LookupLabels {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    upstream: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResponseLabels {
    route: &'static str,
    status: String,
}

/// The upstream named in latency metrics.
#[derive(Debug, Clone, Copy)]
pub enum Upstream {
    /// Cognito's token endpoint.
    Cognito,
    /// Premium content.
    PremiumContent,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~16 s
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    token_requests: Family<OutcomeLabels, Counter>,
    token_lookups: Family<LookupLabels, Counter>,
    upstream_latency: Family<UpstreamLabels, Histogram, fn() -> Histogram>,
    responses: Family<ResponseLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("content_consumer");
        let token_requests = Family::<OutcomeLabels, Counter>::default();
        let token_lookups = Family::<LookupLabels, Counter>::default();
        let upstream_latency =
            Family::<UpstreamLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        let responses = Family::<ResponseLabels, Counter>::default();
        registry.register(
            "token_requests",
            "Requests to the token endpoint, by outcome (success or the error kind)",
            token_requests.clone(),
        );
        registry.register(
            "token_cache_lookups",
            "Token lookups: hit (cached), renewing (cached, renewal due), miss (had to wait for a request)",
            token_lookups.clone(),
        );
        registry.register_with_unit(
            "upstream_request_duration",
            "Duration of requests to Cognito and premium content",
            Unit::Seconds,
            upstream_latency.clone(),
        );
        registry.register(
            "responses",
            "Responses of the content routes, by route and status",
            responses.clone(),
        );
        Self {
            registry,
            token_requests,
            token_lookups,
            upstream_latency,
            responses,
        }
    }

    /// Records one call to an upstream.
    pub fn observe_upstream(&self, upstream: Upstream, elapsed: Duration) {
        let upstream = match upstream {
            Upstream::Cognito => "cognito",
            Upstream::PremiumContent => "premium_content",
        };
        self.upstream_latency
            .get_or_create(&UpstreamLabels { upstream })
            .observe(elapsed.as_secs_f64());
    }

    /// Records one answer of a content route.
    pub fn observe_response(&self, route: &'static str, status: u16) {
        self.responses
            .get_or_create(&ResponseLabels {
                route,
                status: status.to_string(),
            })
            .inc();
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}

/// Registers `/metrics`; it encodes the [`Metrics`] in the app data.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.route("/metrics", web::get().to(scrape));
}

async fn scrape(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.encode())
}

impl TokenEvents for Metrics {
    fn token_request(&self, outcome: &str, elapsed: Duration) {
        self.token_requests
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
        self.observe_upstream(Upstream::Cognito, elapsed);
    }

    fn lookup(&self, lookup: Lookup) {
        self.token_lookups
            .get_or_create(&LookupLabels {
                result: lookup.as_str(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_token_and_cache_counters() {
        let metrics = Metrics::new();
        metrics.token_request("success", Duration::from_millis(3));
        metrics.token_request("invalid_client", Duration::from_millis(3));
        metrics.lookup(Lookup::Hit);
        metrics.lookup(Lookup::Hit);
        metrics.observe_response("authorized-read", 200);
        let text = metrics.encode();
        assert!(
            text.contains(r#"content_consumer_token_requests_total{outcome="success"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"content_consumer_token_requests_total{outcome="invalid_client"} 1"#)
        );
        assert!(text.contains(r#"content_consumer_token_cache_lookups_total{result="hit"} 2"#));
        assert!(text.contains(
            r#"content_consumer_upstream_request_duration_seconds_count{upstream="cognito"} 2"#
        ));
        assert!(text.contains(
            r#"content_consumer_responses_total{route="authorized-read",status="200"} 1"#
        ));
    }
}
